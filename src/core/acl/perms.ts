/**
 * The permissions of one policy path after merging every stanza that names it, with Vault's
 * merge rules (OpenBao internal/vault/policy/acl.go NewACL) and parameter checks.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Operation } from '../request.js';
import { CAPABILITIES, type ParsedRule } from './parse.js';
import type { AclCheck, AclRequest, Capability } from './types.js';

export const BIT: Readonly<Record<Capability, number>> = { deny: 1, create: 2, read: 4, update: 8, delete: 16, list: 32, sudo: 64, patch: 128 };
export const DENY = BIT.deny;
const OP_BIT: Readonly<Record<Operation, number>> = { read: BIT.read, create: BIT.create, update: BIT.update, patch: BIT.patch, delete: BIT.delete, list: BIT.list };
/** Operations whose data the parameter constraints look at (as in Vault). */
const PARAMETER_OPS: ReadonlySet<Operation> = new Set(['read', 'create', 'update', 'patch']);

export interface Perms {
  bits: number;
  minWrap: number;
  maxWrap: number;
  allowed: Map<string, unknown[]> | undefined;
  denied: Map<string, unknown[]> | undefined;
  required: string[];
}

export interface CompiledPerms extends Readonly<Perms> {
  readonly hasParameterRules: boolean;
  /** Results built once: checks on the hot path allocate nothing. */
  readonly allow: AclCheck;
  readonly refuse: AclCheck;
}

const bitsOf = (caps: readonly Capability[]): number => caps.reduce((b, c) => b | BIT[c], 0);

/** Merges a stanza into the permissions of its path; `existing` may be changed in place. */
export function merge(existing: Perms | undefined, rule: ParsedRule): Perms {
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

/** A copy that merging may change without touching the original. */
export function clonePerms(p: Readonly<Perms>): Perms {
  return {
    bits: p.bits, minWrap: p.minWrap, maxWrap: p.maxWrap, required: [...p.required],
    allowed: p.allowed && new Map([...p.allowed].map(([k, v]) => [k, [...v]])),
    denied: p.denied && new Map([...p.denied].map(([k, v]) => [k, [...v]])),
  };
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

export function freeze(p: Perms): CompiledPerms {
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

export const grantsSomething = (p: CompiledPerms): boolean => (p.bits & DENY) === 0 && p.bits !== 0;

/** Why the winning rule refuses an operation, or 'ok'. */
export type Refusal = 'ok' | 'capability' | 'wrapping' | 'parameters';

export function decide(p: CompiledPerms, operation: Operation, request: AclRequest): Refusal {
  if ((p.bits & OP_BIT[operation]) === 0) return 'capability';
  const wrapTtl = request.wrapTtl;
  if (p.maxWrap > 0 && (wrapTtl === undefined || wrapTtl > p.maxWrap)) return 'wrapping';
  if (p.minWrap > 0 && (wrapTtl === undefined || wrapTtl < p.minWrap)) return 'wrapping';
  // Merging can leave min above max even though each stanza was checked on its own.
  if (p.minWrap > 0 && p.maxWrap > 0 && p.maxWrap < p.minWrap) return 'wrapping';
  if (p.hasParameterRules && PARAMETER_OPS.has(operation) && !request.skipParameterChecks && !parametersAllowed(p, request.data)) return 'parameters';
  return 'ok';
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
