import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { bool, int } from '../../core/fields.js';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import type { Storage } from '../../storage/types.js';
import { invalid } from '../../util/errors.js';
import type { Key } from './key.js';
import { isKeyType } from './key-types.js';
import {
  attempt, batchInput, batchItems, batchStatus, decodeBase64, itemInt, itemString, optionalBase64, text, unwrapSingle, type ItemOutcome,
} from './input.js';
import { isKeyName, keyName, type KeyStore } from './keys.js';
import { upsertDisabled } from './paths-keys.js';

const NONCE_REFUSED = 'nonce provided when not allowed';

const cryptFields = z.object({
  plaintext: text().optional(),
  ciphertext: text().optional(),
  context: text().optional(),
  associated_data: text().optional(),
  key_version: int().optional(),
  nonce: text().optional(),
  type: text().optional(),
  convergent_encryption: bool().optional(),
  partial_failure_response_code: int().optional(),
  batch_input: batchInput().optional(),
  reference: text().optional(),
});
type CryptData = z.output<typeof cryptFields>;

const FIELD_HELP = {
  plaintext: 'Base64 plaintext to encrypt.',
  ciphertext: 'A vault:v<N>: ciphertext from encrypt.',
  context: 'Base64 context; required for derived keys.',
  associated_data: 'Base64 associated data, authenticated but not encrypted (AEAD key types only).',
  key_version: 'Key version to encrypt with (0 = latest; not below min_encryption_version).',
  batch_input: 'A list of items ({plaintext|ciphertext, context, associated_data, key_version, reference}); each item succeeds or fails on its own.',
  partial_failure_response_code: 'HTTP status to return instead of 400 when some batch items failed and some succeeded.',
};

/** One unit of work, from the single fields or one batch_input item. */
interface Item {
  readonly value: string | undefined;
  readonly context: string | undefined;
  readonly aad: string | undefined;
  readonly keyVersion: number;
  readonly nonce: string | undefined;
  readonly reference: string;
}

function items(d: CryptData, raw: Readonly<Record<string, unknown>>, valueField: 'plaintext' | 'ciphertext'): { list: Item[]; batch: boolean } {
  const batch = batchItems(raw['batch_input']);
  if (!batch) {
    return { batch: false, list: [{ value: d[valueField], context: d.context, aad: d.associated_data, keyVersion: d.key_version ?? 0, nonce: d.nonce, reference: '' }] };
  }
  const list = batch.map((it, i): Item => ({
    value: itemString(it, valueField, i), context: itemString(it, 'context', i), aad: itemString(it, 'associated_data', i),
    keyVersion: itemInt(it, 'key_version', i), nonce: itemString(it, 'nonce', i), reference: itemString(it, 'reference', i) ?? '',
  }));
  // Vault derives "is this a derived key" for upserts from the first item, so all must agree.
  const withContext = list.filter((it) => it.context !== undefined && it.context !== '').length;
  if (withContext !== 0 && withContext !== list.length) throw invalid('context should be set either in all the request blocks or in none');
  return { batch: true, list };
}

