import type * as z from 'zod';
import type { Storage } from '../storage/types.js';
import type { IdentityView } from './acl/types.js';
import type { CoreResponse, Operation } from './request.js';

/** What a backend learns of the caller: never the raw token of anyone but the caller itself. */
export interface Caller {
  /** The caller's own token (needed by the token store's *-self paths and cubbyhole). */
  readonly token: string;
  /** Stable id of the token entry (a salted hash), safe to use as a storage key. */
  readonly tokenId: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly entityId: string;
  readonly displayName: string;
  readonly meta: Readonly<Record<string, string>>;
  readonly tokenType: 'service' | 'batch';
  readonly isRoot: boolean;
  /** The token's entity as the ACL sees it (groups, identity policies), if it has one. */
  readonly identity?: IdentityView | undefined;
}

export interface MountInfo {
  readonly path: string;
  readonly type: string;
  readonly uuid: string;
  readonly accessor: string;
  readonly defaultLeaseTtl: number;
  readonly maxLeaseTtl: number;
  readonly options: Readonly<Record<string, string>>;
}

export interface HandlerContext<D = Record<string, unknown>> {
  readonly operation: Operation;
  /** Path relative to the mount, as routed. */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  /** Request data after the path's schema validated and coerced it. */
  readonly data: D;
  /** The data as sent, for handlers that need to know which fields were present. */
  readonly rawData: Readonly<Record<string, unknown>>;
  /** Storage confined to this mount. */
  readonly storage: Storage;
  readonly caller: Caller | null;
  readonly mount: MountInfo;
  readonly request: {
    readonly id: string;
    readonly clientIp: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly wrapTtl: number | undefined;
    readonly namespace: string;
    /** The full path as the ACL saw it (mount prefix included). */
    readonly fullPath: string;
  };
}

export type Handler<D = Record<string, unknown>> = (ctx: HandlerContext<D>) => Promise<CoreResponse | undefined>;

/** One declared path: the single source for dispatch, validation, help and OpenAPI. */
export interface PathSpec {
  readonly pattern: string;
  readonly help: string;
  readonly fields?: z.ZodType<Record<string, unknown>>;
  readonly operations: Partial<Record<Operation, Handler<never>>>;
  /** Decides create vs update for writes; without it every write is an update (as in Vault). */
  readonly exists?: (ctx: HandlerContext<Record<string, unknown>>) => Promise<boolean>;
  readonly unauthenticated?: boolean;
  readonly sudo?: boolean;
  /** Fields whose names and meanings appear in help and OpenAPI. */
  readonly fieldHelp?: Readonly<Record<string, string>>;
  /**
   * Runs before the token is looked up, with the raw token and data: sys/wrapping/* check the
   * wrapping token first, as Vault does, so a spent one is a 400 rather than a 403.
   */
  readonly precheck?: Precheck;
}

export type Precheck = (input: { readonly token: string | undefined; readonly data: Readonly<Record<string, unknown>> }) => Promise<void>;

/**
 * Declares a path with its handlers typed by the schema. The cast is the one place the
 * handler's data type is erased; dispatch always validates with `fields` before calling.
 */
export function definePath<S extends z.ZodType<Record<string, unknown>>>(spec: {
  pattern: string;
  help: string;
  fields?: S;
  operations: Partial<Record<Operation, Handler<z.output<S>>>>;
  exists?: (ctx: HandlerContext<Record<string, unknown>>) => Promise<boolean>;
  unauthenticated?: boolean;
  sudo?: boolean;
  fieldHelp?: Record<string, string>;
  precheck?: Precheck;
}): PathSpec {
  return spec as unknown as PathSpec;
}

/** What the expiration manager tells a backend about one of its leased secrets. */
export interface LeaseContext {
  readonly leaseId: string;
  /** The `lease.internal` the backend returned when it issued the secret. */
  readonly internal: Readonly<Record<string, unknown>>;
  /** Unix ms the lease was issued. */
  readonly issueTime: number;
  /** Unix ms the lease expires (on renewal: the new expiry). */
  readonly expireTime: number;
  /** Seconds of TTL (on renewal: the new TTL). */
  readonly ttl: number;
}

