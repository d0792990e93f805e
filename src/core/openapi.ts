import * as z from 'zod';
import { COFFER_VERSION } from '../version.js';
import type { PathSpec } from './framework.js';
import type { Resolved } from './mounts.js';
import type { Operation } from './request.js';

/**
 * OpenAPI 3 and path help, both generated from the PathSpecs the backends declare: the same
 * declaration that dispatches a request documents it (sys/internal/specs/openapi, `?help=1`).
 */

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.0.2';
  info: Json;
  paths: Record<string, Json>;
  components: { schemas: Record<string, Json> };
}

/** A mount as documentation sees it: its full path ('secret/', 'auth/token/'), type and paths. */
export interface DocumentedMount {
  readonly path: string;
  readonly type: string;
  readonly specs: readonly PathSpec[];
}

export interface PathHelp {
  help: string;
  openapi: OpenApiDocument;
}

export function openApiDocument(mounts: readonly DocumentedMount[]): OpenApiDocument {
  const doc: OpenApiDocument = {
    openapi: '3.0.2',
    info: {
      title: 'Coffer API',
      description: 'HTTP API that gives you full access to Coffer. All API routes are prefixed with `/v1/`.',
      version: COFFER_VERSION,
      license: { name: 'MPL-2.0', url: 'https://www.mozilla.org/en-US/MPL/2.0' },
    },
    paths: {},
    components: { schemas: {} },
  };
  for (const mount of mounts) for (const spec of mount.specs) addPath(doc, mount, spec);
  return doc;
}

/**
 * `GET /v1/<path>?help=1`: Vault's `{help, openapi}`. With no matching spec (the request named
 * the mount itself) the help lists every path of the mount.
 */
export function pathHelp(requestPath: string, resolved: Resolved, match: { spec: PathSpec } | undefined): PathHelp {
  const mount: DocumentedMount = { path: resolved.mounted.info.path, type: resolved.mounted.entry.type, specs: resolved.mounted.table.specs };
  if (!match) {
    const lines = mount.specs.map((s) => `    ${s.pattern === '' ? '(mount root)' : s.pattern}\n        ${s.help}`);
    const help = [
      `## DESCRIPTION\n\nThe ${mount.type} backend mounted at ${mount.path}.`,
      `## PATHS\n\nThe following paths are supported by this backend. For help on one, ask for help on any path matching its pattern; what you may do there depends on your token's policies.\n\n${lines.join('\n\n')}`,
    ].join('\n\n');
    return { help: `${help}\n`, openapi: openApiDocument([mount]) };
  }
  const spec = match.spec;
  const params = describeParameters(spec);
  const sections = [
    `Request:        ${requestPath.slice(mount.path.length)}\nMatching Route: ${spec.pattern}`,
    spec.help,
  ];
  if (params.length > 0) {
    sections.push(`## PARAMETERS\n\n${params.map((p) => `    ${p.name} (${p.type})\n        ${p.description}`).join('\n\n')}`);
  }
  const ops = operationsOf(spec);
  sections.push(`## OPERATIONS\n\n    ${ops.join(', ')}${spec.sudo ? '\n\n    (needs sudo)' : ''}${spec.unauthenticated ? '\n\n    (no token needed)' : ''}`);
  return { help: `${sections.join('\n\n')}\n`, openapi: openApiDocument([{ ...mount, specs: [spec] }]) };
}

// ---- paths ----------------------------------------------------------------

