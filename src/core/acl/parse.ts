/**
 * Reading ACL policies: Vault's HCL (version 1, through the config reader's parser) or JSON,
 * into plain rules. Nothing here matches paths; ./acl.ts compiles the rules.
 *
 *   path "secret/+/teamb" { capabilities = ["read"] }
 *   {"path": {"secret/+/teamb": {"capabilities": ["read"]}}}
 *
 * Every problem is a CofferError 'invalid_request' whose message names the path stanza.
 */
import { tryParseDuration } from '../../util/duration.js';
import { readDocument } from '../../util/hcl/index.js';
import { ConfigError, isPlainObject, type LineLookup, type PlainObject } from '../../config/schema.js';
import { CofferError } from '../../util/errors.js';
import { parseConditions, type ParsedConditions } from './conditions.js';
import { hasTemplate, parseTemplate, type Template } from './template.js';
import type { Capability } from './types.js';

/** Policy texts above this size are refused (a policy is a list of paths, not a data store). */
export const MAX_POLICY_BYTES = 1024 * 1024;

export const CAPABILITIES: readonly Capability[] = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'];

/** The old single-word `policy = "..."` form and the capabilities it stands for. */
const LEGACY: Readonly<Record<string, readonly Capability[]>> = {
  deny: ['deny'],
  read: ['read', 'list'],
  write: ['create', 'read', 'update', 'delete', 'list'],
  sudo: ['create', 'read', 'update', 'delete', 'list', 'sudo'],
};

const STANZA_KEYS = new Set(['comment', 'policy', 'capabilities', 'allowed_parameters', 'denied_parameters', 'required_parameters', 'min_wrapping_ttl', 'max_wrapping_ttl', 'conditions']);
/** Keys Vault or OpenBao know that Coffer does not implement: refused rather than silently ignored. */
const UNSUPPORTED_KEYS = new Set(['mfa_methods', 'control_group', 'expiration', 'pagination_limit', 'list_scan_response_keys_filter_path']);

export interface ParsedRule {
  /** The path as written, without a leading '/', with its trailing '*' if any. */
  readonly path: string;
  /** `['deny']` alone when the stanza denies; may be empty (matches, grants nothing). */
  readonly capabilities: readonly Capability[];
  /** Lower-cased parameter names → allowed values (`[]` = any value); undefined when unset or empty. */
  readonly allowedParameters: ReadonlyMap<string, readonly unknown[]> | undefined;
  readonly deniedParameters: ReadonlyMap<string, readonly unknown[]> | undefined;
  /** Lower-cased. */
  readonly requiredParameters: readonly string[];
  /** Seconds; 0 = no bound. */
  readonly minWrappingTtl: number;
  readonly maxWrappingTtl: number;
  /** The path holds `{{identity...}}` templating: it applies only once filled in from an identity. */
  readonly templated: boolean;
  /** The parsed template of a templated path. */
  readonly template?: Template | undefined;
  /** Set on a rule made by filling in a template: the path as written. */
  readonly writtenPath?: string;
  /** Coffer's attribute conditions; the stanza applies only while they all hold. */
  readonly conditions?: ParsedConditions | undefined;
}

export interface ParsedPolicy {
  readonly rules: readonly ParsedRule[];
  /** The policy's name, when it came from the store (explanations name it). */
  readonly name?: string;
}

const fail = (message: string): never => {
  throw new CofferError('invalid_request', `failed to parse policy: ${message}`);
};

interface ParseOptions {
  /**
   * Reading a policy stored by an earlier version, which took any `{{...}}`: an unknown template
   * directive then makes its stanza never apply (Vault's behaviour) instead of failing the policy.
   */
  readonly stored?: boolean;
}

/** Parses policy text, HCL or JSON (JSON when it starts with `{`, as Vault's HCL reader decides). */
export function parsePolicy(text: string): ParsedPolicy {
  return parseWith(text, {});
}

/** Parses a policy read back from storage (see ParseOptions.stored). */
export function parseStoredPolicy(text: string): ParsedPolicy {
  return parseWith(text, { stored: true });
}

function parseWith(text: string, options: ParseOptions): ParsedPolicy {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) fail(`policy is larger than ${MAX_POLICY_BYTES} bytes`);
  const format = text.replace(/^\uFEFF/, '').trimStart().startsWith('{') ? 'json' : 'hcl';
  let doc: { tree: unknown; lines: LineLookup };
  try {
    doc = readDocument(text, format, 'policy');
  } catch (e) {
    if (e instanceof ConfigError) fail(`${e.key === undefined ? '' : `${e.key}: `}${e.problem}${e.line === undefined ? '' : ` (line ${e.line})`}`);
    if (e instanceof RangeError) fail('policy is nested too deeply');
    throw e;
  }
  const { tree, lines } = doc;
  if (!isPlainObject(tree)) return fail('does not contain a root object');
  const rules: ParsedRule[] = [];
  for (const key of Object.keys(tree)) {
    if (key === 'name') continue;
    if (key !== 'path') fail(`invalid key "${key}"${at(lines, tree, key)}`);
  }
  if (tree['path'] !== undefined) collectStanzas(tree['path'], lines, rules, options);
  return { rules };
}

function at(lines: LineLookup, obj: object, key: string): string {
  const line = lines.lineOfKey(obj, key);
  return line === undefined ? '' : ` on line ${line}`;
}

