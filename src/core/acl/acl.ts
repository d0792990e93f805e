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
 * Coffer's conditions: a stanza whose conditions do not hold for the request is treated as if
 * it were not written. A path whose stanzas all have failing conditions is absent, and the next
 * best rule decides. Paths without conditional stanzas are merged once, at compile time.
 *
 * Templated stanzas are filled in from the identity the ACL is compiled for; without one, or
 * when a value is missing or not a plain segment, the stanza does not apply.
 *
 * Matching runs on every request: exact rules are a Map, prefix rules a Map probed by the
 * distinct prefix lengths (longest first), segment rules a list pre-split into segments.
 */
import type { Operation } from '../request.js';
import { compileConditions, type CompiledConditions } from './conditions.js';
import type { ParsedPolicy, ParsedRule } from './parse.js';
import { DENY, clonePerms, decide, freeze, grantsSomething, merge, type CompiledPerms, type Perms } from './perms.js';
import { renderTemplate } from './template.js';
import type { Acl, AclCheck, AclRequest, Capability, Explanation, IdentityView, MatchKind, RequestContext, StanzaRef } from './types.js';

export { globMatch } from './perms.js';

interface Stanza {
  readonly rule: ParsedRule;
  readonly policy: string;
  readonly conditions: CompiledConditions | undefined;
}

/** One policy path (exact, prefix or segment rule) and every stanza that names it. */
interface Slot {
  /** The rule as written in policies: `secret/x`, `secret/*`, `secret/+/x`. */
  readonly rule: string;
  readonly match: MatchKind;
  readonly stanzas: readonly Stanza[];
  /** The unconditional stanzas, merged and frozen; undefined when there are none. */
  readonly fixed: CompiledPerms | undefined;
  readonly conditional: readonly Stanza[];
}

/** A non-exact rule as the priority order sees it; lengths and positions are in UTF-8 bytes, as in Vault. */
interface Candidate {
  readonly firstWildcard: number;
  readonly isPrefix: boolean;
  readonly wildcards: number;
  readonly length: number;
  readonly sortKey: Buffer;
  readonly slot: Slot;
}

interface SegmentRule extends Candidate {
  readonly parts: readonly string[];
}

interface Found {
  readonly perms: CompiledPerms;
  readonly slot: Slot;
}

const NO_MATCH: AclCheck = Object.freeze({ allowed: false, sudo: false, capabilities: Object.freeze(['deny'] as Capability[]) });

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Vault's test for a segment-wildcard path (a '+' that starts a segment). */
const hasSegmentWildcard = (path: string): boolean => path === '+' || path.includes('/+') || path.startsWith('+/');

/** Compiles policies into one ACL; `identity` fills in templated stanzas (they are skipped without it). */
export function compileAcl(policies: readonly ParsedPolicy[], identity?: IdentityView): Acl {
  const tables = { exact: new Map<string, Stanza[]>(), prefix: new Map<string, Stanza[]>(), segment: new Map<string, Stanza[]>() };
  for (const policy of policies) {
    for (const written of policy.rules) {
      let rule = written;
      if (rule.templated) {
        const path = identity && rule.template ? renderTemplate(rule.template, identity) : undefined;
        if (path === undefined) continue;
        rule = { ...rule, path, templated: false, template: undefined, writtenPath: written.path };
      }
      const [table, key] = hasSegmentWildcard(rule.path) ? [tables.segment, rule.path]
        : rule.path.endsWith('*') ? [tables.prefix, rule.path.slice(0, -1)] : [tables.exact, rule.path];
      const stanza: Stanza = { rule, policy: policy.name ?? '', conditions: rule.conditions && compileConditions(rule.conditions) };
      const list = table.get(key);
      if (list) list.push(stanza);
      else table.set(key, [stanza]);
    }
  }
  return new CompiledAcl(tables.exact, tables.prefix, tables.segment);
}

