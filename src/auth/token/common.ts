import * as z from 'zod';
import { requestContext, type Authorizer } from '../../core/acl/types.js';
import type { Caller, HandlerContext } from '../../core/framework.js';
import type { TokenEntry } from '../../core/tokens/entry.js';
import type { TokenStore } from '../../core/tokens/store.js';
import { denied, invalid } from '../../util/errors.js';

/** What the token backend is given at wiring time; nothing else. */
export interface TokenBackendDeps {
  readonly tokens: TokenStore;
  /** Lazy: the policy store is built after the mount tables. Used for the sudo and subset rules. */
  readonly authorizer: () => Authorizer;
  /** Finds or creates the entity for an alias on the token mount (the identity store, later). */
  readonly resolveEntityAlias?: (alias: { name: string; mountAccessor: string; mountType: string }) => Promise<string>;
  /** The policies a token gets from its entity and groups (Vault's identity_policies). */
  readonly identityPolicies?: (entityId: string) => readonly string[];
}

export type Ctx = HandlerContext<Record<string, unknown>>;

export function callerOf(ctx: Pick<Ctx, 'caller'>): Caller {
  if (!ctx.caller) throw denied();
  return ctx.caller;
}

/** Vault's SudoPrivilege: does the caller's ACL grant sudo on the path it called? */
export async function hasSudo(deps: TokenBackendDeps, ctx: Ctx): Promise<boolean> {
  const caller = callerOf(ctx);
  if (caller.isRoot) return true;
  const acl = await deps.authorizer().aclFor(caller.policies, caller.identity);
  if (acl.isRoot) return true;
  const caps = acl.capabilities(ctx.request.fullPath, requestContext(ctx.request.clientIp, caller.identity));
  return caps.includes('sudo') || caps.includes('root');
}

/** The caller's own live entry (service or batch); `tainted` also accepts a last use in flight. */
export async function callerEntry(deps: TokenBackendDeps, ctx: Ctx, tainted = false): Promise<TokenEntry | undefined> {
  return deps.tokens.lookup(callerOf(ctx).token, { tainted });
}

/**
 * Vault's policy sanitizing: trimmed, lower-cased, blanks dropped, `root` alone wins, `default`
 * added when asked, duplicates removed, sorted.
 */
export function sanitizePolicies(policies: readonly string[], addDefault: boolean): string[] {
  const out = new Set<string>();
  for (const raw of policies) {
    const p = raw.trim().toLowerCase();
    if (p === '') continue;
    if (p === 'root') return ['root'];
    out.add(p);
  }
  if (addDefault) out.add('default');
  return [...out].sort();
}

/** Vault's glob list match: `*` at the start and/or end of a pattern, or `*` alone. */
export function globListMatch(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => {
    if (p === '*' || p === value) return true;
    const head = p.startsWith('*');
    const tail = p.endsWith('*') && p.length > 1;
    const core = p.slice(head ? 1 : 0, tail ? -1 : undefined);
    if (head && tail) return value.includes(core);
    if (head) return value.endsWith(core);
    if (tail) return value.startsWith(core);
    return false;
  });
}

/** Vault's TypeKVPairs, with Go's weak decoding of values (hvac sends numbers in `meta`). */
export { kvPairs } from '../../core/fields.js';

/**
 * Vault treats a JSON null as an absent field, and clients rely on it (hvac's create_token and
 * renew_token send every unset parameter as null), so nulls are dropped before validation.
 */
export function nullsAbsent<T extends z.ZodObject>(schema: T): z.ZodPreprocess<T> {
  return z.preprocess((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) : v), schema);
}

/** A string field that also accepts numbers (clients send ids and names loosely). */
export const text = () => z.union([z.string(), z.number().transform(String)]);

/** The `token` body of lookup, revoke and revoke-orphan. */
export const tokenField = nullsAbsent(z.object({ token: text().optional() }));
/** The `accessor` body of lookup-accessor and revoke-accessor. */
export const accessorField = nullsAbsent(z.object({ accessor: text().optional() }));

/** The token a body names; Vault's 400 when it is absent or empty. */
export function requiredToken(data: { readonly token?: string | undefined }): string {
  const token = data.token ?? '';
  if (token === '') throw invalid('missing token ID');
  return token;
}

/** The accessor a body names; Vault's 400 when it is absent or empty. */
export function requiredAccessor(data: { readonly accessor?: string | undefined }): string {
  const accessor = data.accessor ?? '';
  if (accessor === '') throw invalid('missing accessor');
  return accessor;
}