/** encrypt/:name, decrypt/:name, rewrap/:name, datakey/:type/:name. */
export function cryptoPaths(store: KeyStore, storage: Storage): PathSpec[] {
  return [
    definePath({
      pattern: 'encrypt/:name',
      help: 'Encrypt base64 plaintext (or a batch) with the named key; with the create capability a missing key is created.',
      fields: cryptFields,
      fieldHelp: { ...FIELD_HELP, type: 'On upsert: the type of key to create (aes128-gcm96, aes256-gcm96, chacha20-poly1305).', convergent_encryption: 'On upsert: create a convergent key (needs context).' },
      // Vault's existence check: writing to a missing key is a create, which needs the create capability.
      exists: async (ctx) => {
        const name = ctx.params['name'];
        return isKeyName(name) && (await store.has(name));
      },
      operations: {
        create: async (ctx) => encrypt(store, storage, ctx, true),
        update: async (ctx) => encrypt(store, storage, ctx, false),
      },
    }),
    definePath({
      pattern: 'decrypt/:name',
      help: 'Decrypt a vault:v<N>: ciphertext (or a batch) with the named key.',
      fields: cryptFields,
      fieldHelp: FIELD_HELP,
      operations: { update: async (ctx) => decrypt(store, ctx) },
    }),
    definePath({
      pattern: 'rewrap/:name',
      help: 'Re-encrypt ciphertext with the latest (or the given) key version without revealing the plaintext.',
      fields: cryptFields,
      fieldHelp: FIELD_HELP,
      operations: { update: async (ctx) => rewrap(store, ctx) },
    }),
    definePath({
      pattern: 'datakey/:plaintext/:name',
      help: 'Generate a random data key encrypted with the named key; "plaintext" also returns it in the clear, "wrapped" does not.',
      fields: z.object({ context: text().optional(), nonce: text().optional(), bits: int().optional(), key_version: int().optional(), associated_data: text().optional() }),
      fieldHelp: { bits: '128, 256 (default) or 512.', context: FIELD_HELP.context, key_version: FIELD_HELP.key_version, associated_data: FIELD_HELP.associated_data },
      operations: {
        update: async (ctx) => {
          const kind = ctx.params['plaintext'];
          if (kind !== 'plaintext' && kind !== 'wrapped') throw invalid("Invalid path, must be 'plaintext' or 'wrapped'");
          const name = keyName(ctx.params['name']);
          const context = optionalBase64(ctx.data.context, 'failed to base64-decode context: ');
          const aad = optionalBase64(ctx.data.associated_data, 'failed to base64-decode associated_data: ');
          if (ctx.data.nonce) throw invalid(NONCE_REFUSED);
          const key = await store.get(name);
          if (!key) throw invalid('encryption key not found');
          const bits = ctx.data.bits ?? 256;
          if (bits !== 128 && bits !== 256 && bits !== 512) throw invalid('invalid bit length');
          const dataKey = randomBytes(bits / 8);
          const { ciphertext, version } = key.encrypt(dataKey, { context, keyVersion: ctx.data.key_version ?? 0, aad });
          return { data: { ciphertext, key_version: version, ...(kind === 'plaintext' ? { plaintext: dataKey.toString('base64') } : {}) } };
        },
      },
    }),
  ];
}

async function encrypt(store: KeyStore, storage: Storage, ctx: HandlerContext<CryptData>, upsert: boolean): Promise<CoreResponse> {
  const name = keyName(ctx.params['name']);
  const d = ctx.data;
  if (ctx.rawData['batch_input'] === undefined && d.plaintext === undefined) throw invalid('missing plaintext to encrypt');
  const { list, batch } = items(d, ctx.rawData, 'plaintext');
  const contextSet = list[0]?.context !== undefined && list[0].context !== '';

  const warnings: string[] = [];
  let key = await store.get(name);
  if (!key) {
    if (!upsert || (await upsertDisabled(storage))) throw invalid('encryption key not found');
    const type = d.type === undefined || d.type === '' ? 'aes256-gcm96' : d.type;
    if (type.startsWith('ecdsa-')) throw invalid(`key type ${type} not supported for this operation`);
    if (!isKeyType(type) || !['aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305'].includes(type)) throw invalid(`unknown key type ${type}`);
    const convergent = d.convergent_encryption ?? false;
    if (convergent && !contextSet) throw invalid('convergent encryption requires derivation to be enabled, so context is required');
    const made = await store.create(name, { type, derived: contextSet, convergent, exportable: false, allowPlaintextBackup: false, autoRotatePeriod: 0, keySize: 0 });
    key = made.key;
    if (!made.created) warnings.push('Attempted creation of the key during the encrypt operation, but it was created beforehand');
  }

  const k: Key = key;
  const outcomes = list.map((it) => attempt(() => {
    if (it.value === undefined) throw invalid('missing plaintext to encrypt');
    const plaintext = decodeBase64(it.value);
    const context = optionalBase64(it.context, '');
    const aad = optionalBase64(it.aad, '');
    if (it.nonce) throw invalid(NONCE_REFUSED);
    return k.encrypt(plaintext, { context, keyVersion: it.keyVersion, aad });
  }));

  if (!batch) return { data: singleCiphertext(outcomes[0]!), ...(warnings.length > 0 ? { warnings } : {}) };
  return batchResponse(ciphertextResults(outcomes, list), outcomes, d.partial_failure_response_code, warnings);
}