function slotOf(rule: string, match: MatchKind, stanzas: readonly Stanza[]): Slot {
  let base: Perms | undefined;
  for (const s of stanzas) if (!s.conditions) base = merge(base, s.rule);
  return { rule, match, stanzas, fixed: base && freeze(base), conditional: stanzas.filter((s) => s.conditions) };
}

/** The slot's permissions for this request, or undefined when none of its stanzas applies now. */
function resolve(slot: Slot, context: RequestContext | undefined): CompiledPerms | undefined {
  if (slot.conditional.length === 0) return slot.fixed;
  let p: Perms | undefined = slot.fixed && clonePerms(slot.fixed);
  for (const s of slot.conditional) if (s.conditions?.holds(context)) p = merge(p, s.rule);
  return p && freeze(p);
}

class CompiledAcl implements Acl {
  readonly isRoot = false;
  readonly #exact: Map<string, Slot>;
  readonly #prefixes: Map<string, Candidate>;
  /** Distinct prefix lengths, longest first. */
  readonly #prefixLengths: number[];
  readonly #segments: SegmentRule[];

  constructor(exact: Map<string, Stanza[]>, prefix: Map<string, Stanza[]>, segment: Map<string, Stanza[]>) {
    this.#exact = new Map([...exact].map(([k, s]) => [k, slotOf(k, 'exact', s)]));
    this.#prefixes = new Map([...prefix].map(([k, s]) => [k, {
      firstWildcard: utf8Length(k), isPrefix: true, wildcards: 0, length: utf8Length(k), sortKey: Buffer.from(k), slot: slotOf(`${k}*`, 'prefix', s),
    }]));
    this.#prefixLengths = [...new Set([...prefix.keys()].map((k) => k.length))].sort((a, b) => b - a);
    this.#segments = [...segment].map(([full, s]) => {
      const isPrefix = full.endsWith('*');
      const wcPath = isPrefix ? full.slice(0, -1) : full;
      const parts = wcPath.split('/');
      return {
        parts, isPrefix, firstWildcard: utf8Length(full.slice(0, full.indexOf('+'))),
        wildcards: parts.filter((p) => p === '+').length, length: utf8Length(wcPath), sortKey: Buffer.from(wcPath), slot: slotOf(full, 'segment', s),
      };
    });
  }

  check(path: string, operation: Operation, request: AclRequest): AclCheck {
    const found = this.#find(path, operation === 'list', request.context);
    if (!found) return NO_MATCH;
    return decide(found.perms, operation, request) === 'ok' ? found.perms.allow : found.perms.refuse;
  }

  capabilities(path: string, context?: RequestContext): string[] {
    const found = this.#find(path, true, context);
    return found ? [...found.perms.allow.capabilities].sort() : ['deny'];
  }

  /**
   * Vault's hasMountAccess walk: a rule at or under `prefix` (exact, `*` or `+`) that grants
   * anything but deny. Used by the mount preflight, never by request checks.
   */
  hasAccessUnder(prefix: string, context?: RequestContext): boolean {
    const grants = (slot: Slot): boolean => {
      const p = resolve(slot, context);
      return p !== undefined && grantsSomething(p);
    };
    for (const [path, slot] of this.#exact) if (path.startsWith(prefix) && grants(slot)) return true;
    for (const [path, c] of this.#prefixes) if (path.startsWith(prefix) && grants(c.slot)) return true;
    const under = prefix.replace(/\/$/, '').split('/');
    return this.#segments.some((r) => under.every((got, i) => {
      const want = r.parts[i];
      // Past the rule's last segment only a '*' rule still covers the path ("+" alone never reaches "a/b/").
      if (want === undefined) return r.isPrefix;
      return want === '+' || want === got || (r.isPrefix && i === r.parts.length - 1 && got.startsWith(want));
    }) && grants(r.slot));
  }

  explain(path: string, operation: Operation, request: AclRequest): Explanation {
    const context = request.context;
    const isList = operation === 'list';
    const found = this.#find(path, isList, context);
    const ref = (s: Stanza): StanzaRef => ({
      policy: s.policy,
      path: s.rule.writtenPath ?? s.rule.path,
      ...(s.rule.writtenPath === undefined ? {} : { rendered: s.rule.path }),
      capabilities: s.rule.capabilities,
      conditions: s.conditions ? s.conditions.evaluate(context) : [],
    });
    const skipped = this.#matchingSlots(path, isList).flatMap((slot) => slot.conditional
      .filter((s) => !s.conditions?.holds(context))
      .map((s) => ({ ...ref(s), rule: slot.rule, match: slot.match })));
    const base = { root: false, skipped };
    if (!found) {
      const why = skipped.length > 0 ? ' (stanzas whose conditions do not hold now are treated as absent)' : '';
      return { ...base, allowed: false, sudo: false, capabilities: ['deny'], rule: undefined, match: undefined, decidedBy: [], reason: `no stanza in the token's policies matches "${path}"${why}` };
    }
    const { perms, slot } = found;
    const decidedBy = slot.stanzas.filter((s) => !s.conditions || s.conditions.holds(context)).map(ref);
    const refusal = decide(perms, operation, request);
    const reason = refusal === 'ok' ? `allowed by "${slot.rule}"`
      : refusal === 'capability' ? (perms.bits & DENY ? `denied by a deny stanza on "${slot.rule}"` : `"${slot.rule}" does not grant "${operation}"`)
        : refusal === 'wrapping' ? `"${slot.rule}" requires response wrapping with a TTL between its min_wrapping_ttl and max_wrapping_ttl`
          : `the request's parameters are not allowed by "${slot.rule}"`;
    return {
      ...base, allowed: refusal === 'ok', sudo: perms.allow.sudo, capabilities: [...perms.allow.capabilities].sort(),
      rule: slot.rule, match: slot.match, decidedBy, reason,
    };
  }

  #find(rawPath: string, isList: boolean, context: RequestContext | undefined): Found | undefined {
    let path = rawPath;
    while (path.startsWith('/')) path = path.slice(1);
    const exact = this.#exactAt(path, context) ?? (isList && path.endsWith('/') ? this.#exactAt(path.slice(0, -1), context) : undefined);
    if (exact) return exact;
    const found = this.#nonExact(path, context);
    if (found || !isList || !path.endsWith('/')) return found;
    return this.#nonExact(path.slice(0, -1), context);
  }

  #exactAt(path: string, context: RequestContext | undefined): Found | undefined {
    const slot = this.#exact.get(path);
    const perms = slot && resolve(slot, context);
    return perms && { perms, slot: slot! };
  }

  #nonExact(path: string, context: RequestContext | undefined): Found | undefined {
    let best: Candidate | undefined;
    let perms: CompiledPerms | undefined;
    for (const length of this.#prefixLengths) {
      if (length > path.length) continue;
      const c = this.#prefixes.get(length === path.length ? path : path.slice(0, length));
      const p = c && resolve(c.slot, context);
      if (p) {
        best = c;
        perms = p;
        break;
      }
    }
    if (this.#segments.length > 0) {
      const parts = path.split('/');
      for (const rule of this.#segments) {
        if (!segmentMatches(rule, parts) || (best && !outranks(rule, best))) continue;
        const p = resolve(rule.slot, context);
        if (p) {
          best = rule;
          perms = p;
        }
      }
    }
    return best && perms && { perms, slot: best.slot };
  }

  /** Every slot that matches the path, whether or not its stanzas apply now (for explanations). */
  #matchingSlots(rawPath: string, isList: boolean): Slot[] {
    const path = rawPath.replace(/^\/+/, '');
    const variants = isList && path.endsWith('/') ? [path, path.slice(0, -1)] : [path];
    const out = new Set<Slot>();
    for (const p of variants) {
      const exact = this.#exact.get(p);
      if (exact) out.add(exact);
      for (const [key, c] of this.#prefixes) if (p.startsWith(key)) out.add(c.slot);
      const parts = p.split('/');
      for (const rule of this.#segments) if (segmentMatches(rule, parts)) out.add(rule.slot);
    }
    return [...out];
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
