import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { UserLockout } from '../../core/lockout.js';
import type { LoginInput, LoginService } from '../../core/login.js';
import { denied, invalid, notFound } from '../../util/errors.js';

/** Vault's GenericNameRegex: word characters, with '-', '.' and '@' inside. */
const GENERIC_NAME = /^\w(?:[\w.@-]*\w)?$/;
const MAX_NAME = 512;

/** A path parameter that names a user or role, lower-cased as Vault stores it. */
export function nameParam(ctx: Pick<HandlerContext, 'params'>, key: string, what = 'name'): string {
  const raw = ctx.params[key] ?? '';
  if (raw === '') throw invalid(`missing ${what}`);
  if (raw.length > MAX_NAME || !GENERIC_NAME.test(raw)) throw invalid(`invalid ${what}: use letters, digits, "_", "-", "." or "@", starting and ending with a letter or digit`);
  return raw.toLowerCase();
}

/** The request-side fields of a login, taken from the handler's context. */
export function loginFrom(ctx: HandlerContext<unknown>, rest: Omit<LoginInput, 'mount' | 'path' | 'clientIp' | 'namespace'>): LoginInput {
  return { mount: ctx.mount, path: ctx.request.fullPath, clientIp: ctx.request.clientIp, namespace: ctx.request.namespace, ...rest };
}

/** Keys of a storage folder that are leaves (its sub-folders left out). */
export function leafKeys(keys: readonly string[]): string[] {
  return keys.filter((k) => !k.endsWith('/'));
}

/** A LIST path over the entries stored in `folder` (users, roles): their names, a 404 when none. */
export function leafListPath(pattern: string, folder: string, help: string): PathSpec {
  return definePath({
    pattern,
    help,
    operations: {
      list: async (ctx) => {
        const keys = leafKeys(await ctx.storage.list(folder));
        if (keys.length === 0) throw notFound();
        return { data: { keys } };
      },
    },
  });
}

/** What a login method with Vault's user lockout (userpass, AppRole) is given at wiring time. */
export interface LockoutLoginDeps {
  readonly login: Pick<LoginService, 'login'>;
  readonly lockout: Pick<UserLockout, 'isLocked' | 'recordFailure' | 'clear'>;
}

/**
 * Vault's user lockout around one login: a locked alias is refused before any check, `fail`
 * counts a bad credential (one message for every kind of failure), `succeed` clears the count.
 */
export async function lockoutAttempt(
  lockout: LockoutLoginDeps['lockout'], mountAccessor: string, alias: string, badCredentials: string,
): Promise<{ fail: () => Promise<never>; succeed: () => void }> {
  if (await lockout.isLocked(mountAccessor, alias)) throw denied();
  return {
    fail: async () => {
      await lockout.recordFailure(mountAccessor, alias);
      throw invalid(badCredentials);
    },
    succeed: () => lockout.clear(mountAccessor, alias),
  };
}
