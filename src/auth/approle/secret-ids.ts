import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { duration, int, strings } from '../../core/fields.js';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import { CofferError, invalid, notFound } from '../../util/errors.js';
import { requireRole, roleName } from './roles.js';
import { MAX_HMAC_INPUT, cidrList, cidrSubset, hmac, isExpired, type AppRole, type AppRoleStore, type SecretIdEntry } from './store.js';

/** Secret-ID metadata: a JSON object of strings (hvac sends one as text), or "k=v,k2=v2". */
const metadataField = () => z.unknown().transform((v, ctx) => {
  let value: unknown = v;
  if (typeof v === 'string') {
    const text = v.trim();
    if (text === '') return {};
    if (text.startsWith('{')) {
      try { value = JSON.parse(text); } catch { ctx.addIssue({ code: 'custom', message: 'must be a JSON object of strings' }); return z.NEVER; }
    } else {
      const out: Record<string, string> = {};
      for (const pair of text.split(',')) {
        const eq = pair.indexOf('=');
        if (eq <= 0) { ctx.addIssue({ code: 'custom', message: 'must be a JSON object or key=value pairs' }); return z.NEVER; }
        out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
      }
      return out;
    }
  }
  const parsed = z.record(z.string(), z.string()).safeParse(value);
  if (!parsed.success) { ctx.addIssue({ code: 'custom', message: 'must be a map of strings' }); return z.NEVER; }
  return parsed.data;
});

const issueFields = z.object({
  secret_id: z.string().optional(),
  metadata: metadataField().optional(),
  cidr_list: strings().optional(),
  token_bound_cidrs: strings().optional(),
  num_uses: int().optional(),
  ttl: duration().optional(),
});
type IssueFields = z.output<typeof issueFields>;

/** Go's zero time, which Vault shows for a secret ID that never expires. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

function entryData(e: SecretIdEntry): Record<string, unknown> {
  return {
    secret_id_accessor: e.accessor,
    secret_id_num_uses: e.numUses,
    secret_id_ttl: e.ttl,
    creation_time: new Date(e.creationTime).toISOString(),
    expiration_time: e.expirationTime > 0 ? new Date(e.expirationTime).toISOString() : ZERO_TIME,
    last_updated_time: new Date(e.lastUpdatedTime).toISOString(),
    metadata: { ...e.metadata },
    cidr_list: [...e.cidrList],
    token_bound_cidrs: [...e.tokenBoundCidrs],
  };
}

/** Generates (or, for custom-secret-id, takes) a secret ID under the role's limits. */
async function issue(store: AppRoleStore, ctx: HandlerContext<IssueFields>, secretId: string): Promise<CoreResponse> {
  const role = await requireRole(store, ctx);
  const d = ctx.data;
  if (secretId === '') throw invalid('missing secret_id');
  if (secretId.length > MAX_HMAC_INPUT) throw invalid(`secret_id is longer than maximum of ${MAX_HMAC_INPUT} bytes`);
  if (!role.bindSecretId) throw invalid('bind_secret_id is not set on the role');

  const cidrs = cidrList(d.cidr_list ?? [], 'cidr_list');
  if (!cidrSubset(cidrs, role.secretIdBoundCidrs)) throw invalid('cidr_list must be a subset of the role\'s secret_id_bound_cidrs');
  const tokenCidrs = cidrList(d.token_bound_cidrs ?? [], 'token_bound_cidrs');
  if (!cidrSubset(tokenCidrs, role.token.boundCidrs)) throw invalid('token_bound_cidrs must be a subset of the role\'s token_bound_cidrs');

  let numUses = role.secretIdNumUses;
  if (d.num_uses !== undefined) {
    if (d.num_uses < 0) throw invalid('num_uses cannot be negative');
    if (role.secretIdNumUses > 0 && (d.num_uses === 0 || d.num_uses > role.secretIdNumUses)) throw invalid("num_uses cannot be higher than the role's secret_id_num_uses");
    numUses = d.num_uses;
  }
  let ttl = role.secretIdTtl;
  if (d.ttl !== undefined) {
    if (role.secretIdTtl > 0 && (d.ttl === 0 || d.ttl > role.secretIdTtl)) throw invalid("ttl cannot be longer than the role's secret_id_ttl");
    ttl = d.ttl;
  }
  // Vault's deriveSecretIDTTL: never past the mount's max TTL.
  if (ttl > ctx.mount.maxLeaseTtl) ttl = ctx.mount.maxLeaseTtl;

  const secretIdHmac = hmac(role.hmacKey, secretId);
  const now = Date.now();
  const entry: SecretIdEntry = {
    accessor: randomUUID(), numUses, ttl, creationTime: now, expirationTime: ttl > 0 ? now + ttl * 1000 : 0, lastUpdatedTime: now,
    metadata: d.metadata ?? {}, cidrList: cidrs, tokenBoundCidrs: tokenCidrs,
  };
  await store.lock.run(`secret:${secretIdHmac}`, async () => {
    const existing = await store.readSecretId(role, secretIdHmac);
    if (existing && !isExpired(existing)) throw invalid('SecretID is already registered');
    await store.putSecretId(role, secretIdHmac, entry);
  });
  return { data: { secret_id: secretId, secret_id_accessor: entry.accessor, secret_id_ttl: ttl, secret_id_num_uses: numUses } };
}