function addPath(doc: OpenApiDocument, mount: DocumentedMount, spec: PathSpec): void {
  const { template, params } = toTemplate(mount.path, spec.pattern);
  const body = requestSchema(spec, params);
  const shared: Json = {
    description: spec.help,
    ...(params.length > 0 ? { parameters: params.map((name) => pathParameter(name, spec)) } : {}),
    ...(spec.sudo ? { 'x-vault-sudo': true } : {}),
    ...(spec.unauthenticated ? { 'x-vault-unauthenticated': true } : {}),
    ...(spec.exists ? { 'x-vault-createSupported': true } : {}),
  };
  const item: Json = { ...shared };
  const op = (method: string, extra: Json = {}): Json => ({
    summary: spec.help,
    operationId: operationId(method, template),
    tags: [mount.type],
    ...extra,
    responses: method === 'delete' ? { 204: { description: 'empty body' } } : { 200: { description: 'OK' } },
  });
  const ops = spec.operations;
  if (ops.read) item['get'] = op('get');
  if (ops.create || ops.update) item['post'] = op('post', body ? { requestBody: { content: { 'application/json': { schema: body } } } } : {});
  if (ops.patch) item['patch'] = op('patch', body ? { requestBody: { content: { 'application/merge-patch+json': { schema: body } } } } : {});
  if (ops.delete) item['delete'] = op('delete');
  if (Object.keys(item).length > Object.keys(shared).length) doc.paths[template] = item;
  if (ops.list) {
    // LIST is GET ?list=true on the folder path (a trailing '/'), as Vault documents it.
    const listTemplate = template.endsWith('/') ? template : `${template}/`;
    const listOp = op('get', { parameters: [{ name: 'list', in: 'query', required: true, description: 'Must be set to `true`', schema: { type: 'string', enum: ['true'] } }] });
    listOp['operationId'] = operationId('list', template);
    doc.paths[listTemplate] = { ...(doc.paths[listTemplate] ?? shared), get: listOp };
  }
}

// 'data/:path*' under 'secret/' is '/secret/data/{path}'; a literal suffix after a rest stays.
function toTemplate(mountPath: string, pattern: string): { template: string; params: string[] } {
  const params: string[] = [];
  const parts = pattern.split('/').map((part) => {
    if (!part.startsWith(':')) return part;
    const name = part.endsWith('*') ? part.slice(1, -1) : part.slice(1);
    params.push(name);
    return `{${name}}`;
  });
  return { template: `/${mountPath}${parts.join('/')}`, params };
}

function pathParameter(name: string, spec: PathSpec): Json {
  return { name, in: 'path', required: true, description: spec.fieldHelp?.[name] ?? `The ${name} part of the path.`, schema: { type: 'string' } };
}

function operationId(method: string, template: string): string {
  const words = template.replace(/[{}]/g, '').split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0);
  return [method, ...words].join('-').toLowerCase();
}

function operationsOf(spec: PathSpec): Operation[] {
  return (Object.keys(spec.operations) as Operation[]).filter((o) => spec.operations[o] !== undefined);
}

// ---- fields ---------------------------------------------------------------

/** The request body's JSON Schema from the path's zod fields, path parameters left out. */
function requestSchema(spec: PathSpec, pathParams: readonly string[]): Json | undefined {
  const schema = jsonSchemaOf(spec);
  const props = isRecord(schema?.['properties']) ? { ...schema['properties'] } : {};
  for (const p of pathParams) delete props[p];
  for (const [name, text] of Object.entries(spec.fieldHelp ?? {})) {
    const prop = props[name];
    if (isRecord(prop) && prop['description'] === undefined) props[name] = { ...prop, description: text };
  }
  if (Object.keys(props).length === 0) return undefined;
  const required = Array.isArray(schema?.['required']) ? schema['required'].filter((r): r is string => typeof r === 'string' && r in props) : [];
  return { type: 'object', properties: props, ...(required.length > 0 ? { required } : {}) };
}

function jsonSchemaOf(spec: PathSpec): Json | undefined {
  if (!spec.fields) return undefined;
  try {
    // The input side is what a client sends; lenient fields carry their type in `.meta`.
    return z.toJSONSchema(spec.fields, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Json;
  } catch {
    // A schema zod cannot describe still dispatches; its documentation just says less.
    return { type: 'object' };
  }
}

interface ParameterHelp { name: string; type: string; description: string }

function describeParameters(spec: PathSpec): ParameterHelp[] {
  const { params } = toTemplate('', spec.pattern);
  const out: ParameterHelp[] = params.map((name) => ({ name, type: 'string', description: spec.fieldHelp?.[name] ?? '<no description>' }));
  const body = requestSchema(spec, params);
  const props = isRecord(body?.['properties']) ? body['properties'] : {};
  for (const [name, prop] of Object.entries(props).sort(([a], [b]) => a.localeCompare(b))) {
    const p = isRecord(prop) ? prop : {};
    const type = p['format'] === 'duration' ? 'duration (seconds or "1h30m")' : typeof p['type'] === 'string' ? p['type'] : 'any';
    const description = typeof p['description'] === 'string' ? p['description'] : spec.fieldHelp?.[name] ?? '<no description>';
    out.push({ name, type, description });
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