/** How a backend renews and revokes the secrets it leased; absent handlers mean "nothing to do". */
export interface SecretHandlers {
  renew?(ctx: LeaseContext): Promise<void>;
  revoke?(ctx: LeaseContext): Promise<void>;
}

export interface Backend {
  readonly type: string;
  readonly paths: readonly PathSpec[];
  /** Renewal and revocation of leased secrets (database credentials and the like). */
  readonly secrets?: SecretHandlers;
  /**
   * Policy parameter constraints (allowed/denied/required_parameters) do not apply to this
   * backend's requests: KV v2 nests the secret under `data`, so Vault skips them there.
   */
  readonly skipsAclParameterChecks?: boolean;
  /** Called when the mount is removed, after its storage is wiped. */
  cleanup?(): Promise<void>;
}

/** What a backend factory is given when its mount is set up. */
export interface MountEnv {
  readonly mount: MountInfo;
  readonly storage: Storage;
}

export type BackendFactory = (env: MountEnv) => Backend;

// ---- matching -------------------------------------------------------------

type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string } | { kind: 'rest'; name: string };

export interface CompiledPath {
  readonly spec: PathSpec;
  readonly segments: readonly Segment[];
}

export function compilePath(spec: PathSpec): CompiledPath {
  const segments: Segment[] = spec.pattern.split('/').map((part, i, all) => {
    if (part.startsWith(':') && part.endsWith('*')) {
      // A rest parameter may be followed only by literals ('mounts/:path*/tune').
      if (all.slice(i + 1).some((p) => p.startsWith(':'))) throw new TypeError(`${spec.pattern}: only literal segments may follow a rest parameter`);
      return { kind: 'rest', name: part.slice(1, -1) };
    }
    if (part.startsWith(':')) return { kind: 'param', name: part.slice(1) };
    return { kind: 'literal', text: part };
  });
  return { spec, segments };
}

/** Matches a mount-relative path; a trailing '/' (LIST) also matches the pattern without it. */
export function matchPath(compiled: CompiledPath, path: string): Record<string, string> | undefined {
  const direct = matchSegments(compiled.segments, path);
  if (direct || !path.endsWith('/')) return direct;
  return matchSegments(compiled.segments, path.slice(0, -1));
}

function matchSegments(segments: readonly Segment[], path: string): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  let rest = path;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.kind === 'rest') {
      if (i === segments.length - 1) {
        params[seg.name] = rest;
        return params;
      }
      // Literal suffix after the rest: the rest is what precedes it, and never empty.
      const suffix = '/' + segments.slice(i + 1).map((s) => (s.kind === 'literal' ? s.text : '')).join('/');
      if (!rest.endsWith(suffix) || rest.length === suffix.length) return undefined;
      params[seg.name] = rest.slice(0, -suffix.length);
      return params;
    }
    const last = i === segments.length - 1;
    const slash = rest.indexOf('/');
    const part = slash < 0 ? rest : rest.slice(0, slash);
    if (seg.kind === 'literal' ? part !== seg.text : part.length === 0) return undefined;
    if (seg.kind === 'param') params[seg.name] = part;
    if (last) return slash < 0 ? params : undefined;
    if (slash < 0) {
      // 'foo' against 'foo/:rest*' matches with an empty rest.
      const next = segments[i + 1];
      if (next?.kind === 'rest' && i + 1 === segments.length - 1) { params[next.name] = ''; return params; }
      return undefined;
    }
    rest = rest.slice(slash + 1);
  }
  return rest.length === 0 ? params : undefined;
}

export class PathTable {
  readonly #compiled: CompiledPath[];

  constructor(paths: readonly PathSpec[]) {
    this.#compiled = paths.map(compilePath);
  }

  /** First declared path that matches wins. */
  match(path: string): { spec: PathSpec; params: Record<string, string> } | undefined {
    for (const c of this.#compiled) {
      const params = matchPath(c, path);
      if (params) return { spec: c.spec, params };
    }
    return undefined;
  }

  get specs(): PathSpec[] { return this.#compiled.map((c) => c.spec); }
}
