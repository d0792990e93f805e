import * as z from 'zod';
import type { Storage } from '../storage/types.js';
import { getJson, putJson } from '../storage/view.js';
import { invalid, notFound } from '../util/errors.js';
import type { ResponseStage } from './pipeline.js';
import type { WrapInfo } from './request.js';
import { responseBody, type ResponseBody } from './response-body.js';
import type { TokenEntry } from './tokens/entry.js';
import type { TokenStore } from './tokens/store.js';

/** The one policy a wrapping token holds (cubbyhole/response, sys/wrapping/unwrap). */
export const RESPONSE_WRAPPING_POLICY = 'response-wrapping';
/** Vault's message for a wrapping token that is unknown, expired or already used. */
export const INVALID_WRAPPING_TOKEN = 'wrapping token is not valid or does not exist';

const storedSchema = z.object({
  response: z.record(z.string(), z.unknown()),
  creation_path: z.string(),
  creation_time: z.string(),
  creation_ttl: z.number(),
});
export type StoredWrap = z.infer<typeof storedSchema>;

export interface WrapOptions {
  readonly ttl: number;
  readonly creationPath: string;
  readonly displayName: string;
  readonly namespace: string;
  /** The accessor of a wrapped token (auth responses), so the holder can revoke it unseen. */
  readonly wrappedAccessor?: string;
}

export interface WrappingDeps {
  readonly tokens: Pick<TokenStore, 'create' | 'lookup' | 'use' | 'revokeTree' | 'onRevoke' | 'hash'>;
  /** A barrier view of its own ('sys/wrapping/'): responses keyed by the wrapping token's id. */
  readonly storage: Storage;
}

/**
 * Response wrapping: a response is stored under a new single-use token with the
 * `response-wrapping` policy, and the caller gets only that token. Whoever spends the token's
 * one use (an atomic step in the token store) is the only one who ever reads the response.
 */
export class ResponseWrapper {
  readonly #tokens: WrappingDeps['tokens'];
  readonly #storage: Storage;

  constructor(deps: WrappingDeps) {
    this.#tokens = deps.tokens;
    this.#storage = deps.storage;
    // A revoked or expired-and-swept wrapping token takes its response with it.
    deps.tokens.onRevoke(async (entry) => {
      if (isWrappingToken(entry)) await this.#storage.delete(keyOf(entry.id));
    });
  }

  /** Stores `response` (the original response as Vault's HTTP body) under a new wrapping token. */
  wrap(response: ResponseBody, opts: WrapOptions): Promise<WrapInfo> {
    return this.#wrap({ ...response }, opts);
  }

