import { CofferError, denied, isCofferError } from '../util/errors.js';
import type { Authorizer, IdentityView } from './acl/types.js';
import { describeIssues } from './fields.js';
import type { Caller, HandlerContext, PathSpec } from './framework.js';
import type { MountTable, Resolved } from './mounts.js';
import { normalizePath } from './normalize.js';
import { pathHelp } from './openapi.js';
import type { CoreRequest, CoreResponse, Operation } from './request.js';
import type { TokenEntry } from './tokens/entry.js';
import type { TokenStore } from './tokens/store.js';

/** What the audit broker sees; filled in by the audit issue. Both calls fail closed. */
export interface AuditSink {
  logRequest(req: CoreRequest, path: string, caller: Caller | null): Promise<void>;
  logResponse(req: CoreRequest, path: string, caller: Caller | null, res: CoreResponse | undefined, error: unknown): Promise<void>;
}

/** Post-processing stages that later issues plug in (leases, response wrapping). */
export interface ResponseStage {
  process(res: CoreResponse, ctx: { req: CoreRequest; path: string; caller: Caller | null; mountType: string }): Promise<CoreResponse>;
}

export interface PipelineDeps {
  readonly isUnsealed: () => boolean;
  readonly secrets: MountTable;
  readonly auth: MountTable;
  readonly tokens: Pick<TokenStore, 'lookup' | 'use' | 'revokeTree'>;
  readonly authorizer: Authorizer;
  readonly audit: AuditSink;
  readonly stages: readonly ResponseStage[];
  readonly isRootToken: (entry: TokenEntry) => boolean;
  /** The identity behind a token's entity (its groups, policies and attributes), when there is an identity store. */
  readonly identity?: { viewFor(entityId: string): IdentityView | undefined };
}

/** What the audit broker has been told of a request so far (refusals before the backend are audited too). */
interface AuditState {
  logged: boolean;
  caller: Caller | null;
}

interface Route {
  readonly resolved: Resolved;
  readonly match: { spec: PathSpec; params: Record<string, string> } | undefined;
}

/**
 * The one way every request goes: state → normalize → route lookup → token → ACL → audit →
 * backend (with a new, narrow context) → post-processing stages → audit → reply.
 */
export class Pipeline {
  readonly #d: PipelineDeps;

  constructor(deps: PipelineDeps) {
    this.#d = deps;
  }

  async handle(req: CoreRequest): Promise<CoreResponse> {
    const seen: AuditState = { logged: false, caller: null };
    try {
      return await this.#handle(req, seen);
    } catch (error) {
      // Refused before the backend (bad token, ACL, sudo): audited too, as Vault does, so failed attempts leave a trace.
      if (!seen.logged && isCofferError(error) && error.code === 'permission_denied') {
        const path = normalizePath(req.path);
        await this.#d.audit.logRequest(req, path, seen.caller);
        await this.#d.audit.logResponse(req, path, seen.caller, undefined, error);
      }
      throw error;
    }
  }