/** The live secret-ID entry behind a secret ID (expired ones are removed on sight). */
async function bySecretId(store: AppRoleStore, role: AppRole, secretId: string): Promise<{ hmac: string; entry: SecretIdEntry } | undefined> {
  if (secretId === '' || secretId.length > MAX_HMAC_INPUT) return undefined;
  const secretIdHmac = hmac(role.hmacKey, secretId);
  const entry = await store.readSecretId(role, secretIdHmac);
  if (!entry) return undefined;
  if (isExpired(entry)) {
    await store.deleteSecretId(role, secretIdHmac, entry.accessor);
    return undefined;
  }
  return { hmac: secretIdHmac, entry };
}

async function byAccessor(store: AppRoleStore, role: AppRole, accessor: string): Promise<{ hmac: string; entry: SecretIdEntry } | undefined> {
  const ref = await store.readAccessor(accessor);
  if (!ref || ref.roleName !== role.name) return undefined;
  const entry = await store.readSecretId(role, ref.secretIdHmac);
  return entry && !isExpired(entry) ? { hmac: ref.secretIdHmac, entry } : undefined;
}

const secretIdField = z.object({ secret_id: z.string().optional() });
const accessorField = z.object({ secret_id_accessor: z.string().optional() });

/** role/:role_name/secret-id (+ LIST), custom-secret-id, secret-id/lookup|destroy, secret-id-accessor/lookup|destroy. */
export function secretIdPaths(store: AppRoleStore): PathSpec[] {
  const destroy = async (role: AppRole, found: { hmac: string; entry: SecretIdEntry } | undefined): Promise<CoreResponse> => {
    if (found) await store.lock.run(`secret:${found.hmac}`, () => store.deleteSecretId(role, found.hmac, found.entry.accessor));
    return { noContent: true };
  };
  const destroyByAccessor = async (ctx: HandlerContext<z.output<typeof accessorField>>): Promise<CoreResponse> => {
    const role = await requireRole(store, ctx);
    const accessor = ctx.data.secret_id_accessor ?? '';
    if (accessor === '') throw invalid('missing secret_id_accessor');
    const found = await byAccessor(store, role, accessor);
    if (!found) throw invalid(`failed to find accessor entry for secret_id_accessor: ${JSON.stringify(accessor)}`);
    return destroy(role, found);
  };
  const destroyBySecret = async (ctx: HandlerContext<z.output<typeof secretIdField>>): Promise<CoreResponse> => {
    const role = await requireRole(store, ctx);
    if (!ctx.data.secret_id) throw invalid('missing secret_id');
    return destroy(role, await bySecretId(store, role, ctx.data.secret_id));
  };
  return [
    definePath({
      pattern: 'role/:role_name/secret-id',
      help: 'Issues a secret ID for the role (POST), or lists the accessors of its secret IDs (LIST).',
      fields: issueFields,
      fieldHelp: {
        role_name: 'Name of the role.', metadata: 'Key/value metadata (JSON object or k=v pairs), copied to the token\'s metadata.',
        cidr_list: 'Logins with this secret ID only from these CIDRs (within the role\'s).', token_bound_cidrs: 'Tokens from this secret ID only work from these CIDRs.',
        num_uses: 'Uses of this secret ID (at most the role\'s).', ttl: 'Lifetime of this secret ID (at most the role\'s).',
      },
      operations: {
        update: (ctx) => issue(store, ctx, randomUUID()),
        list: async (ctx) => {
          const role = await store.readRole(roleName(ctx));
          const keys = role ? await store.listAccessors(role) : [];
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      },
    }),
    definePath({
      pattern: 'role/:role_name/custom-secret-id',
      help: 'Registers a secret ID of the caller\'s choosing for the role.',
      fields: issueFields,
      fieldHelp: { role_name: 'Name of the role.', secret_id: 'The secret ID to register.' },
      operations: { update: (ctx) => issue(store, ctx, ctx.data.secret_id ?? '') },
    }),
    definePath({
      pattern: 'role/:role_name/secret-id/lookup',
      help: 'Reads the properties of a secret ID (never the secret ID itself).',
      fields: secretIdField,
      fieldHelp: { role_name: 'Name of the role.', secret_id: 'The secret ID.' },
      operations: {
        update: async (ctx) => {
          const role = await requireRole(store, ctx);
          if (!ctx.data.secret_id) throw invalid('missing secret_id');
          const found = await bySecretId(store, role, ctx.data.secret_id);
          return found ? { data: entryData(found.entry) } : { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'role/:role_name/secret-id/destroy',
      help: 'Destroys a secret ID.',
      fields: secretIdField,
      fieldHelp: { role_name: 'Name of the role.', secret_id: 'The secret ID.' },
      operations: { update: destroyBySecret, delete: destroyBySecret },
    }),
    definePath({
      pattern: 'role/:role_name/secret-id-accessor/lookup',
      help: 'Reads the properties of a secret ID by its accessor.',
      fields: accessorField,
      fieldHelp: { role_name: 'Name of the role.', secret_id_accessor: 'The accessor of the secret ID.' },
      operations: {
        update: async (ctx) => {
          const role = await requireRole(store, ctx);
          const accessor = ctx.data.secret_id_accessor ?? '';
          if (accessor === '') throw invalid('missing secret_id_accessor');
          const found = await byAccessor(store, role, accessor);
          if (!found) throw new CofferError('not_found', `failed to find accessor entry for secret_id_accessor: ${JSON.stringify(accessor)}`);
          return { data: entryData(found.entry) };
        },
      },
    }),
    definePath({
      pattern: 'role/:role_name/secret-id-accessor/destroy',
      help: 'Destroys a secret ID by its accessor.',
      fields: accessorField,
      fieldHelp: { role_name: 'Name of the role.', secret_id_accessor: 'The accessor of the secret ID.' },
      operations: { update: destroyByAccessor, delete: destroyByAccessor },
    }),
  ];
}
