/**
 * SECURITY.md T6: the real ACL (policy text → PolicyStore → parse → compile → check) against a
 * small reference evaluator written from the documented rules only (docs/policies.md; the
 * Vault/OpenBao policies page), on random (policy set, path, operation) triples.
 *
 * The reference is deliberately naive: it keeps each policy as the generator meant it (never
 * the parser's output), turns every rule into a regular expression, collects every match,
 * sorts by the five documented priority rules and only then merges the stanzas of the winning
 * pattern. Request paths go through the real normalizer on one side and a hand-written decoder
 * of the documented path rules on the other, so encoded and relative variants are covered too.
 *
 * Reproduce a failure with ACL_SEED=<seed printed below>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyStore } from '../../src/core/acl/policy-store.js';
import type { Acl } from '../../src/core/acl/types.js';
import { normalizePath } from '../../src/core/normalize.js';
import type { Operation } from '../../src/core/request.js';
import { InmemStorage } from '../../src/storage/inmem.js';

const TRIALS = 110_000;
const OPS: Operation[] = ['read', 'create', 'update', 'patch', 'delete', 'list'];
const ALL_CAPS = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo'];
const LEGACY: Record<string, string[]> = {
  deny: ['deny'], read: ['read', 'list'], write: ['create', 'read', 'update', 'delete', 'list'], sudo: ['create', 'read', 'update', 'delete', 'list', 'sudo'],
};

// ---- seeded PRNG (mulberry32) ---------------------------------------------------------------

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the reference model --------------------------------------------------------------------

interface RefRule {
  /** Without a leading '/'; '+' only ever as a whole segment; '*' only last. */
  pattern: string;
  caps: string[];
  allowed?: Record<string, unknown[]>;
  denied?: Record<string, unknown[]>;
  required: string[];
  minWrap: number;
  maxWrap: number;
}

const RESPONSE_WRAPPING_RULES: RefRule[] = [
  { pattern: 'cubbyhole/response', caps: ['create', 'read'], required: [], minWrap: 0, maxWrap: 0 },
  { pattern: 'sys/wrapping/unwrap', caps: ['update'], required: [], minWrap: 0, maxWrap: 0 },
];

type Kind = 'exact' | 'prefix' | 'segment';
const kindCache = new Map<string, Kind>();
function kindOf(pattern: string): Kind {
  let kind = kindCache.get(pattern);
  if (!kind) {
    kind = pattern.replace(/\*$/, '').split('/').includes('+') ? 'segment' : pattern.endsWith('*') ? 'prefix' : 'exact';
    kindCache.set(pattern, kind);
  }
  return kind;
}

const regexCache = new Map<string, RegExp>();
/** "+" is any one segment (possibly empty), a final "*" is any rest. */
function ruleRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    const glob = pattern.endsWith('*');
    const body = (glob ? pattern.slice(0, -1) : pattern).split('/')
      .map((seg) => (seg === '+' ? '[^/]*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
    re = new RegExp(`^${body}${glob ? '[\\s\\S]*' : ''}$`);
    regexCache.set(pattern, re);
  }
  return re;
}

/** The documented order: is a higher priority than b? */
function higher(a: string, b: string): boolean {
  const firstWild = (p: string): number => Math.min(...['+', '*'].map((c) => (p.includes(c) ? p.indexOf(c) : Infinity)));
  if (firstWild(a) !== firstWild(b)) return firstWild(a) > firstWild(b);
  if (a.endsWith('*') !== b.endsWith('*')) return !a.endsWith('*');
  const plus = (p: string): number => p.split('/').filter((s) => s === '+').length;
  if (plus(a) !== plus(b)) return plus(a) < plus(b);
  if (a.length !== b.length) return a.length > b.length;
  return a > b;
}

interface Merged { caps: Set<string>; allowed?: Record<string, unknown[]>; denied?: Record<string, unknown[]>; required: Set<string>; minWrap: number; maxWrap: number }