  async #handle(req: CoreRequest, seen: AuditState): Promise<CoreResponse> {
    if (!this.#d.isUnsealed()) throw new CofferError('sealed', 'Vault is sealed');
    const path = normalizePath(req.path);
    const route = this.#route(path);
    const spec = route?.match?.spec;
    if (spec?.precheck && !req.help) await spec.precheck({ token: req.token, data: req.data });

    let caller: Caller | null = null;
    let entry: TokenEntry | undefined;
    let operation = req.operation;
    if (!spec?.unauthenticated) {
      entry = req.token ? await this.#d.tokens.lookup(req.token, { clientIp: req.clientIp }) : undefined;
      if (!entry || !req.token) throw denied();
      const identity = this.#d.identity?.viewFor(entry.entityId);
      caller = toCaller(req.token, entry, this.#d.isRootToken(entry), identity);
      seen.caller = caller;
      // A disabled entity's tokens are refused (not revoked: enabling it again restores them).
      if (identity?.disabled) throw denied();
      const acl = await this.#d.authorizer.aclFor(entry.policies, identity);
      const context = { clientIp: req.clientIp, now: Date.now(), identity };
      if (req.help) {
        // As in Vault: help is allowed to any valid token, but a root-protected path still needs sudo.
        const caps = acl.capabilities(path, context);
        if (spec?.sudo && !caps.includes('root') && !caps.includes('sudo')) throw denied();
      } else {
        operation = await this.#resolveWriteOperation(req, path, route, caller);
        const verdict = acl.check(path, operation, { data: req.data, wrapTtl: req.wrapTtl, skipParameterChecks: route?.resolved.mounted.backend.skipsAclParameterChecks === true, context });
        if (!verdict.allowed || (spec?.sudo && !verdict.sudo)) throw denied();
      }
    } else {
      // Unauthenticated paths still learn a valid caller (as Vault's do): no ACL check and no use
      // spent, so a handler that relies on the caller checks what it needs itself.
      const known = req.token ? await this.#d.tokens.lookup(req.token, { clientIp: req.clientIp }) : undefined;
      const identity = known ? this.#d.identity?.viewFor(known.entityId) : undefined;
      if (known && req.token && !identity?.disabled) caller = toCaller(req.token, known, this.#d.isRootToken(known), identity);
      if (!req.help) operation = await this.#resolveWriteOperation(req, path, route, caller);
    }

    if (!route) throw new CofferError('not_found', `no handler for route "${path}". route entry not found.`);
    const { match } = route;
    let run: () => Promise<CoreResponse | undefined>;
    if (req.help) {
      // Help needs a declared path, or the mount itself (then it lists the mount's paths).
      if (!match && route.resolved.relative !== '') throw new CofferError('not_found', 'unsupported path');
      run = async () => ({ raw: { status: 200, body: pathHelp(path, route.resolved, match) } });
    } else {
      if (!match) throw new CofferError('not_found', `unsupported path`);
      const handler = match.spec.operations[operation] ?? (operation === 'create' ? match.spec.operations.update : undefined);
      if (!handler) throw new CofferError('unsupported_operation', 'unsupported operation');
      run = () => (handler as (c: HandlerContext) => Promise<CoreResponse | undefined>)(this.#context(req, path, operation, route, match, caller));
    }

    let revokeAfter = false;
    if (entry && caller) {
      const use = await this.#d.tokens.use(entry);
      if (!use.ok) throw denied();
      revokeAfter = use.revokeAfter;
    }

    seen.logged = true;
    await this.#d.audit.logRequest(req, path, caller);
    let res: CoreResponse | undefined;
    try {
      res = (await run()) ?? { noContent: true };
      const mountType = route.resolved.mounted.entry.type;
      for (const stage of this.#d.stages) res = await stage.process(res, { req, path, caller, mountType });
      res.mountType ??= mountType;
    } catch (error) {
      await this.#d.audit.logResponse(req, path, caller, undefined, error);
      throw error;
    } finally {
      if (revokeAfter && entry) await this.#d.tokens.revokeTree(entry.id);
    }
    await this.#d.audit.logResponse(req, path, caller, res, undefined);
    return res;
  }

  #route(path: string): Route | undefined {
    const [table, rest] = path.startsWith('auth/') ? [this.#d.auth, path.slice(5)] : [this.#d.secrets, path];
    const resolved = table.resolve(rest);
    if (!resolved) return undefined;
    return { resolved, match: resolved.mounted.table.match(resolved.relative) };
  }

  /** PUT/POST arrive as 'update'; a path with an existence check turns a write to a new item into 'create'. */
  async #resolveWriteOperation(req: CoreRequest, path: string, route: Route | undefined, caller: Caller | null): Promise<Operation> {
    if (req.operation !== 'update' || !route?.match?.spec.exists) return req.operation;
    const ctx = this.#context(req, path, 'update', route, route.match, caller, false);
    return (await route.match.spec.exists(ctx)) ? 'update' : 'create';
  }

  #context(req: CoreRequest, path: string, operation: Operation, route: Route, match: { spec: PathSpec; params: Record<string, string> }, caller: Caller | null, validate = true): HandlerContext {
    let data: Record<string, unknown> = { ...req.data };
    if (validate && match.spec.fields) {
      // Clients (hvac, the Go API) send unset parameters as JSON null; Vault reads null as "not set".
      const parsed = match.spec.fields.safeParse(withoutNulls(req.data));
      if (!parsed.success) throw new CofferError('invalid_request', describeIssues(parsed.error));
      data = parsed.data;
    }
    const { mounted, relative } = route.resolved;
    return {
      operation,
      path: relative,
      params: match.params,
      data,
      rawData: req.data,
      storage: mounted.storage,
      caller,
      mount: mounted.info,
      request: { id: req.id, clientIp: req.clientIp, headers: req.headers, wrapTtl: req.wrapTtl, namespace: req.namespace, fullPath: path },
    };
  }
}

export function toCaller(token: string, entry: TokenEntry, isRoot: boolean, identity?: IdentityView): Caller {
  return {
    token,
    tokenId: entry.id,
    accessor: entry.accessor,
    policies: entry.policies,
    entityId: entry.entityId,
    displayName: entry.displayName,
    meta: entry.meta,
    tokenType: entry.type,
    isRoot,
    identity,
  };
}

function withoutNulls(data: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (v !== null) out[k] = v;
  return out;
}
