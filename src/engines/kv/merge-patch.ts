import { isPlainObject } from './store.js';

/**
 * JSON merge patch (RFC 7396): objects merge key by key, `null` removes a key, anything else
 * replaces. New objects are built with Object.fromEntries so a "__proto__" key stays a plain
 * data key and never touches a prototype.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out = new Map<string, unknown>(isPlainObject(target) ? Object.entries(target) : []);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) out.delete(key);
    else out.set(key, mergePatch(out.get(key), value));
  }
  return Object.fromEntries(out);
}

/** The shape of a secret with every leaf replaced by null (KV v2 `subkeys`); `depth` 0 = no limit. */
export function subkeysOf(data: Record<string, unknown>, depth: number, level = 1): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).map(([key, value]) => {
    const descend = isPlainObject(value) && Object.keys(value).length > 0 && (depth === 0 || level + 1 <= depth);
    return [key, descend ? subkeysOf(value, depth, level + 1) : null];
  }));
}
