import { randomInt } from 'node:crypto';
import * as z from 'zod';
import { ConfigError, isPlainObject, readDocument } from '../../util/hcl/index.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { invalid, notFound } from '../../util/errors.js';

/**
 * Password policies (`sys/policies/password/:name`): Vault's HCL with a `length` and `rule
 * "charset"` blocks, each with a `charset` and a `min-chars`. Used by the database engine.
 *
 *   length = 24
 *   rule "charset" { charset = "abcdefghijklmnopqrstuvwxyz" min-chars = 1 }
 *   rule "charset" { charset = "0123456789" min-chars = 2 }
 */

export interface PasswordPolicy {
  readonly length: number;
  readonly rules: readonly { readonly charset: readonly string[]; readonly minChars: number }[];
}

const MIN_LENGTH = 4;
const MAX_LENGTH = 100;
const MAX_CHARSET = 256;
const MAX_POLICY_BYTES = 64 * 1024;

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
/** Vault's default generator: 20 characters, at least one lower, upper, digit and '-'. */
export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = {
  length: 20,
  rules: [LOWER, UPPER, DIGITS, '-'].map((c) => ({ charset: [...c], minChars: 1 })),
};

export function parsePasswordPolicy(text: string): PasswordPolicy {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) throw invalid('password policy is too large');
  let tree: unknown;
  try {
    tree = readDocument(text, text.trimStart().startsWith('{') ? 'json' : 'hcl', 'policy').tree;
  } catch (e) {
    if (e instanceof ConfigError) throw invalid(`unable to parse password policy: ${e.problem}${e.line === undefined ? '' : ` (line ${e.line})`}`);
    throw e;
  }
  if (!isPlainObject(tree)) throw invalid('unable to parse password policy: not an object');
  for (const key of Object.keys(tree)) if (key !== 'length' && key !== 'rule') throw invalid(`unknown key "${key}" in password policy`);
  const length = Number(tree['length']);
  if (!Number.isInteger(length) || length < MIN_LENGTH || length > MAX_LENGTH) throw invalid(`length must be an integer from ${MIN_LENGTH} to ${MAX_LENGTH}`);
  const raw = tree['rule'];
  const blocks = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const rules: { charset: string[]; minChars: number }[] = [];
  for (const block of blocks) {
    if (!isPlainObject(block)) throw invalid('each rule must be a block');
    for (const [type, body] of Object.entries(block)) {
      if (type !== 'charset') throw invalid(`unknown rule type "${type}" (only "charset" is supported)`);
      if (!isPlainObject(body) || typeof body['charset'] !== 'string') throw invalid('a charset rule needs a charset');
      for (const key of Object.keys(body)) if (key !== 'charset' && key !== 'min-chars') throw invalid(`unknown key "${key}" in charset rule`);
      const charset = [...new Set([...body['charset']])];
      const minChars = body['min-chars'] === undefined ? 0 : Number(body['min-chars']);
      if (charset.length === 0 || charset.length > MAX_CHARSET) throw invalid(`a charset must hold 1 to ${MAX_CHARSET} characters`);
      if (!Number.isInteger(minChars) || minChars < 0) throw invalid('min-chars must be a non-negative integer');
      rules.push({ charset, minChars });
    }
  }
  if (rules.length === 0) throw invalid('a password policy needs at least one charset rule');
  if (rules.reduce((n, r) => n + r.minChars, 0) > length) throw invalid('the rules ask for more characters than length allows');
  return { length, rules };
}

/** A password from the CSPRNG that meets every rule: the minima first, the rest from all charsets, then shuffled. */
export function generatePassword(policy: PasswordPolicy): string {
  const union = [...new Set(policy.rules.flatMap((r) => r.charset))];
  const out: string[] = [];
  for (const rule of policy.rules) for (let i = 0; i < rule.minChars; i++) out.push(rule.charset[randomInt(rule.charset.length)]!);
  while (out.length < policy.length) out.push(union[randomInt(union.length)]!);
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out.join('');
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const checkName = (name: string): string => {
  if (!NAME.test(name)) throw invalid('invalid password policy name');
  return name;
};

/** The stored policies, in a barrier view of their own (`sys/password-policy/`). */
export class PasswordPolicies {
  readonly #s: Storage;

  constructor(storage: Storage) {
    this.#s = storage;
  }

  async get(name: string): Promise<{ text: string; policy: PasswordPolicy } | undefined> {
    const raw = await getJson(this.#s, checkName(name));
    if (!isPlainObject(raw) || typeof raw['policy'] !== 'string') return undefined;
    return { text: raw['policy'], policy: parsePasswordPolicy(raw['policy']) };
  }

  async put(name: string, text: string): Promise<void> {
    generatePassword(parsePasswordPolicy(text)); // refuse a policy that cannot produce a password
    await putJson(this.#s, checkName(name), { policy: text });
  }

  delete(name: string): Promise<void> { return this.#s.delete(checkName(name)); }
  list(): Promise<string[]> { return this.#s.list(''); }

  /** A password from the named policy, or Vault's default generator when `name` is empty. */
  async generate(name?: string): Promise<string> {
    if (!name) return generatePassword(DEFAULT_PASSWORD_POLICY);
    const found = await this.get(name);
    if (!found) throw invalid(`password policy "${name}" does not exist`);
    return generatePassword(found.policy);
  }
}

const fields = z.object({ policy: z.string().optional() });

export function passwordPolicyPaths(policies: PasswordPolicies): PathSpec[] {
  const list = async () => {
    const keys = await policies.list();
    if (keys.length === 0) throw notFound();
    return { data: { keys } };
  };
  return [
    definePath({
      pattern: 'policies/password',
      help: 'Lists the password policies.',
      operations: { list },
    }),
    definePath({
      pattern: 'policies/password/:name/generate',
      help: 'Generates a password from the named password policy.',
      operations: {
        read: async (ctx) => ({ data: { password: await policies.generate(checkName(ctx.params['name'] ?? '')) } }),
      },
    }),
    definePath({
      pattern: 'policies/password/:name',
      help: 'Reads, writes (`policy`: HCL with `length` and `rule "charset"` blocks) or deletes a password policy.',
      fields,
      fieldHelp: { policy: 'The policy text, HCL or JSON (base64 accepted).' },
      operations: {
        read: async (ctx) => {
          const found = await policies.get(ctx.params['name'] ?? '');
          if (!found) throw notFound();
          return { data: { policy: found.text } };
        },
        update: async (ctx) => {
          const text = ctx.data.policy ?? '';
          if (text.trim() === '') throw invalid('missing policy');
          await policies.put(ctx.params['name'] ?? '', fromBase64(text));
          return { noContent: true };
        },
        delete: async (ctx) => {
          await policies.delete(ctx.params['name'] ?? '');
          return { noContent: true };
        },
      },
    }),
  ];
}

function fromBase64(text: string): string {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return text;
  const decoded = Buffer.from(compact, 'base64').toString('utf8');
  return /length|rule/.test(decoded) ? decoded : text;
}
