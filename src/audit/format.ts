import type { Caller } from '../core/framework.js';
import type { AuthResult, CoreRequest, CoreResponse, WrapInfo } from '../core/request.js';
import { isCofferError } from '../util/errors.js';
import { hashStructure, type ValueHasher } from './hmac.js';
import type { MountRef } from './types.js';

/** What both entries of one request are built from. */
export interface EntrySource {
  readonly req: CoreRequest;
  /** The normalized path, as the ACL and the router saw it. */
  readonly path: string;
  readonly caller: Caller | null;
  readonly mount: MountRef | undefined;
}

export interface FormatOptions {
  readonly hmacAccessor: boolean;
  readonly elideListResponses: boolean;
}

/**
 * Vault's request entry (OpenBao audit/format.go): `{time, type, auth, request, error}`. Tokens,
 * accessors (unless hmac_accessor=false) and every string of the data go through `hash`; the
 * caller's raw token is never written. Empty fields are left out, as Go's omitempty does.
 */
export function requestEntry(src: EntrySource, hash: ValueHasher, opts: FormatOptions, error?: unknown): Record<string, unknown> {
  return compact({
    time: new Date().toISOString(),
    type: 'request',
    auth: callerAuth(src.caller, hash, opts),
    request: requestPart(src, hash, opts),
    error: errorText(error),
  });
}

/** Vault's response entry: the request entry's fields plus `response{auth, secret, data, warnings, wrap_info, mount_type}`. */
export function responseEntry(
  src: EntrySource, res: CoreResponse | undefined, hash: ValueHasher, opts: FormatOptions, error?: unknown,
): Record<string, unknown> {
  return compact({
    time: new Date().toISOString(),
    type: 'response',
    auth: callerAuth(src.caller, hash, opts),
    request: requestPart(src, hash, opts),
    response: res === undefined ? undefined : responsePart(src, res, hash, opts),
    error: errorText(error),
  });
}

/** The JSON text of what both entries of a request share (auth, request): built once per request and device. */
export interface SharedParts {
  readonly auth: string;
  readonly request: string;
}

export function sharedParts(src: EntrySource, hash: ValueHasher, opts: FormatOptions): SharedParts {
  return { auth: JSON.stringify(callerAuth(src.caller, hash, opts)), request: JSON.stringify(requestPart(src, hash, opts)) };
}

/** requestEntry as text, from the shared parts (same fields, same order). */
export function requestEntryText(parts: SharedParts, error?: unknown): string {
  return `{"time":"${new Date().toISOString()}","type":"request","auth":${parts.auth},"request":${parts.request}${errorField(error)}}`;
}

/** responseEntry as text, from the shared parts (same fields, same order). */
export function responseEntryText(
  src: EntrySource, parts: SharedParts, res: CoreResponse | undefined, hash: ValueHasher, opts: FormatOptions, error?: unknown,
): string {
  const response = res === undefined ? '{}' : JSON.stringify(responsePart(src, res, hash, opts));
  return `{"time":"${new Date().toISOString()}","type":"response","auth":${parts.auth},"request":${parts.request}${response === '{}' ? '' : `,"response":${response}`}${errorField(error)}}`;
}

function errorField(error: unknown): string {
  const text = errorText(error);
  return text === undefined ? '' : `,"error":${JSON.stringify(text)}`;
}

function callerAuth(caller: Caller | null, hash: ValueHasher, opts: FormatOptions): Record<string, unknown> {
  if (!caller) return {};
  return compact({
    client_token: hash(caller.token),
    accessor: accessorOf(caller.accessor, hash, opts),
    display_name: caller.displayName,
    policies: [...caller.policies],
    token_policies: [...caller.policies],
    metadata: Object.keys(caller.meta).length > 0 ? { ...caller.meta } : undefined,
    entity_id: caller.entityId,
    token_type: caller.tokenType,
  });
}