function mergeRules(rules: RefRule[]): Merged {
  if (rules.some((r) => r.caps.includes('deny'))) return { caps: new Set(['deny']), required: new Set(), minWrap: 0, maxWrap: 0 };
  const lowestNonZero = (xs: number[]): number => Math.min(...xs.filter((x) => x > 0), Infinity);
  const params = (pick: (r: RefRule) => Record<string, unknown[]> | undefined): Record<string, unknown[]> | undefined => {
    const maps = rules.map(pick).filter((m): m is Record<string, unknown[]> => m !== undefined && Object.keys(m).length > 0);
    if (maps.length === 0) return undefined;
    const out: Record<string, unknown[]> = {};
    for (const m of maps) {
      for (const [k, v] of Object.entries(m)) {
        out[k] = k in out && (out[k]!.length === 0 || v.length === 0) ? [] : [...(out[k] ?? []), ...v];
      }
    }
    return out;
  };
  const min = lowestNonZero(rules.map((r) => r.minWrap));
  const max = lowestNonZero(rules.map((r) => r.maxWrap));
  const allowed = params((r) => r.allowed);
  const denied = params((r) => r.denied);
  return {
    caps: new Set(rules.flatMap((r) => r.caps)), required: new Set(rules.flatMap((r) => r.required)),
    minWrap: min === Infinity ? 0 : min, maxWrap: max === Infinity ? 0 : max,
    ...(allowed ? { allowed } : {}), ...(denied ? { denied } : {}),
  };
}

type Via = 'exact' | 'prefix' | 'segment' | 'list-fallback';

/** The one winning pattern's merged stanzas (and how it was found), or undefined when no rule applies. */
function refLookup(rules: RefRule[], path: string, isList: boolean): { merged: Merged; via: Via; stanzas: number } | undefined {
  const same = (pattern: string) => rules.filter((r) => r.pattern === pattern);
  const candidates = isList && path.endsWith('/') ? [path, path.slice(0, -1)] : [path];
  for (const candidate of candidates) {
    const exact = same(candidate).filter((r) => kindOf(r.pattern) === 'exact');
    if (exact.length > 0) return { merged: mergeRules(exact), via: 'exact', stanzas: exact.length };
  }
  for (const [i, candidate] of candidates.entries()) {
    const matching = rules.filter((r) => kindOf(r.pattern) !== 'exact' && ruleRegex(r.pattern).test(candidate));
    if (matching.length === 0) continue;
    let best = matching[0]!.pattern;
    for (const r of matching) if (higher(r.pattern, best)) best = r.pattern;
    const kind = kindOf(best);
    const stanzas = same(best);
    return { merged: mergeRules(stanzas), via: i > 0 ? 'list-fallback' : kind === 'segment' ? 'segment' : 'prefix', stanzas: stanzas.length };
  }
  return undefined;
}