/** What decrypt and rewrap start from: the ciphertexts given (single or batch) and the named key. */
async function ciphertextWork(store: KeyStore, ctx: HandlerContext<CryptData>): Promise<{ list: Item[]; batch: boolean; key: Key }> {
  if (ctx.rawData['batch_input'] === undefined && !ctx.data.ciphertext) throw invalid('missing ciphertext to decrypt');
  const { list, batch } = items(ctx.data, ctx.rawData, 'ciphertext');
  const key = await store.get(keyName(ctx.params['name']));
  if (!key) throw invalid('encryption key not found');
  return { list, batch, key };
}

type Encrypted = ReturnType<Key['encrypt']>;

/** A single encrypt or rewrap answer; a failed item is the request's error. */
function singleCiphertext(outcome: ItemOutcome<Encrypted>): Record<string, unknown> {
  const { ciphertext, version } = unwrapSingle(outcome);
  return { ciphertext, key_version: version };
}

/** The batch_results of encrypt and rewrap: each item's ciphertext or error, with its reference. */
function ciphertextResults(outcomes: readonly ItemOutcome<Encrypted>[], list: readonly Item[]): unknown[] {
  return outcomes.map((o, i) => (o.ok
    ? { ciphertext: o.value.ciphertext, key_version: o.value.version, reference: list[i]!.reference }
    : { error: o.error, reference: list[i]!.reference }));
}

async function decrypt(store: KeyStore, ctx: HandlerContext<CryptData>): Promise<CoreResponse> {
  const { list, batch, key } = await ciphertextWork(store, ctx);
  // A nonce on decrypt is ignored, as Vault does for every key it creates today.
  const outcomes = list.map((it) => attempt(() => {
    if (!it.value) throw invalid('missing ciphertext to decrypt');
    const context = optionalBase64(it.context, '');
    const aad = optionalBase64(it.aad, '');
    return key.decrypt(it.value, { context, aad }).toString('base64');
  }));
  if (!batch) return { data: { plaintext: unwrapSingle(outcomes[0]!) } };
  const results = outcomes.map((o, i) => (o.ok
    ? { plaintext: o.value, reference: list[i]!.reference }
    : { plaintext: '', error: o.error, reference: list[i]!.reference }));
  return batchResponse(results, outcomes, ctx.data.partial_failure_response_code, []);
}

async function rewrap(store: KeyStore, ctx: HandlerContext<CryptData>): Promise<CoreResponse> {
  const { list, batch, key } = await ciphertextWork(store, ctx);
  const outcomes = list.map((it) => attempt(() => {
    if (!it.value) throw invalid('missing ciphertext to decrypt');
    if (it.nonce) throw invalid(NONCE_REFUSED);
    const context = optionalBase64(it.context, '');
    const aad = optionalBase64(it.aad, '');
    const plaintext = key.decrypt(it.value, { context, aad });
    return key.encrypt(plaintext, { context, keyVersion: it.keyVersion, aad });
  }));
  if (!batch) return { data: singleCiphertext(outcomes[0]!) };
  // Vault answers a rewrap batch with 200 whatever its items did; each item carries its error.
  return { data: { batch_results: ciphertextResults(outcomes, list) } };
}

function batchResponse(results: unknown[], outcomes: ItemOutcome<unknown>[], partialCode: number | undefined, warnings: string[]): CoreResponse {
  const { status, warning } = batchStatus(outcomes, partialCode);
  const allWarnings = warning ? [...warnings, warning] : warnings;
  return { data: { batch_results: results }, ...(status ? { status } : {}), ...(allWarnings.length > 0 ? { warnings: allWarnings } : {}) };
}
