import { CofferError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { ResponseStage } from '../pipeline.js';
import type { CoreResponse } from '../request.js';
import type { TokenStore } from '../tokens/store.js';
import type { ExpirationManager, IssuingMount } from './manager.js';

export interface LeaseStageDeps {
  readonly leases: Pick<ExpirationManager, 'register'>;
  /** The mount a full request path routes to. */
  readonly mountOf: (path: string) => IssuingMount | undefined;
  readonly tokens: Pick<TokenStore, 'lookup'>;
  readonly logger: Logger;
}

/**
 * Turns a backend's `lease: {ttl, renewable, internal}` into a registered lease and the
 * `secret` the envelope renders (lease_id, lease_duration, renewable). Runs before wrapping.
 */
export function leaseStage(deps: LeaseStageDeps): ResponseStage {
  return {
    async process(res: CoreResponse, ctx): Promise<CoreResponse> {
      if (!res.lease) return res;
      const { lease, ...rest } = res;
      const issuer = deps.mountOf(ctx.path);
      if (!issuer) throw new CofferError('internal', 'a leased response came from no mount');
      // Leases belong to the token that obtained them; a batch token's go to its parent and
      // never outlive the batch token itself.
      let tokenId: string | null = null;
      let tokenExpireAt: number | null = null;
      let notAfter: number | undefined;
      const entry = ctx.caller ? await deps.tokens.lookup(ctx.caller.token) : undefined;
      if (entry?.type === 'batch') {
        tokenId = entry.parentId;
        notAfter = entry.expireAt ?? undefined;
      } else if (entry) {
        tokenId = entry.id;
        tokenExpireAt = entry.expireAt;
      }
      const input = {
        path: ctx.path, mount: issuer.info, namespace: ctx.req.namespace, tokenId, tokenExpireAt,
        ...(notAfter === undefined ? {} : { notAfter }),
        ttl: lease.ttl, maxTtl: lease.maxTtl ?? 0, renewable: lease.renewable, internal: lease.internal ?? {},
      };
      try {
        const { record, warnings } = await deps.leases.register(input);
        const ttl = Math.max(0, Math.round((record.expireTime - record.issueTime) / 1000));
        const allWarnings = [...(rest.warnings ?? []), ...warnings];
        return {
          ...rest,
          secret: { leaseId: record.id, ttl, renewable: record.renewable },
          ...(allWarnings.length > 0 ? { warnings: allWarnings } : {}),
        };
      } catch (error) {
        // Over the cap (or a storage failure): the backend already made the secret, so undo it.
        await undo(deps, issuer, input, error);
        throw error;
      }
    },
  };
}

async function undo(deps: LeaseStageDeps, issuer: IssuingMount, input: Parameters<ExpirationManager['register']>[0], cause: unknown): Promise<void> {
  const now = Date.now();
  try {
    await issuer.backend.secrets?.revoke?.({ leaseId: '', internal: input.internal, issueTime: now, expireTime: now, ttl: 0 });
  } catch (error) {
    if (cause instanceof CofferError && cause.code === 'rate_limited') {
      // Could not undo: track it past the cap, already expired, so it is revoked with retries.
      await deps.leases.register({ ...input, ttl: 1, ignoreCap: true, notAfter: now }).catch(() => undefined);
    }
    deps.logger.error({ path: input.path, err: { message: error instanceof Error ? error.message : String(error) } }, 'could not undo a secret whose lease was refused');
  }
}