function valueMatches(pattern: unknown, value: unknown): boolean {
  if (typeof pattern !== 'string' || typeof value !== 'string') return JSON.stringify(pattern) === JSON.stringify(value);
  if (pattern.length < 2) return pattern === value;
  const lead = pattern.startsWith('*');
  const trail = pattern.endsWith('*');
  if (lead && trail) return value.includes(pattern.slice(1, -1));
  if (lead) return value.endsWith(pattern.slice(1));
  if (trail) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

interface Decision { allowed: boolean; sudo: boolean; caps: string[]; parametersRefused?: boolean }

function refDecide(rules: RefRule[] | 'root', path: string, op: Operation, data: Record<string, unknown>, wrapTtl: number | undefined, skip: boolean): Decision & { via?: Via; merged?: boolean } {
  if (rules === 'root') return { allowed: true, sudo: true, caps: [...ALL_CAPS].sort() };
  const found = refLookup(rules, path, op === 'list');
  if (!found) return { allowed: false, sudo: false, caps: ['deny'] };
  const { merged: m, via } = found;
  const merged = found.stanzas > 1;
  const deny = m.caps.has('deny');
  const caps = deny || m.caps.size === 0 ? ['deny'] : [...m.caps].sort();
  const sudo = !deny && m.caps.has('sudo');
  const no = { allowed: false, sudo, caps, via, merged };
  if (deny || !m.caps.has(op)) return no;
  if (m.maxWrap > 0 && (wrapTtl === undefined || wrapTtl > m.maxWrap)) return no;
  if (m.minWrap > 0 && (wrapTtl === undefined || wrapTtl < m.minWrap)) return no;
  if (m.minWrap > 0 && m.maxWrap > 0 && m.maxWrap < m.minWrap) return no;
  const paramsRefused = { ...no, parametersRefused: true };
  if (['read', 'create', 'update', 'patch'].includes(op) && !skip) {
    for (const r of m.required) if (!Object.hasOwn(data, r)) return paramsRefused;
    const keys = Object.keys(data);
    if (keys.length > 0) {
      if (m.denied) {
        if ('*' in m.denied) return paramsRefused;
        for (const k of keys) {
          const list = m.denied[k.toLowerCase()];
          if (list && (list.length === 0 || list.some((v) => valueMatches(v, data[k])))) return paramsRefused;
        }
      }
      if (m.allowed && !(Object.keys(m.allowed).length === 1 && '*' in m.allowed)) {
        for (const k of keys) {
          const list = m.allowed[k.toLowerCase()];
          if (!list) { if (!('*' in m.allowed)) return paramsRefused; continue; }
          if (list.length > 0 && !list.some((v) => valueMatches(v, data[k]))) return paramsRefused;
        }
      }
    }
  }
  return { allowed: true, sudo, caps, via, merged };
}

/** The documented path rules: decode %XX; refuse encoded / \ NUL, double encoding, \, controls, empty . .. segments. */
function refNormalize(raw: string): string | 'reject' {
  const bytes: number[] = [];
  let escaped = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '%') {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return 'reject';
      const b = parseInt(hex, 16);
      if (b === 0x2f || b === 0x5c || b === 0) return 'reject';
      bytes.push(b);
      escaped = true;
      i += 2;
    } else bytes.push(...Buffer.from(c, 'utf8'));
  }
  let decoded: string;
  try { decoded = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes)); } catch { return 'reject'; }
  if (escaped && /%[0-9a-fA-F]{2}/.test(decoded)) return 'reject';
  if (decoded.includes('\\') || [...decoded].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) return 'reject';
  const body = decoded.endsWith('/') ? decoded.slice(0, -1) : decoded;
  if (body === '' || body.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'reject';
  return decoded;
}

// ---- the generator --------------------------------------------------------------------------

