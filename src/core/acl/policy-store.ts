import * as z from 'zod';
import type { Storage } from '../../storage/types.js';
import { collectKeys, getJson, putJson } from '../../storage/view.js';
import { CofferError, invalid } from '../../util/errors.js';
import { compileAcl } from './acl.js';
import { DEFAULT_POLICY, RESPONSE_WRAPPING_POLICY } from './builtin.js';
import { parsePolicy, parseStoredPolicy, type ParsedPolicy } from './parse.js';
import { ROOT_ACL, type Acl, type Authorizer, type IdentityView } from './types.js';

const storedSchema = z.object({ name: z.string(), policy: z.string() });

interface CompiledSet {
  readonly key: string;
  /** The store generation it was compiled in: a stale set is never cached again. */
  readonly generation: number;
  readonly acl: Acl;
  readonly parsed: readonly ParsedPolicy[];
  /** Some stanza is templated: with an identity, the ACL is compiled again for it. */
  readonly templated: boolean;
}

/** Neither written nor deleted through the API. `root` has no text; `response-wrapping` lives in code. */
const IMMUTABLE = new Set(['root', 'response-wrapping']);
const UNDELETABLE = new Set(['root', 'response-wrapping', 'default']);

/** Bounds on the caches: distinct policy sets (one compiled ACL each) and parsed policies. */
const ACL_CACHE_SIZE = 1024;
const POLICY_CACHE_SIZE = 4096;

/**
 * The named ACL policies, stored inside the barrier (one record per name, lower-cased), and the
 * authorizer built on them: a token's policy names (plus its identity's) become one compiled ACL,
 * cached per distinct set of names, and per identity when a policy is templated. Any write or
 * delete drops the caches, so the next request sees the change.
 */
