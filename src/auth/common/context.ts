import type { HandlerContext } from '../../core/framework.js';
import type { LoginInput } from '../../core/login.js';
import { invalid } from '../../util/errors.js';

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