class Gen {
  constructor(readonly r: () => number) {}
  chance(p: number): boolean { return this.r() < p; }
  int(lo: number, hi: number): number { return lo + Math.floor(this.r() * (hi - lo + 1)); }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.r() * xs.length)]!; }
  subset<T>(xs: readonly T[], p: number): T[] { return xs.filter(() => this.chance(p)); }

  pattern(): string {
    // Patterns that many policies share, so that stanzas merge often.
    if (this.chance(0.5)) return this.pick(HOT_PATTERNS);
    if (this.chance(0.02)) return '*';
    const segs = Array.from({ length: this.int(1, 4) }, () => (this.chance(0.25) ? '+' : this.pick(['secret', 'foo', 'fo', 'foobar', 'bar', 'teamb', 'a', 'data', 'sys', 'Foo'])));
    if (this.chance(0.4)) {
      const last = segs[segs.length - 1]!;
      if (this.chance(0.5) || last === '+') segs.push('*');
      else segs[segs.length - 1] = `${last.slice(0, this.int(1, last.length))}*`;
    }
    return segs.join('/');
  }

  params(names: string[], withStar: boolean): Record<string, unknown[]> {
    const out: Record<string, unknown[]> = {};
    for (const name of this.subset(withStar ? [...names, '*'] : names, 0.5)) {
      out[name] = name === '*' || this.chance(0.3) ? [] : this.subset(['zip', 'zap', 'z*', '*p', '*i*', '*', '1', 1, true], 0.35);
    }
    return out;
  }

  /** One stanza: what the reference believes, and the text (HCL body or JSON object) saying it. */
  rule(): { ref: RefRule; hcl: string; json: Record<string, unknown> } {
    const pattern = this.pattern();
    const written = this.chance(0.1) ? `/${pattern}` : pattern;
    const body: Record<string, unknown> = {};
    let caps: string[];
    if (this.chance(0.12)) {
      caps = ['deny'];
      if (this.chance(0.3)) body['policy'] = 'deny'; else body['capabilities'] = this.chance(0.5) ? ['deny'] : ['read', 'deny'];
    } else if (this.chance(0.1)) {
      const legacy = this.pick(['read', 'write', 'sudo']);
      const extra = this.subset(['patch', 'sudo'], 0.3);
      body['policy'] = legacy;
      if (extra.length > 0) body['capabilities'] = extra;
      caps = [...LEGACY[legacy]!, ...extra];
    } else {
      caps = this.subset(ALL_CAPS, 0.45);
      body['capabilities'] = caps;
    }
    const ref: RefRule = { pattern, caps, required: [], minWrap: 0, maxWrap: 0 };
    if (this.chance(0.25)) {
      const allowed = this.params(['foo', 'bar', 'Baz'], true);
      body['allowed_parameters'] = allowed;
      ref.allowed = lowerKeys(allowed);
    }
    if (this.chance(0.2)) {
      const denied = this.params(['foo', 'bar'], this.chance(0.2));
      body['denied_parameters'] = denied;
      ref.denied = lowerKeys(denied);
    }
    if (this.chance(0.2)) {
      const required = this.subset(['foo', 'Bar'], 0.5);
      body['required_parameters'] = required;
      ref.required = required.map((x) => x.toLowerCase());
    }
    if (this.chance(0.2)) {
      ref.minWrap = this.pick([0, 10, 60]);
      ref.maxWrap = this.pick([0, 30, 120].filter((m) => m === 0 || m >= ref.minWrap));
      const spell = (s: number) => this.pick([s, `${s}s`, s % 60 === 0 ? `${s / 60}m` : `${s}`]);
      if (ref.minWrap > 0 || this.chance(0.3)) body['min_wrapping_ttl'] = spell(ref.minWrap);
      if (ref.maxWrap > 0 || this.chance(0.3)) body['max_wrapping_ttl'] = spell(ref.maxWrap);
    }
    if (caps.includes('deny')) Object.assign(ref, { caps: ['deny'], required: [], minWrap: 0, maxWrap: 0, allowed: undefined, denied: undefined });
    const hclValue = (v: unknown): string => (Array.isArray(v) ? `[${v.map(hclValue).join(', ')}]`
      : v !== null && typeof v === 'object' ? `{\n${Object.entries(v).map(([k, x]) => `    ${JSON.stringify(k)} = ${hclValue(x)}`).join('\n')}\n  }` : JSON.stringify(v));
    const hcl = `path ${JSON.stringify(written)} {\n${Object.entries(body).map(([k, v]) => `  ${k} = ${hclValue(v)}`).join('\n')}\n}\n`;
    return { ref, hcl, json: { [written]: body } };
  }

  policy(): { rules: RefRule[]; text: string } {
    const stanzas = Array.from({ length: this.int(1, 6) }, () => this.rule());
    const text = this.chance(0.5)
      ? stanzas.map((s) => s.hcl).join('\n')
      // Written by hand so that a path named twice stays twice (JSON.stringify would keep one).
      : `{"path": {${stanzas.map((s) => Object.entries(s.json).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')).join(', ')}}}`;
    return { rules: stanzas.map((s) => s.ref), text };
  }

  path(op: Operation): string {
    if (this.chance(0.3)) {
      // A path some hot pattern names: '+' and a final '*' filled in.
      const filled = this.pick(HOT_PATTERNS).split('/').map((seg) => (seg === '+' ? this.pick(['x', 'teamb', 'foo', '+']) : seg))
        .join('/').replace(/\*$/, () => this.pick(['', 'o', 'bar', '/deep', '/x/y']));
      if (filled !== '' && !filled.split('/').includes('')) return filled + (this.chance(op === 'list' ? 0.8 : 0.15) ? '/' : '');
    }
    const segs = Array.from({ length: this.int(1, 4) }, () => this.pick(['secret', 'foo', 'fo', 'foobar', 'bar', 'teamb', 'a', 'data', 'sys', 'Foo', 'x+y', '+', 'fo*', 'cubbyhole', 'response']));
    if (this.chance(0.12)) {
      const i = this.int(0, segs.length - 1);
      segs[i] = this.chance(0.5) ? segs[i]!.toUpperCase() : segs[i]!.charAt(0).toUpperCase() + segs[i]!.slice(1);
    }
    return segs.join('/') + (this.chance(op === 'list' ? 0.8 : 0.15) ? '/' : '');
  }

  /** The path as a client might send it: letters percent-encoded, sometimes a hostile variant. */
  raw(path: string): string {
    let raw = [...path].map((c) => {
      if (c === '/' || !this.chance(0.08)) return c;
      const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
      return `%${this.chance(0.5) ? hex.toUpperCase() : hex}`;
    }).join('');
    if (this.chance(0.06)) {
      const hostile = this.pick(['%2F', '%2f', '/../', '/./', '//', '/%2e%2e/', '/%2E/', '%5C', '\\', '%00', '%252F', '%E0%80', '/%09']);
      const at = raw.indexOf('/');
      raw = at < 0 ? `${raw}${hostile}x` : `${raw.slice(0, at)}${hostile}${raw.slice(at + 1)}`;
    }
    return raw;
  }

  data(): Record<string, unknown> {
    if (this.chance(0.45)) return {};
    const out: Record<string, unknown> = {};
    for (let i = this.int(1, 3); i > 0; i--) out[this.pick(['foo', 'FOO', 'bar', 'Bar', 'baz', 'other'])] = this.pick(['zip', 'zap', 'zop', 'azip', '*', '1', 1, true, false]);
    return out;
  }
}

