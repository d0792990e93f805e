/**
 * A set of parsed policies compiled into one ACL, with Vault's merge and matching rules
 * (OpenBao internal/vault/policy/acl.go; docs/policies.md says it in prose):
 *
 * - the same path written in several stanzas or policies merges: capabilities unite, a deny
 *   leaves only deny, wrapping TTL bounds take the lowest non-zero value, parameter value lists
 *   concatenate with `[]` (any value) winning, required parameters unite;
 * - a request path takes the exact rule if there is one (for LIST also the path without its
 *   trailing '/'); otherwise the best of the longest prefix (`*`) rule and the matching segment
 *   (`+`) rules by Vault's priority order; for LIST with nothing found, the same again without
 *   the trailing '/'. Only that one rule decides.
 *
 * Matching runs on every request: exact rules are a Map, prefix rules a Map probed by the
 * distinct prefix lengths (longest first), segment rules a list pre-split into segments.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Operation } from '../request.js';
import { CAPABILITIES, type ParsedPolicy, type ParsedRule } from './parse.js';
import type { Acl, AclCheck, AclRequest, Capability } from './types.js';

const BIT: Readonly<Record<Capability, number>> = { deny: 1, create: 2, read: 4, update: 8, delete: 16, list: 32, sudo: 64, patch: 128 };
const DENY = BIT.deny;
const OP_BIT: Readonly<Record<Operation, number>> = { read: BIT.read, create: BIT.create, update: BIT.update, patch: BIT.patch, delete: BIT.delete, list: BIT.list };
/** Operations whose data the parameter constraints look at (as in Vault). */
const PARAMETER_OPS: ReadonlySet<Operation> = new Set(['read', 'create', 'update', 'patch']);

/** Permissions of one path after merging every stanza that names it. */
interface Perms {
  bits: number;
  minWrap: number;
  maxWrap: number;
  allowed: Map<string, unknown[]> | undefined;
  denied: Map<string, unknown[]> | undefined;
  required: string[];
}

interface CompiledPerms extends Readonly<Perms> {
  readonly hasParameterRules: boolean;
  /** Results built once: checks on the hot path allocate nothing. */
  readonly allow: AclCheck;
  readonly refuse: AclCheck;
}

/** A non-exact rule as the priority order sees it; lengths and positions are in UTF-8 bytes, as in Vault. */
interface Candidate {
  readonly firstWildcard: number;
  readonly isPrefix: boolean;
  readonly wildcards: number;
  readonly length: number;
  readonly sortKey: Buffer;
  readonly perms: CompiledPerms;
}

interface SegmentRule extends Candidate {
  readonly parts: readonly string[];
}

const NO_MATCH: AclCheck = Object.freeze({ allowed: false, sudo: false, capabilities: Object.freeze(['deny'] as Capability[]) });

const bitsOf = (caps: readonly Capability[]): number => caps.reduce((b, c) => b | BIT[c], 0);
const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Vault's test for a segment-wildcard path (a '+' that starts a segment). */
const hasSegmentWildcard = (path: string): boolean => path === '+' || path.includes('/+') || path.startsWith('+/');

export function compileAcl(policies: readonly ParsedPolicy[]): Acl {
  const exact = new Map<string, Perms>();
  const prefix = new Map<string, Perms>();
  const segment = new Map<string, Perms>();
  for (const policy of policies) {
    for (const rule of policy.rules) {
      // Templated paths need an identity to fill in; without one Vault skips them, and so do we.
      if (rule.templated) continue;
      const [table, key] = hasSegmentWildcard(rule.path) ? [segment, rule.path]
        : rule.path.endsWith('*') ? [prefix, rule.path.slice(0, -1)] : [exact, rule.path];
      table.set(key, merge(table.get(key), rule));
    }
  }
  return new CompiledAcl(exact, prefix, segment);
}

function merge(existing: Perms | undefined, rule: ParsedRule): Perms {
  const bits = bitsOf(rule.capabilities);
  if (!existing) {
    return {
      bits, minWrap: rule.minWrappingTtl, maxWrap: rule.maxWrappingTtl,
      allowed: mergeParameters(undefined, rule.allowedParameters), denied: mergeParameters(undefined, rule.deniedParameters),
      required: [...rule.requiredParameters],
    };
  }
  if (existing.bits & DENY) return existing;
  if (bits & DENY) return { ...existing, bits: DENY, allowed: undefined, denied: undefined };
  existing.bits |= bits;
  // The shortest lifetimes win.
  if (rule.maxWrappingTtl > 0 && (existing.maxWrap === 0 || rule.maxWrappingTtl < existing.maxWrap)) existing.maxWrap = rule.maxWrappingTtl;
  if (rule.minWrappingTtl > 0 && (existing.minWrap === 0 || rule.minWrappingTtl < existing.minWrap)) existing.minWrap = rule.minWrappingTtl;
  existing.allowed = mergeParameters(existing.allowed, rule.allowedParameters);
  existing.denied = mergeParameters(existing.denied, rule.deniedParameters);
  for (const r of rule.requiredParameters) if (!existing.required.includes(r)) existing.required.push(r);
  return existing;
}

