import { randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ListenerConfig } from '../config/index.js';
import type { Pipeline } from '../core/pipeline.js';
import type { QuotaGate } from '../core/quotas/index.js';
import type { CoreRequest, CoreResponse, Operation } from '../core/request.js';
import { metricsFormatFromAccept, RawText, type MetricsReply, type Telemetry } from '../core/telemetry/index.js';
import { parseDurationSeconds } from '../util/duration.js';
import { CofferError, isCofferError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { envelope } from './envelope.js';
import { createListServer, isListRequest, routeListAsLock } from './list-method.js';
import { parseRequestBody, queryData } from './body.js';
import { MAX_BODY_BYTES } from './json.js';
import { STATUS_BY_CODE } from './status.js';
import type { SealRoute } from './sys-seal.js';

export interface AppDeps {
  readonly pipeline: Pick<Pipeline, 'handle'>;
  readonly sealRoutes: ReadonlyMap<string, SealRoute>;
  readonly logger: Logger;
  /** Request timings and in-flight tracking, and the listeners that open the telemetry endpoints without a token. */
  readonly telemetry?: AppTelemetry;
  /** Rate-limit quotas, checked before a request is routed (one boolean when none exists). */
  readonly quotas?: QuotaGate;
}

export interface AppTelemetry {
  readonly registry: Telemetry;
  /** What the listener a connection came in on opens to callers without a token. */
  readonly access: (local: LocalEnd) => ListenerOpenings;
}

export interface ListenerOpenings {
  readonly metrics: boolean;
  readonly inFlight: boolean;
}

interface LocalEnd {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

const CLOSED: ListenerOpenings = { metrics: false, inFlight: false };
const unmapped = (a: string | undefined): string => (a?.startsWith('::ffff:') ? a.slice(7) : a ?? '');

/**
 * Tells the listeners apart by the local end of a connection: `bound()` are their addresses, in
 * the order of `listeners` (called only for the two telemetry paths, never on the hot path).
 */
export function listenerAccess(listeners: readonly Pick<ListenerConfig, 'telemetry' | 'inflightRequestsLogging'>[], bound: () => readonly AddressInfo[]): (local: LocalEnd) => ListenerOpenings {
  return (local) => {
    const addresses = bound();
    for (let i = 0; i < addresses.length; i++) {
      const a = addresses[i]!;
      if (a.port !== local.localPort) continue;
      const wildcard = a.address === '0.0.0.0' || a.address === '::';
      if (!wildcard && unmapped(a.address) !== unmapped(local.localAddress)) continue;
      const l = listeners[i];
      return { metrics: l?.telemetry?.unauthenticatedMetricsAccess === true, inFlight: l?.inflightRequestsLogging?.unauthenticatedInFlightRequestsAccess === true };
    }
    return CLOSED;
  };
}

/**
 * The listener's connection adapter lets LIST through Node's parser; fastify only routes
 * methods Node knows, so a LIST is presented to it as LOCK and told apart by isListRequest.
 */
const LIST_ALIAS = 'LOCK';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', LIST_ALIAS] as const;

/** Builds the Vault-compatible wire on a plain http.Server that listener.ts feeds connections into. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    // Request ids are ours (UUIDs), not fastify's counters.
    genReqId: () => randomUUID(),
    serverFactory: (handler) => createListServer(routeListAsLock(tracked(deps.telemetry?.registry, handler)), { keepAliveTimeout: 65_000, requestTimeout: 60_000 }),
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 8192 },
  });
  app.addHttpMethod(LIST_ALIAS, { hasBody: true, overrideExisting: true });
  // Vault reads the body as JSON whatever the Content-Type says; we parse it ourselves so
  // errors map through the one status table.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error: unknown, request, reply) => {
    const code = (error as { code?: unknown }).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, new CofferError('payload_too_large', 'request body too large'));
    if (typeof code === 'string' && code.startsWith('FST_ERR')) {
      return sendError(reply, new CofferError('invalid_request', (error as Error).message));
    }
    return sendError(reply, error, deps.logger, request.id);
  });
  app.setNotFoundHandler((_req, reply) => sendError(reply, new CofferError('not_found', '')));

  app.route({
    method: [...METHODS],
    url: '/v1/*',
    handler: (request, reply) => handle(deps, request, reply),
  });
  await app.ready();
  return app;
}

/** In-flight tracking from the moment a request's headers are in (before its body, as Vault): one Map entry, one clock read. */
function tracked(telemetry: Telemetry | undefined, handler: RequestListener): RequestListener {
  if (!telemetry) return handler;
  const inFlight = telemetry.inFlight;
  return (req, res) => {
    if (req.url?.startsWith('/v1/')) inFlight.begin(req, res, performance.now(), isListRequest(req));
    handler(req, res);
  };
}

async function handle(deps: AppDeps, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const requestId = request.id;
  try {
    const url = request.raw.url ?? '';
    const q = url.indexOf('?');
    const rawPath = (q < 0 ? url : url.slice(0, q)).slice('/v1/'.length);
    if (deps.quotas?.active === true && rateLimited(deps.quotas, rawPath, request, reply)) return;
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    if (request.method === LIST_ALIAS && !isListRequest(request.raw)) throw new CofferError('unsupported_operation', 'unsupported method LOCK');
    const method = request.method;
    // As in Vault, only writes carry a body; GET, DELETE, LIST and HEAD take their data from the query.
    const hasBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
    const contentType = typeof request.headers['content-type'] === 'string' ? request.headers['content-type'] : undefined;
    const body = hasBody ? parseRequestBody(typeof request.body === 'string' ? request.body : '', contentType) : {};

    const sealRoute = deps.sealRoutes.get(rawPath.replace(/\/$/, ''));
    if (sealRoute) {
      const out = await sealRoute(method, body, query);
      if (out.body === undefined || out.status === 204) return void reply.code(out.status).send();
      return sendJson(reply, out.status, out.body);
    }
    if (deps.telemetry && (rawPath === 'sys/metrics' || rawPath === 'sys/in-flight-req')) {
      const open = unauthenticatedTelemetry(deps.telemetry, rawPath, request, query);
      if (open) {
        const out = await open;
        return sendRaw(reply, out.status, out.body);
      }
    }

    const listParam = query.get('list');
    const isList = method === LIST_ALIAS || (method === 'GET' && listParam !== null && parseGoBool(listParam));
    // `?help=<anything>` asks for the path's help and OpenAPI, whatever the method (as Vault).
    const help = (query.get('help') ?? '') !== '';
    const operation = help ? 'read' : toOperation(method, isList);
    if (operation === 'patch') {
      const ct = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== 'application/merge-patch+json') throw new CofferError('unsupported_media_type', 'PATCH requires Content-Type application/merge-patch+json');
    }
    let data: Record<string, unknown> = body;
    if (help) {
      data = {};
    } else if (!hasBody) {
      data = queryData(query, method === 'GET' || isList ? ['list', 'help'] : ['help']);
    }
    // Vault picks the Prometheus format from the Accept header a Prometheus server sends.
    if (rawPath === 'sys/metrics' && !help && !data['format']) {
      const format = metricsFormatFromAccept(request.headers.accept);
      if (format) data = { ...data, format };
    }
    const wrapHeader = request.headers['x-vault-wrap-ttl'];
    const wrapTtl = typeof wrapHeader === 'string' && wrapHeader !== '' ? parseDurationSeconds(wrapHeader) : undefined;
    if (typeof wrapHeader === 'string' && wrapHeader !== '' && (wrapTtl === undefined || wrapTtl === 0)) {
      throw new CofferError('invalid_request', 'X-Vault-Wrap-TTL must be a positive duration');
    }
    const ns = request.headers['x-vault-namespace'];
    if (typeof ns === 'string' && !['', '/', 'root', 'root/'].includes(ns)) throw new CofferError('invalid_request', `namespace "${ns}" does not exist`);

    const path = operation === 'list' && !rawPath.endsWith('/') ? `${rawPath}/` : rawPath;
    const core: CoreRequest = {
      id: requestId,
      operation,
      path,
      data,
      token: tokenOf(request),
      clientIp: request.ip,
      headers: pickHeaders(request),
      wrapTtl,
      namespace: 'root',
      ...(help ? { help: true } : {}),
    };
    let res: CoreResponse;
    try {
      res = await deps.pipeline.handle(core);
    } finally {
      deps.telemetry?.registry.requestHandled(request.raw, isLoginPath(path));
    }
    if (res.raw) {
      return sendRaw(reply, res.raw.status, res.raw.body);
    }
    if (res.noContent && !res.wrapInfo && !res.data && !res.auth && !res.warnings?.length) return void reply.code(204).send();
    sendJson(reply, res.status ?? 200, envelope(requestId, core.path, res));
  } catch (error) {
    sendError(reply, error, deps.logger, requestId);
  }
}

/**
 * Vault's rate-limit quota check, before anything else looks at the request: sets the quota's
 * headers and, over the limit, answers 429 (true: the request is done).
 */
function rateLimited(quotas: QuotaGate, rawPath: string, request: FastifyRequest, reply: FastifyReply): boolean {
  let path = rawPath;
  if (path.includes('%')) {
    try { path = decodeURIComponent(path); } catch { /* the pipeline refuses it */ }
  }
  const verdict = quotas.check(path, request.ip);
  if (!verdict) return false;
  for (const [name, value] of Object.entries(verdict.headers)) reply.header(name, value);
  if (verdict.allowed) return false;
  sendJson(reply, 429, { errors: [`request path ${JSON.stringify(path)}: rate limit quota exceeded`] });
  return true;
}

/**
 * sys/metrics or sys/in-flight-req on a listener that opens it to callers without a token: served
 * here, as Vault's own handlers do (GET only; 405 otherwise). Undefined: the pipeline decides.
 */
function unauthenticatedTelemetry(t: AppTelemetry, rawPath: string, request: FastifyRequest, query: URLSearchParams): Promise<MetricsReply> | undefined {
  // `?help=1` is answered by the pipeline, as Vault's help wrapper runs before these handlers.
  if ((query.get('help') ?? '') !== '') return undefined;
  const metrics = rawPath === 'sys/metrics';
  const open = t.access(request.raw.socket);
  if (!(metrics ? open.metrics : open.inFlight)) return undefined;
  if (request.method !== 'GET') return Promise.resolve({ status: 405, body: { errors: [] } });
  if (!metrics) return Promise.resolve({ status: 200, body: t.registry.inFlight.snapshot() });
  return t.registry.metrics(query.get('format') || metricsFormatFromAccept(request.headers.accept));
}

/**
 * Vault's login paths (timed as `vault.core.handle_login_request`): the unauthenticated logins of
 * the auth methods; told apart by path so that the request path stays free of extra lookups.
 */
function isLoginPath(path: string): boolean {
  return path.startsWith('auth/') && !path.startsWith('auth/token/') && /\/(?:login(?:\/[^/]+)?|oidc\/(?:auth_url|callback|poll))\/?$/.test(path);
}

function toOperation(method: string, isList: boolean): Operation {
  if (isList) return 'list';
  switch (method) {
    case 'GET': case 'HEAD': return 'read';
    case 'POST': case 'PUT': return 'update';
    case 'DELETE': return 'delete';
    case 'PATCH': return 'patch';
    default: throw new CofferError('unsupported_operation', `unsupported method ${method}`);
  }
}

/** Go's strconv.ParseBool, which Vault uses for ?list= (hvac sends "True"). */
function parseGoBool(v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new CofferError('invalid_request', `invalid boolean value for list: ${JSON.stringify(v)}`);
}

function tokenOf(request: FastifyRequest): string | undefined {
  const t = request.headers['x-vault-token'];
  if (typeof t === 'string' && t !== '') return t;
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && /^bearer /i.test(auth)) return auth.slice(7).trim() || undefined;
  return undefined;
}

