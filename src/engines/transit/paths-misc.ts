import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { bool, int } from '../../core/fields.js';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { invalid, notFound } from '../../util/errors.js';
import { TYPE_INFO, exportKey, type ExportFormat, type ExportType } from './key-types.js';
import { decodeBase64, text } from './input.js';
import { keyName, type KeyStore } from './keys.js';
import { DIGEST_ALGORITHMS, digest } from './signing.js';

/** Vault caps one random request at 128 KiB. */
const MAX_RANDOM_BYTES = 128 * 1024;
const SOURCES = ['platform', 'seal', 'all'];

const randomFields = z.object({ bytes: int().optional(), format: text().optional(), source: text().optional() });
const hashFields = z.object({ input: text().optional(), algorithm: text().optional(), format: text().optional() });

/**
 * random and hash under `prefix`: transit mounts them at its root, and Vault's sys backend
 * serves the same operations as sys/tools/random and sys/tools/hash (wired in core.ts).
 */
export function toolPaths(prefix: string): PathSpec[] {
  const random = (ctx: HandlerContext<z.output<typeof randomFields>>): Promise<CoreResponse> => Promise.resolve(randomHandler(ctx));
  const hash = (ctx: HandlerContext<z.output<typeof hashFields>>): Promise<CoreResponse> => Promise.resolve(hashHandler(ctx));
  const randomHelp = { bytes: 'How many bytes (default 32, at most 131072); also a path segment.', format: 'base64 (default) or hex.', source: 'platform (default), seal or all; all are the CSPRNG in Coffer.' };
  const hashHelp = { input: 'Base64 data to hash.', algorithm: 'sha2-224, sha2-256 (default), sha2-384, sha2-512, sha3-224, sha3-256, sha3-384, sha3-512; also a path segment.', format: 'hex (default) or base64.' };
  return [
    definePath({ pattern: `${prefix}random`, help: 'Random bytes from the CSPRNG.', fields: randomFields, fieldHelp: randomHelp, operations: { update: random } }),
    definePath({ pattern: `${prefix}random/:urlbytes`, help: 'Random bytes; the segment is a byte count or a source.', fields: randomFields, fieldHelp: randomHelp, operations: { update: random } }),
    definePath({ pattern: `${prefix}random/:source/:urlbytes`, help: 'Random bytes: random/:source/:bytes.', fields: randomFields, fieldHelp: randomHelp, operations: { update: random } }),
    definePath({ pattern: `${prefix}hash`, help: 'Hash base64 input.', fields: hashFields, fieldHelp: hashHelp, operations: { update: hash } }),
    definePath({ pattern: `${prefix}hash/:urlalgorithm`, help: 'Hash base64 input with the algorithm in the path.', fields: hashFields, fieldHelp: hashHelp, operations: { update: hash } }),
  ];
}

/** random, hash, backup, restore, export and cache-config. */
export function miscPaths(store: KeyStore, storage: Storage): PathSpec[] {
  const exportRead = (ctx: HandlerContext<{ format?: string | undefined }>): Promise<CoreResponse> => exportHandler(store, ctx);
  return [
    ...toolPaths(''),
    definePath({
      pattern: 'backup/:name',
      help: 'A plaintext backup of the key (it must be exportable and allow plaintext backup).',
      operations: {
        read: async (ctx) => {
          const name = keyName(ctx.params['name']);
          if (!(await store.get(name))) throw invalid(`key "${name}" not found`);
          return { data: { backup: await store.backup(name) } };
        },
      },
    }),
    ...['restore', 'restore/:name'].map((pattern) => definePath({
      pattern,
      help: 'Restore a key from backup/:name output, under its own name or the one in the path.',
      fields: z.object({ backup: text().optional(), force: bool().optional() }),
      fieldHelp: { backup: 'The backup string from backup/:name.', force: 'Overwrite a key that already exists by that name.' },
      operations: {
        update: async (ctx) => {
          if (!ctx.data.backup) throw invalid("'backup' must be supplied");
          await store.restore(ctx.data.backup, ctx.params['name'], ctx.data.force ?? false);
          return { noContent: true };
        },
      },
    })),
    definePath({ pattern: 'export/:type/:name', help: 'Export every live version of an exportable key.', fields: z.object({ format: text().optional() }), fieldHelp: { format: "'' (Vault's per-type default), raw, der or pem." }, operations: { read: exportRead } }),
    definePath({ pattern: 'export/:type/:name/:version', help: 'Export one version ("latest" or a number) of an exportable key.', fields: z.object({ format: text().optional() }), fieldHelp: { format: "'' (Vault's per-type default), raw, der or pem." }, operations: { read: exportRead } }),
    definePath({
      pattern: 'cache-config',
      help: 'The key cache size Vault clients may set; Coffer keeps its own bounded cache and records the value.',
      fields: z.object({ size: int().optional() }),
      operations: {
        read: async () => ({ data: { size: await cacheSize(storage) } }),
        update: async (ctx) => {
          const size = ctx.data.size ?? 0;
          if (size !== 0 && size < 10) throw invalid('size must be 0 or a value greater or equal to 10');
          await putJson(storage, 'config/cache', { size });
          return { data: { size }, warnings: ['cache configurations will be applied when this backend is restarted'] };
        },
      },
    }),
  ];
}