const HOT_PATTERNS = ['secret/foo', 'secret/foo/bar', 'secret/*', 'secret/fo*', 'secret/+/teamb', 'secret/+/*', 'foo/+', 'foo', '+/bar', 'secret/+/+/teamb'];

const lowerKeys = (m: Record<string, unknown[]>): Record<string, unknown[]> => Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));

// ---- the comparison -------------------------------------------------------------------------

test(`T6: the ACL agrees with the reference evaluator on ${TRIALS} random triples`, async (t) => {
  const seed = Number(process.env['ACL_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`ACL differential seed ${seed} (rerun with ACL_SEED=${seed})`);
  const g = new Gen(prng(seed));

  const store = new PolicyStore(new InmemStorage());
  await store.load();
  const pool = new Map<string, RefRule[]>();
  const write = async (name: string): Promise<void> => {
    const p = g.policy();
    await store.put(g.chance(0.3) ? name.toUpperCase() : name, p.text);
    pool.set(name, p.rules);
  };
  const names = ['default', ...Array.from({ length: 39 }, (_, i) => `p${i}`)];
  for (const name of names) await write(name);
  const sets = Array.from({ length: 400 }, () => {
    const set = Array.from({ length: g.int(1, 2) + g.int(0, 2) }, () => g.pick(names));
    if (g.chance(0.1)) set.push('ghost');
    if (g.chance(0.05)) set.push('response-wrapping');
    if (g.chance(0.02)) set.push('root');
    return set;
  });

  const stats = { allowed: 0, denied: 0, rejected: 0, exact: 0, prefix: 0, segment: 0, 'list-fallback': 0, parameterDenied: 0, merged: 0, mergedWrapped: 0 };
  const mismatches: string[] = [];
  for (let trial = 0; trial < TRIALS && mismatches.length < 5; trial++) {
    if (trial > 0 && trial % 6000 === 0) await write(g.pick(names)); // the cache must drop the old version

    const set = g.pick(sets).map((n) => (g.chance(0.2) ? n.toUpperCase() : n));
    const op = g.pick(OPS);
    const path = g.path(op);
    const raw = g.raw(path);
    const data = g.data();
    const wrapTtl = g.chance(0.3) ? g.pick([1, 10, 30, 60, 90, 120, 200]) : undefined;
    const skip = g.chance(0.1);

    const lower = [...new Set(set.map((n) => n.toLowerCase()))];
    const refRules: RefRule[] | 'root' = lower.includes('root') ? 'root'
      : lower.flatMap((n) => (n === 'response-wrapping' ? RESPONSE_WRAPPING_RULES : pool.get(n) ?? []));
    const refPath = refNormalize(raw);
    let realPath: string | 'reject';
    try { realPath = normalizePath(raw); } catch { realPath = 'reject'; }
    const describe = (why: string): string => `seed ${seed} trial ${trial}: ${why}\n  set ${JSON.stringify(set)} op ${op} raw ${JSON.stringify(raw)} data ${JSON.stringify(data)} wrap ${wrapTtl} skip ${skip}\n`
      + lower.map((n) => `  --- ${n}: ${JSON.stringify(n === 'response-wrapping' ? RESPONSE_WRAPPING_RULES : pool.get(n))}`).join('\n');
    if (refPath !== realPath) {
      mismatches.push(describe(`normalization: reference ${JSON.stringify(refPath)}, real ${JSON.stringify(realPath)}`));
      continue;
    }
    if (realPath === 'reject') { stats.rejected++; continue; }

    const acl: Acl = await store.aclFor(set);
    const real = acl.check(realPath, op, { data, wrapTtl, skipParameterChecks: skip });
    const ref = refDecide(refRules, realPath, op, data, wrapTtl, skip);
    const realCaps = [...real.capabilities].sort();
    if (real.allowed !== ref.allowed || real.sudo !== ref.sudo || realCaps.join() !== ref.caps.join()) {
      mismatches.push(describe(`check: reference ${JSON.stringify(ref)}, real ${JSON.stringify({ ...real, capabilities: realCaps })}`));
      continue;
    }
    const refCaps = refRules === 'root' ? ['root'] : refDecide(refRules, realPath, 'list', {}, undefined, true).caps;
    if (acl.capabilities(realPath).join() !== refCaps.join()) {
      mismatches.push(describe(`capabilities(): reference ${refCaps}, real ${acl.capabilities(realPath)}`));
      continue;
    }

    if (ref.allowed) stats.allowed++; else stats.denied++;
    if (ref.via) stats[ref.via]++;
    if (ref.parametersRefused) stats.parameterDenied++;
    if (ref.merged) stats.merged++;
    if (ref.merged && wrapTtl !== undefined) stats.mergedWrapped++;
  }

  t.diagnostic(`outcomes ${JSON.stringify(stats)}`);
  assert.deepEqual(mismatches, [], `${mismatches.length} mismatch(es) (first shown) — seed ${seed}`);
  // The run must have exercised every branch it claims to test (about a third of the lowest counts seen over many seeds).
  for (const [k, min] of Object.entries({ allowed: 3000, denied: 5000, rejected: 1000, exact: 1000, prefix: 3000, segment: 2000, 'list-fallback': 50, parameterDenied: 300, merged: 1000, mergedWrapped: 300 })) {
    assert.ok(stats[k as keyof typeof stats] >= min, `too few "${k}" outcomes (${stats[k as keyof typeof stats]}) — seed ${seed}`);
  }
});