function mergeParameters(existing: Map<string, unknown[]> | undefined, added: ReadonlyMap<string, readonly unknown[]> | undefined): Map<string, unknown[]> | undefined {
  if (!added || added.size === 0) return existing;
  const out = new Map(existing ?? []);
  for (const [name, values] of added) {
    const before = out.get(name);
    out.set(name, before === undefined ? [...values] : values.length === 0 || before.length === 0 ? [] : [...values, ...before]);
  }
  return out;
}

function freeze(p: Perms): CompiledPerms {
  const names = p.bits & DENY ? ['deny' as const] : CAPABILITIES.filter((c) => p.bits & BIT[c]);
  const capabilities = Object.freeze(names.length === 0 ? ['deny' as const] : names);
  const sudo = (p.bits & BIT.sudo) !== 0;
  return {
    ...p,
    hasParameterRules: p.allowed !== undefined || p.denied !== undefined || p.required.length > 0,
    allow: Object.freeze({ allowed: true, sudo, capabilities }),
    refuse: Object.freeze({ allowed: false, sudo, capabilities }),
  };
}

class CompiledAcl implements Acl {
  readonly isRoot = false;
  readonly #exact: Map<string, CompiledPerms>;
  readonly #prefixes: Map<string, Candidate>;
  /** Distinct prefix lengths, longest first. */
  readonly #prefixLengths: number[];
  readonly #segments: SegmentRule[];

  constructor(exact: Map<string, Perms>, prefix: Map<string, Perms>, segment: Map<string, Perms>) {
    this.#exact = new Map([...exact].map(([k, p]) => [k, freeze(p)]));
    this.#prefixes = new Map([...prefix].map(([k, p]) => [k, {
      firstWildcard: utf8Length(k), isPrefix: true, wildcards: 0, length: utf8Length(k), sortKey: Buffer.from(k), perms: freeze(p),
    }]));
    this.#prefixLengths = [...new Set([...prefix.keys()].map((k) => k.length))].sort((a, b) => b - a);
    this.#segments = [...segment].map(([full, p]) => {
      const isPrefix = full.endsWith('*');
      const wcPath = isPrefix ? full.slice(0, -1) : full;
      const parts = wcPath.split('/');
      return {
        parts, isPrefix, firstWildcard: utf8Length(full.slice(0, full.indexOf('+'))),
        wildcards: parts.filter((s) => s === '+').length, length: utf8Length(wcPath), sortKey: Buffer.from(wcPath), perms: freeze(p),
      };
    });
  }

  check(path: string, operation: Operation, request: AclRequest): AclCheck {
    const p = this.#find(path, operation === 'list');
    if (!p) return NO_MATCH;
    if ((p.bits & OP_BIT[operation]) === 0) return p.refuse;
    const wrapTtl = request.wrapTtl;
    if (p.maxWrap > 0 && (wrapTtl === undefined || wrapTtl > p.maxWrap)) return p.refuse;
    if (p.minWrap > 0 && (wrapTtl === undefined || wrapTtl < p.minWrap)) return p.refuse;
    // Merging can leave min above max even though each stanza was checked on its own.
    if (p.minWrap > 0 && p.maxWrap > 0 && p.maxWrap < p.minWrap) return p.refuse;
    if (p.hasParameterRules && PARAMETER_OPS.has(operation) && !request.skipParameterChecks && !parametersAllowed(p, request.data)) return p.refuse;
    return p.allow;
  }

  capabilities(path: string): string[] {
    const p = this.#find(path, true);
    return p ? [...p.allow.capabilities].sort() : ['deny'];
  }

  /**
   * Vault's hasMountAccess walk: a rule at or under `prefix` (exact, `*` or `+`) that grants
   * anything but deny. Used by the mount preflight, never by request checks.
   */
  hasAccessUnder(prefix: string): boolean {
    const grants = (p: CompiledPerms): boolean => (p.bits & DENY) === 0 && p.bits !== 0;
    for (const [path, p] of this.#exact) if (path.startsWith(prefix) && grants(p)) return true;
    for (const [path, c] of this.#prefixes) if (path.startsWith(prefix) && grants(c.perms)) return true;
    const under = prefix.replace(/\/$/, '').split('/');
    return this.#segments.some((r) => grants(r.perms) && under.every((got, i) => {
      const want = r.parts[i];
      // Past the rule's last segment only a '*' rule still covers the path ("+" alone never reaches "a/b/").
      if (want === undefined) return r.isPrefix;
      return want === '+' || want === got || (r.isPrefix && i === r.parts.length - 1 && got.startsWith(want));
    }));
  }

  #find(rawPath: string, isList: boolean): CompiledPerms | undefined {
    let path = rawPath;
    while (path.startsWith('/')) path = path.slice(1);
    const exact = this.#exact.get(path) ?? (isList && path.endsWith('/') ? this.#exact.get(path.slice(0, -1)) : undefined);
    if (exact) return exact;
    const found = this.#nonExact(path);
    if (found || !isList || !path.endsWith('/')) return found;
    return this.#nonExact(path.slice(0, -1));
  }

  #nonExact(path: string): CompiledPerms | undefined {
    let best: Candidate | undefined;
    for (const length of this.#prefixLengths) {
      if (length > path.length) continue;
      best = this.#prefixes.get(length === path.length ? path : path.slice(0, length));
      if (best) break;
    }
    if (this.#segments.length > 0) {
      const parts = path.split('/');
      for (const rule of this.#segments) {
        if (segmentMatches(rule, parts) && (!best || outranks(rule, best))) best = rule;
      }
    }
    return best?.perms;
  }
}