/** Only headers worth auditing; never the token or cookies. */
function pickHeaders(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['user-agent', 'x-forwarded-for', 'x-vault-request']) {
    const v = request.headers[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

function sendError(reply: FastifyReply, error: unknown, logger?: Logger, requestId?: string): void {
  if (isCofferError(error)) {
    const status = STATUS_BY_CODE[error.code];
    if (status >= 500 && logger) logger.error({ requestId, code: error.code, err: { message: error.message } }, 'request failed');
    const errors = error.code === 'not_found' && error.message === '' ? [] : [error.message];
    const body = error.code === 'internal' || error.code === 'tampered' || error.code === 'storage_failure' ? { errors: ['internal error'] } : { ...error.body, errors };
    return sendJson(reply, status, body);
  }
  logger?.error({ requestId, err: { message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined } }, 'unexpected error');
  sendJson(reply, 500, { errors: ['internal error'] });
}

/** A raw body: JSON unless a backend handed over text with its own Content-Type (Prometheus, Vault's plain-text errors). */
function sendRaw(reply: FastifyReply, status: number, body: unknown): void {
  if (body instanceof RawText) return void reply.code(status).header('content-type', body.contentType).send(Buffer.from(body.text));
  sendJson(reply, status, body);
}

/**
 * Exactly `Content-Type: application/json`, as Vault sends it: hvac only reads `errors` when the
 * header is that string, and fastify appends `; charset=utf-8` to string payloads (not to Buffers).
 */
function sendJson(reply: FastifyReply, status: number, body: unknown): void {
  reply.code(status).header('content-type', 'application/json').send(Buffer.from(JSON.stringify(body)));
}