export class PolicyStore implements Authorizer {
  readonly #storage: Storage;
  #loaded = false;
  /** Bumped by every change: a compile that began before it is not cached. */
  #generation = 0;
  /** Compiled sets, by the list as given and by the sorted set of names. */
  readonly #sets = new Map<string, CompiledSet>();
  /** Sets with templated stanzas, compiled per identity (keyed by set and identity cache key). */
  readonly #templated = new Map<string, Acl>();
  /** null remembers a name that does not exist (tokens may name deleted policies). */
  readonly #parsed = new Map<string, ParsedPolicy | null>();
  readonly #responseWrapping: ParsedPolicy = { ...parsePolicy(RESPONSE_WRAPPING_POLICY), name: 'response-wrapping' };

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /** After unseal: writes Vault's `default` policy if it is absent (an edited one is kept). */
  async load(): Promise<void> {
    this.#invalidate();
    if ((await this.#storage.get('default')) === undefined) await putJson(this.#storage, 'default', { name: 'default', policy: DEFAULT_POLICY });
    this.#loaded = true;
  }

  unload(): void {
    this.#loaded = false;
    this.#invalidate();
  }

  /** The policy's text; `root` exists but has none (''). */
  async get(rawName: string): Promise<{ name: string; text: string } | undefined> {
    const name = rawName.toLowerCase();
    if (name === 'root') return { name, text: '' };
    if (name === 'response-wrapping') return { name, text: RESPONSE_WRAPPING_POLICY };
    const stored = await this.#read(name);
    return stored && { name, text: stored.policy };
  }

  /** Parses (400 on any problem, naming the path stanza) and stores a policy. */
  async put(rawName: string, text: string): Promise<void> {
    this.#assertLoaded();
    const name = checkName(rawName);
    if (IMMUTABLE.has(name)) throw invalid(`cannot update "${name}" policy`);
    if (text.trim() === '') throw invalid("'policy' parameter not supplied or empty");
    parsePolicy(text);
    await putJson(this.#storage, name, { name, policy: text });
    this.#invalidate();
  }

  /** Deleting a policy that does not exist is not an error (as in Vault). */
  async delete(rawName: string): Promise<void> {
    this.#assertLoaded();
    const name = checkName(rawName);
    if (name === 'default') throw invalid('cannot delete default policy');
    if (UNDELETABLE.has(name)) throw invalid(`cannot delete "${name}" policy`);
    await this.#storage.delete(name);
    this.#invalidate();
  }

  /** Names as Vault lists them: the stored policies, sorted, then `root`. */
  async list(): Promise<string[]> {
    this.#assertLoaded();
    const names = (await collectKeys(this.#storage)).filter((n) => !IMMUTABLE.has(n)).sort();
    return [...names, 'root'];
  }

  async aclFor(policyNames: readonly string[], identity?: IdentityView): Promise<Acl> {
    this.#assertLoaded();
    const named = identity && identity.policies.length > 0 ? [...policyNames, ...identity.policies] : policyNames;
    // The list as given is the common key (a token's list never changes); the sorted set is the true one.
    const rawKey = identity ? JSON.stringify([policyNames, identity.policies]) : JSON.stringify(policyNames);
    let set = this.#sets.get(rawKey);
    if (set) remember(this.#sets, rawKey, set, ACL_CACHE_SIZE);
    else set = await this.#compileSet(named, rawKey);
    if (!set.templated || !identity) return set.acl;
    return this.#templatedAcl(set, identity);
  }

  /** The identity-independent ACL of a set of names (templated stanzas skipped), cached. */
  async #compileSet(policyNames: readonly string[], rawKey: string): Promise<CompiledSet> {
    const names = [...new Set(policyNames.map((n) => n.toLowerCase()))].sort();
    const generation = this.#generation;
    const setKey = `\0${JSON.stringify(names)}`;
    let set = this.#sets.get(setKey);
    if (!set) {
      if (names.includes('root')) set = { key: setKey, generation, acl: ROOT_ACL, parsed: [], templated: false };
      else {
        const parsed = await Promise.all(names.map((n) => this.#policy(n, generation)));
        // Names with no policy behind them are ignored, as in Vault.
        const found = parsed.filter((p): p is ParsedPolicy => p !== null);
        set = { key: setKey, generation, acl: compileAcl(found), parsed: found, templated: found.some((p) => p.rules.some((r) => r.templated)) };
      }
    }
    if (generation === this.#generation) {
      remember(this.#sets, setKey, set, ACL_CACHE_SIZE);
      remember(this.#sets, rawKey, set, ACL_CACHE_SIZE);
    }
    return set;
  }

  /** A set with templated stanzas, filled in for one identity; cached until the identity or a policy changes. */
  #templatedAcl(set: CompiledSet, identity: IdentityView): Acl {
    const key = `${set.key}\0${identity.cacheKey}`;
    let acl = this.#templated.get(key);
    if (!acl) acl = compileAcl(set.parsed, identity);
    if (set.generation === this.#generation) remember(this.#templated, key, acl, ACL_CACHE_SIZE);
    return acl;
  }

  async #policy(name: string, generation: number): Promise<ParsedPolicy | null> {
    if (name === 'response-wrapping') return this.#responseWrapping;
    const cached = this.#parsed.get(name);
    if (cached !== undefined) return cached;
    const stored = await this.#read(name);
    let parsed: ParsedPolicy | null = null;
    if (stored) {
      // It parsed when written. If it no longer does, fail the request: skipping it could drop a deny.
      try { parsed = { ...parseStoredPolicy(stored.policy), name }; } catch (e) {
        throw new CofferError('internal', `stored policy "${name}" cannot be parsed`, { cause: e });
      }
    }
    if (generation === this.#generation) remember(this.#parsed, name, parsed, POLICY_CACHE_SIZE);
    return parsed;
  }

  async #read(name: string): Promise<z.infer<typeof storedSchema> | undefined> {
    this.#assertLoaded();
    if (!isStorable(name)) return undefined;
    const raw = await getJson(this.#storage, name);
    return raw === undefined ? undefined : storedSchema.parse(raw);
  }

  #invalidate(): void {
    this.#generation++;
    this.#sets.clear();
    this.#templated.clear();
    this.#parsed.clear();
  }

  #assertLoaded(): void {
    if (!this.#loaded) throw new CofferError('sealed', 'Vault is sealed');
  }
}

/** Lower-cases and checks a name given to put/delete. Names may hold '/', as in Vault. */
function checkName(rawName: string): string {
  const name = rawName.toLowerCase();
  if (name === '') throw invalid('policy name must be provided in the URL');
  if (!isStorable(name)) throw invalid(`invalid policy name ${JSON.stringify(rawName)}`);
  return name;
}

function isStorable(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name !== '' && !/[\u0000-\u001f\u007f]/.test(name) && name.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/** Insert into a Map used as an LRU: the oldest entry goes when it is full. */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}