function segmentMatches(rule: SegmentRule, parts: readonly string[]): boolean {
  const n = rule.parts.length;
  if (parts.length < n || (!rule.isPrefix && parts.length !== n)) return false;
  for (let i = 0; i < n; i++) {
    const want = rule.parts[i]!;
    const got = parts[i]!;
    if (want === '+' || want === got) continue;
    if (rule.isPrefix && i === n - 1 && got.startsWith(want)) continue;
    return false;
  }
  return true;
}

/** Vault's priority order: later first wildcard, not a prefix, fewer '+', longer, then greater. */
function outranks(a: Candidate, b: Candidate): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard > b.firstWildcard;
  if (a.isPrefix !== b.isPrefix) return !a.isPrefix;
  if (a.wildcards !== b.wildcards) return a.wildcards < b.wildcards;
  if (a.length !== b.length) return a.length > b.length;
  return Buffer.compare(a.sortKey, b.sortKey) > 0;
}

function parametersAllowed(p: CompiledPerms, data: Readonly<Record<string, unknown>>): boolean {
  for (const name of p.required) if (!Object.hasOwn(data, name)) return false;
  const keys = Object.keys(data);
  if (keys.length === 0) return true;
  if (p.denied) {
    if (p.denied.has('*')) return false;
    for (const key of keys) {
      const values = p.denied.get(key.toLowerCase());
      if (values && valueIn(data[key], values)) return false;
    }
  }
  if (!p.allowed) return true;
  const anyName = p.allowed.has('*');
  if (anyName && p.allowed.size === 1) return true;
  for (const key of keys) {
    const values = p.allowed.get(key.toLowerCase());
    if (values ? !valueIn(data[key], values) : !anyName) return false;
  }
  return true;
}

/** An empty list holds every value; strings match with a leading and/or trailing '*'. */
function valueIn(value: unknown, list: readonly unknown[]): boolean {
  if (list.length === 0) return true;
  for (const item of list) {
    if (item === null || value === null || value === undefined) {
      if (item === (value ?? null)) return true;
    } else if (typeof item === 'string' && typeof value === 'string') {
      if (globMatch(item, value)) return true;
    } else if (isDeepStrictEqual(item, value)) return true;
  }
  return false;
}

/** go-secure-stdlib GlobbedStringsMatch: patterns shorter than 2 characters match only themselves. */
export function globMatch(pattern: string, value: string): boolean {
  if (pattern.length < 2) return value === pattern;
  const lead = pattern.startsWith('*');
  const trail = pattern.endsWith('*');
  if (lead && trail) return value.includes(pattern.slice(1, -1));
  if (lead) return value.endsWith(pattern.slice(1));
  if (trail) return value.startsWith(pattern.slice(0, -1));
  return value === pattern;
}