async function cacheSize(storage: Storage): Promise<number> {
  const raw = await getJson(storage, 'config/cache');
  const size = typeof raw === 'object' && raw !== null ? (raw as { size?: unknown }).size : undefined;
  return typeof size === 'number' ? size : 0;
}

function randomHandler(ctx: HandlerContext<z.output<typeof randomFields>>): CoreResponse {
  // random/:urlbytes takes a count or a source (Vault's optional segments); random/:source/:urlbytes both.
  const fromPath = ctx.params['source'];
  const segment = ctx.params['urlbytes'];
  let source = fromPath ?? ctx.data.source ?? '';
  let urlBytes = segment;
  if (fromPath === undefined && segment !== undefined && !/^\d+$/.test(segment)) [source, urlBytes] = [segment, undefined];
  if (source === '') source = 'platform';
  if (!SOURCES.includes(source)) throw invalid(`unsupported entropy source ${JSON.stringify(source)}; must be "platform" or "seal", or "all"`);
  if (urlBytes !== undefined && !/^\d+$/.test(urlBytes)) throw invalid(`error parsing url-set byte count: ${JSON.stringify(urlBytes)} is not a number`);
  const bytes = urlBytes !== undefined ? Number(urlBytes) : ctx.data.bytes ?? 32;
  const format = ctx.data.format || 'base64';
  if (format !== 'base64' && format !== 'hex') throw invalid(`unsupported encoding format ${format}; must be "hex" or "base64"`);
  if (bytes < 1) throw invalid('number of bytes must be positive');
  if (bytes > MAX_RANDOM_BYTES) throw invalid(`number of bytes cannot be more than ${MAX_RANDOM_BYTES}`);
  return { data: { random_bytes: randomBytes(bytes).toString(format) } };
}

function hashHandler(ctx: HandlerContext<z.output<typeof hashFields>>): CoreResponse {
  const algorithm = ctx.params['urlalgorithm'] || ctx.data.algorithm || 'sha2-256';
  const format = ctx.data.format || 'hex';
  const input = decodeBase64(ctx.data.input ?? '', 'unable to decode input as base64: ');
  if (format !== 'hex' && format !== 'base64') throw invalid(`unsupported encoding format ${format}; must be "hex" or "base64"`);
  const known = DIGEST_ALGORITHMS.find((a) => a === algorithm);
  if (!known || known === 'none') throw invalid(`unsupported algorithm ${algorithm}`);
  return { data: { sum: digest(known, input).toString(format) } };
}

const EXPORT_TYPES: readonly string[] = ['encryption-key', 'signing-key', 'hmac-key', 'public-key'];
const FORMATS: readonly string[] = ['', 'raw', 'der', 'pem'];

async function exportHandler(store: KeyStore, ctx: HandlerContext<{ format?: string | undefined }>): Promise<CoreResponse> {
  const exportType = ctx.params['type'] ?? '';
  const format = ctx.data.format ?? '';
  if (!EXPORT_TYPES.includes(exportType)) throw invalid(`invalid export type: ${exportType}`);
  if (!FORMATS.includes(format)) throw invalid(`invalid format: ${format}`);
  const key = await store.get(keyName(ctx.params['name']));
  if (!key) throw notFound();
  const r = key.record;
  if (!r.exportable && exportType !== 'public-key') throw invalid('private key material is not exportable');
  if (exportType === 'encryption-key' && !TYPE_INFO[r.type].encryption) throw invalid('encryption not supported for the key');
  if (exportType === 'signing-key' && !TYPE_INFO[r.type].signing) throw invalid('signing not supported for the key');
  if (exportType === 'public-key' && r.derived) throw invalid('public key export is not supported for derived keys; read keys/:name with a context instead');

  const one = (v: number): string => exportKey(r.type, key.material(v), exportType as ExportType, format as ExportFormat);
  const keys: Record<string, string> = {};
  const requested = ctx.params['version'];
  if (requested === undefined || requested === '') {
    for (const v of key.liveVersions()) keys[String(v)] = one(v);
  } else {
    const trimmed = requested === 'latest' ? String(r.latest_version) : requested.replace(/^v/, '');
    if (!/^\d+$/.test(trimmed)) throw invalid('invalid key version');
    const v = Number(trimmed);
    if (v < r.min_decryption_version) throw invalid('version for export is below minimum decryption version');
    if (r.versions[String(v)] === undefined) throw invalid('version does not exist or cannot be found');
    keys[String(v)] = one(v);
  }
  return { data: { name: r.name, type: r.type, keys } };
}