function requestPart(src: EntrySource, hash: ValueHasher, opts: FormatOptions): Record<string, unknown> {
  const { req, caller, mount } = src;
  // Unauthenticated paths (logins) have no caller but may still carry a token: hashed all the same.
  const token = caller?.token ?? req.token;
  return compact({
    id: req.id,
    operation: req.operation,
    mount_point: mount?.path,
    mount_type: mount?.type,
    mount_accessor: mount?.accessor,
    client_token: token === undefined || token === '' ? undefined : hash(token),
    client_token_accessor: caller ? accessorOf(caller.accessor, hash, opts) : undefined,
    namespace: { id: req.namespace },
    path: src.path,
    data: Object.keys(req.data).length > 0 ? hashStructure(req.data, hash) : undefined,
    remote_address: req.clientIp,
    wrap_ttl: req.wrapTtl,
    headers: headersOf(req.headers),
  });
}

function responsePart(src: EntrySource, res: CoreResponse, hash: ValueHasher, opts: FormatOptions): Record<string, unknown> {
  let data: unknown = res.data ?? (res.raw && typeof res.raw.body === 'object' ? res.raw.body : undefined);
  if (data !== undefined && data !== null && opts.elideListResponses && src.req.operation === 'list') data = elideList(data);
  return compact({
    mount_point: src.mount?.path,
    mount_type: res.mountType ?? src.mount?.type,
    mount_accessor: src.mount?.accessor,
    auth: res.auth ? responseAuth(res.auth, hash, opts) : undefined,
    secret: res.secret ? { lease_id: res.secret.leaseId } : undefined,
    data: data === undefined || data === null ? undefined : hashStructure(data, hash),
    warnings: res.warnings,
    wrap_info: res.wrapInfo ? wrapInfo(res.wrapInfo, hash, opts) : undefined,
  });
}

function responseAuth(auth: AuthResult, hash: ValueHasher, opts: FormatOptions): Record<string, unknown> {
  return compact({
    client_token: auth.client_token === '' ? undefined : hash(auth.client_token),
    accessor: accessorOf(auth.accessor, hash, opts),
    policies: auth.policies,
    token_policies: auth.token_policies,
    identity_policies: auth.identity_policies,
    metadata: auth.metadata ?? undefined,
    num_uses: auth.num_uses,
    entity_id: auth.entity_id,
    token_type: auth.token_type,
    token_ttl: auth.lease_duration,
  });
}

function wrapInfo(w: WrapInfo, hash: ValueHasher, opts: FormatOptions): Record<string, unknown> {
  return compact({
    ttl: w.ttl,
    token: hash(w.token),
    accessor: accessorOf(w.accessor, hash, opts),
    creation_time: w.creation_time,
    creation_path: w.creation_path,
    wrapped_accessor: w.wrapped_accessor === undefined ? undefined : accessorOf(w.wrapped_accessor, hash, opts),
  });
}

function accessorOf(accessor: string, hash: ValueHasher, opts: FormatOptions): string | undefined {
  if (accessor === '') return undefined;
  return opts.hmacAccessor ? hash(accessor) : accessor;
}

/**
 * The headers the HTTP layer chose to keep (user agent, forwarded-for; never the token or
 * cookies), in Vault's `{name: [values]}` shape. Not hashed: they say who and from where.
 */
function headersOf(headers: Readonly<Record<string, string>>): Record<string, string[]> | undefined {
  const names = Object.keys(headers);
  if (names.length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const n of names) out[n] = [headers[n]!];
  return out;
}

/** elide_list_responses: LIST answers keep only how many keys there were. */
function elideList(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  const out: Record<string, unknown> = { ...data };
  if (Array.isArray(out['keys'])) out['keys'] = out['keys'].length;
  const info = out['key_info'];
  if (typeof info === 'object' && info !== null && !Array.isArray(info)) out['key_info'] = Object.keys(info).length;
  return out;
}

/** The message callers saw; errors that are not ours are never described (they could say anything). */
function errorText(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return isCofferError(error) && error.code !== 'internal' && error.code !== 'tampered' && error.code !== 'storage_failure' ? error.message : 'internal error';
}

/** Go's omitempty: no undefined, null, '', false, 0, empty list or empty map at this level. */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k];
    if (v === undefined || v === null || v === '' || v === false || v === 0) continue;
    if (typeof v === 'object' && k !== 'auth' && isEmpty(v)) continue;
    out[k] = v;
  }
  return out;
}

function isEmpty(v: object): boolean {
  if (Array.isArray(v)) return v.length === 0;
  for (const _ in v) return false;
  return true;
}