  /** A new wrapping token for a response taken from an old one: same TTL and creation path. */
  rewrap(stored: StoredWrap, opts: { displayName: string; namespace: string }): Promise<WrapInfo> {
    const auth = stored.response['auth'];
    const accessor = typeof auth === 'object' && auth !== null && 'accessor' in auth && typeof auth.accessor === 'string' ? auth.accessor : '';
    return this.#wrap(stored.response, {
      ttl: stored.creation_ttl, creationPath: stored.creation_path, ...opts, ...(accessor ? { wrappedAccessor: accessor } : {}),
    });
  }

  async #wrap(response: Record<string, unknown>, opts: WrapOptions): Promise<WrapInfo> {
    if (!Number.isSafeInteger(opts.ttl) || opts.ttl <= 0) throw invalid('the wrapping TTL must be a positive duration');
    const created = new Date();
    const { token, entry } = await this.#tokens.create({
      parentId: null, policies: [RESPONSE_WRAPPING_POLICY], displayName: opts.displayName, numUses: 1, ttl: opts.ttl,
      explicitMaxTtl: opts.ttl, renewable: false, path: opts.creationPath, namespace: opts.namespace, issueTime: created.getTime(),
    });
    const stored: StoredWrap = { response, creation_path: opts.creationPath, creation_time: created.toISOString(), creation_ttl: opts.ttl };
    try {
      await putJson(this.#storage, keyOf(entry.id), stored);
    } catch (error) {
      // Never hand out a token that unwraps to nothing.
      await this.#tokens.revokeTree(entry.id);
      throw error;
    }
    return {
      token, accessor: entry.accessor, ttl: opts.ttl, creation_time: stored.creation_time, creation_path: opts.creationPath,
      ...(opts.wrappedAccessor ? { wrapped_accessor: opts.wrappedAccessor } : {}),
    };
  }

  /** The live, unspent wrapping token for `token`, or a 400 with Vault's message. */
  async validate(token: string | undefined): Promise<TokenEntry> {
    const entry = token ? await this.#tokens.lookup(token) : undefined;
    if (!entry || !isWrappingToken(entry) || entry.type !== 'service' || entry.numUses <= 0) throw invalid(INVALID_WRAPPING_TOKEN);
    return entry;
  }

  /** sys/wrapping/lookup: what the token was made for; does not spend it. */
  async lookup(token: string | undefined): Promise<{ creation_path: string; creation_time: string; creation_ttl: number }> {
    const entry = await this.validate(token);
    const stored = await this.#read(entry.id);
    if (!stored) throw invalid(INVALID_WRAPPING_TOKEN);
    return { creation_path: stored.creation_path, creation_time: stored.creation_time, creation_ttl: stored.creation_ttl };
  }

  /**
   * Takes the response of a wrapping token given by someone else (a body `token`): spends its
   * one use first, so of any number of concurrent callers exactly one gets past this line.
   */
  async claim(token: string): Promise<StoredWrap> {
    const entry = await this.validate(token);
    const use = await this.#tokens.use(entry);
    if (!use.ok) throw invalid(INVALID_WRAPPING_TOKEN);
    try {
      return await this.#take(entry.id);
    } finally {
      await this.#tokens.revokeTree(entry.id);
    }
  }

  /**
   * Takes the response of the caller's own wrapping token, whose one use the pipeline has just
   * spent for this request (and revokes after it).
   */
  async takeSpent(caller: { tokenId: string; policies: readonly string[] }): Promise<StoredWrap> {
    if (!isWrappingToken(caller)) throw invalid(INVALID_WRAPPING_TOKEN);
    return this.#take(caller.tokenId);
  }

  /** The storage id of a token, to tell whether a body token is the caller's own. */
  idOf(token: string): string {
    return this.#tokens.hash(token);
  }

  /** The pipeline stage that wraps any response when the request asked for it (keep it last). */
  stage(): ResponseStage {
    return {
      process: async (res, { req, path, caller, mountType }) => {
        const ttl = req.wrapTtl;
        if (ttl === undefined || res.wrapInfo || res.raw || (res.status !== undefined && res.status >= 400)) return res;
        if (!res.data && !res.auth) return res;
        // As Vault: a wrapped empty listing is a 404, never a token that unwraps to nothing.
        if (req.operation === 'list' && !res.auth && Array.isArray(res.data?.['keys']) && res.data['keys'].length === 0) throw notFound();
        const wrapInfo = await this.wrap(responseBody(req.id, { ...res, mountType: res.mountType ?? mountType }), {
          ttl, creationPath: path, displayName: caller?.displayName ?? '', namespace: req.namespace,
          ...(res.auth?.accessor ? { wrappedAccessor: res.auth.accessor } : {}),
        });
        return { wrapInfo, ...(res.mountType === undefined ? {} : { mountType: res.mountType }) };
      },
    };
  }

  async #read(id: string): Promise<StoredWrap | undefined> {
    const raw = await getJson(this.#storage, keyOf(id));
    return raw === undefined ? undefined : storedSchema.parse(raw);
  }

  async #take(id: string): Promise<StoredWrap> {
    const stored = await this.#read(id);
    if (!stored) throw invalid(INVALID_WRAPPING_TOKEN);
    await this.#storage.delete(keyOf(id));
    return stored;
  }
}

/** A token is a wrapping token when `response-wrapping` is its only policy (as in Vault). */
export function isWrappingToken(entry: { readonly policies: readonly string[] }): boolean {
  return entry.policies.length === 1 && entry.policies[0] === RESPONSE_WRAPPING_POLICY;
}

const keyOf = (tokenId: string): string => `response/${tokenId}`;
