import { invalid } from '../../util/errors.js';

export type Claims = Readonly<Record<string, unknown>>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a verified payload; anything but a JSON object is refused. */
export function parseClaims(payload: Uint8Array): Claims {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw invalid('the token\'s payload is not JSON');
  }
  if (!isRecord(value)) throw invalid('the token\'s payload is not a JSON object');
  return value;
}

/**
 * A claim by name, or by JSON pointer when the name starts with '/' (Vault's getClaim). `aud`
 * is always a list; numbers become their integer text, as Vault compares them.
 */
export function getClaim(claims: Claims, name: string): unknown {
  let value: unknown;
  if (!name.startsWith('/')) {
    value = Object.hasOwn(claims, name) ? claims[name] : undefined;
  } else {
    value = claims;
    for (const raw of name.slice(1).split('/')) {
      const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (Array.isArray(value) && /^\d+$/.test(part)) value = value[Number(part)];
      else if (isRecord(value) && Object.hasOwn(value, part)) value = value[part];
      else return undefined;
    }
  }
  if (name === 'aud' && typeof value === 'string') return [value];
  return normalizeScalar(value);
}

const normalizeScalar = (v: unknown): unknown => (typeof v === 'number' && Number.isFinite(v) ? String(Math.trunc(v)) : v);

/** A string, bool or number becomes a one-element list; a list stays; anything else is undefined. */
function asList(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v.map(normalizeScalar);
  if (typeof v === 'string' || typeof v === 'boolean') return [v];
  if (typeof v === 'number') return [normalizeScalar(v)];
  return undefined;
}

/** Glob with '*' only (any run of characters, empty included), as Vault's bound claims. */
export function globMatch(pattern: string, value: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === value;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!value.startsWith(first) || value.length < first.length + last.length || !value.endsWith(last)) return false;
  let pos = first.length;
  const end = value.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const at = value.indexOf(middle, pos);
    if (at < 0 || at + middle.length > end) return false;
    pos = at + middle.length;
  }
  return true;
}

/** Every bound claim must be present and match one of its values (exactly, or as a glob). */
export function checkBoundClaims(type: 'string' | 'glob', bound: Readonly<Record<string, unknown>>, claims: Claims): void {
  for (const [claim, expected] of Object.entries(bound)) {
    const actual = getClaim(claims, claim);
    if (actual === undefined || actual === null) throw invalid(`error validating claims: claim ${JSON.stringify(claim)} is missing`);
    const actualValues = asList(actual);
    if (!actualValues) throw invalid('error validating claims: received claim is not a string, bool, int or list');
    const expectedValues = asList(expected) ?? [];
    const found = expectedValues.some((e) => actualValues.some((a) => (type === 'glob'
      ? typeof e === 'string' && typeof a === 'string' && globMatch(e, a)
      : a === e)));
    if (!found) throw invalid(`error validating claims: claim ${JSON.stringify(claim)} does not match any associated bound claim values`);
  }
}

/** claim_mappings: claim → metadata key; the claims must be scalars. */
export function mappedMetadata(mappings: Readonly<Record<string, string>>, claims: Claims): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [source, target] of Object.entries(mappings)) {
    const value = getClaim(claims, source);
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'boolean') throw invalid(`error converting claim '${source}' to string`);
    out[target] = String(value);
  }
  return out;
}

/** The groups claim as a list of names (a single string counts as one group). */
export function groupNames(claim: string, claims: Claims): string[] {
  const raw = getClaim(claims, claim);
  if (raw === undefined || raw === null) throw invalid(`${JSON.stringify(claim)} claim not found in token`);
  const list = asList(raw);
  if (!list) throw invalid(`${JSON.stringify(claim)} claim could not be converted to string list`);
  return list.map((g) => {
    if (typeof g !== 'string') throw invalid(`value in ${JSON.stringify(claim)} claim could not be parsed as string`);
    return g;
  }).filter((g) => g !== '');
}

export interface TimeRules {
  /** Seconds; Vault's defaults apply for 0 (60, 150, 150) and -1 turns a leeway off. */
  readonly clockSkewLeeway: number;
  readonly expirationLeeway: number;
  readonly notBeforeLeeway: number;
}

const leeway = (v: number, fallback: number): number => (v < 0 ? 0 : v === 0 ? fallback : v);

/**
 * exp (required: Coffer refuses a token that never expires), nbf and iat, with the role's
 * leeways (Vault's defaults: clock skew 60 s, expiry and not-before 150 s each).
 */
export function checkTimes(claims: Claims, rules: TimeRules, nowMs = Date.now()): void {
  const now = nowMs / 1000;
  const skew = leeway(rules.clockSkewLeeway, 60);
  const num = (name: string): number | undefined => {
    const v = claims[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`the ${name} claim must be a number`);
    return v;
  };
  const exp = num('exp');
  if (exp === undefined) throw invalid('the token has no exp claim');
  if (now > exp + skew + leeway(rules.expirationLeeway, 150)) throw invalid('token is expired (exp)');
  const nbf = num('nbf');
  if (nbf !== undefined && now + skew + leeway(rules.notBeforeLeeway, 150) < nbf) throw invalid('token not valid yet (nbf)');
  const iat = num('iat');
  if (iat !== undefined && now + skew < iat) throw invalid('token issued in the future (iat)');
}

/** The token's audiences: it must name one of `bound` when bound is set, and none may come unasked when `strict`. */
export function checkAudience(claims: Claims, bound: readonly string[], strict: boolean): void {
  const aud = getClaim(claims, 'aud');
  const list = Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
  if (bound.length === 0) {
    if (strict && list.length > 0) throw invalid('audience claim found in JWT but no audiences bound to the role');
    return;
  }
  if (!bound.some((b) => list.includes(b))) throw invalid('aud claim does not match any bound audience');
}