/** `path` holds `{ "<path>" = { body } ... }`, or a list of those when blocks repeat. */
function collectStanzas(value: unknown, lines: LineLookup, out: ParsedRule[], options: ParseOptions): void {
  if (Array.isArray(value)) {
    for (const item of value) collectStanzas(item, lines, out, options);
    return;
  }
  if (!isPlainObject(value)) return fail('"path" must be a block such as path "secret/*" { capabilities = ["read"] }');
  for (const [path, body] of Object.entries(value)) {
    const bodies = Array.isArray(body) ? body : [body];
    for (const b of bodies) {
      if (!isPlainObject(b)) return fail(`path "${path}"${at(lines, value, path)}: must be a block of settings`);
      out.push(parseStanza(path, b, lines, options));
    }
  }
}

function parseStanza(written: string, body: PlainObject, lines: LineLookup, options: ParseOptions): ParsedRule {
  const where = `path "${written}"`;
  const bad = (problem: string, key?: string): never => fail(`${where}${key === undefined ? '' : at(lines, body, key)}: ${problem}`);
  for (const key of Object.keys(body)) {
    if (UNSUPPORTED_KEYS.has(key)) bad(`"${key}" is not supported by Coffer`, key);
    if (!STANZA_KEYS.has(key)) bad(`invalid key "${key}"`, key);
  }

  const path = written.startsWith('/') ? written.slice(1) : written;
  if (path.includes('+*')) bad("invalid use of wildcards ('+*' is forbidden)");
  const star = path.indexOf('*');
  if (star >= 0 && star !== path.length - 1) bad('the glob "*" is only allowed as the last character of the path');

  let capabilities: Capability[] = [];
  const legacy = body['policy'];
  if (legacy !== undefined) {
    if (typeof legacy !== 'string' || LEGACY[legacy] === undefined) bad(`invalid policy ${JSON.stringify(legacy)} (use deny, read, write or sudo)`, 'policy');
    capabilities.push(...(LEGACY[legacy as string] ?? []));
  }
  for (const cap of stringList(body['capabilities'], () => bad('capabilities must be a list of strings', 'capabilities'))) {
    if (!(CAPABILITIES as readonly string[]).includes(cap)) bad(`invalid capability ${JSON.stringify(cap)}`, 'capabilities');
    capabilities.push(cap as Capability);
  }
  const ttl = (key: string): number => {
    const raw = body[key];
    if (raw === undefined) return 0;
    const parsed = tryParseDuration(raw);
    return 'problem' in parsed ? bad(`invalid ${key}: ${parsed.problem}`, key) : parsed.seconds;
  };
  const minWrappingTtl = ttl('min_wrapping_ttl');
  const maxWrappingTtl = ttl('max_wrapping_ttl');
  if (minWrappingTtl !== 0 && maxWrappingTtl !== 0 && maxWrappingTtl < minWrappingTtl) bad('max_wrapping_ttl cannot be less than min_wrapping_ttl');
  const allowedParameters = parameterMap(body, 'allowed_parameters', bad);
  const deniedParameters = parameterMap(body, 'denied_parameters', bad);
  const requiredParameters = stringList(body['required_parameters'], () => bad('required_parameters must be a list of strings', 'required_parameters'))
    .map((p) => p.toLowerCase());
  let template: Template | undefined;
  const templated = hasTemplate(path);
  if (templated) {
    const parsed = parseTemplate(path);
    // A templated rule without a template is kept but never applies (compileAcl needs one to fill in).
    if ('problem' in parsed) { if (!options.stored) bad(parsed.problem); }
    else template = parsed.template;
  }
  const conditions = parseConditions(body['conditions'], (problem) => bad(problem, 'conditions'));

  // A deny stanza grants nothing, so it carries no constraints either (as in Vault); its conditions say when it denies.
  if (capabilities.includes('deny')) {
    return { path, capabilities: ['deny'], allowedParameters: undefined, deniedParameters: undefined, requiredParameters: [], minWrappingTtl: 0, maxWrappingTtl: 0, templated, template, conditions };
  }
  capabilities = CAPABILITIES.filter((c) => capabilities.includes(c));
  return { path, capabilities, allowedParameters, deniedParameters, requiredParameters, minWrappingTtl, maxWrappingTtl, templated, template, conditions };
}

/** A list of strings; a single string is a list of one (HCL 1 decodes it so). */
function stringList(value: unknown, onBad: () => never): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) return onBad();
  return value;
}

/** `{ name = [values] }`; names are lower-cased, a single value is a list of one, null is `[]`. */
function parameterMap(body: PlainObject, key: string, bad: (problem: string, key?: string) => never): Map<string, unknown[]> | undefined {
  const raw = body[key];
  if (raw === undefined) return undefined;
  const blocks = Array.isArray(raw) && raw.every(isPlainObject) ? raw : [raw];
  const out = new Map<string, unknown[]>();
  for (const block of blocks) {
    if (!isPlainObject(block)) return bad(`${key} must be a map of parameter names to lists of values`, key);
    for (const [name, values] of Object.entries(block)) {
      const list = values === null ? [] : Array.isArray(values) ? values : [values];
      const lower = name.toLowerCase();
      const before = out.get(lower);
      // As when policies merge: `[]` (any value) wins over a list of values.
      out.set(lower, before === undefined ? list : before.length === 0 || list.length === 0 ? [] : [...before, ...list]);
    }
  }
  return out.size === 0 ? undefined : out;
}
