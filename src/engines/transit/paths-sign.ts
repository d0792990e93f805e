import * as z from 'zod';
import { bool, int } from '../../core/fields.js';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import { invalid } from '../../util/errors.js';
import type { Key } from './key.js';
import { attempt, batchInput, batchItems, decodeBase64, itemString, optionalBase64, text, unwrapSingle } from './input.js';
import { keyName, type KeyStore } from './keys.js';
import { HMAC_ALGORITHMS, isHashAlgorithm, type HashAlgorithm, type SignOptions } from './signing.js';

const signFields = z.object({
  input: text().optional(),
  context: text().optional(),
  hash_algorithm: text().optional(),
  algorithm: text().optional(),
  key_version: int().optional(),
  prehashed: bool().optional(),
  signature_algorithm: text().optional(),
  marshaling_algorithm: text().optional(),
  salt_length: text().optional(),
  signature: text().optional(),
  hmac: text().optional(),
  batch_input: batchInput().optional(),
});
type SignData = z.output<typeof signFields>;

const FIELD_HELP = {
  input: 'Base64 data (or, with prehashed, its base64 digest).',
  context: 'Base64 context; required for derived ed25519 keys.',
  hash_algorithm: 'sha1, sha2-224, sha2-256 (default), sha2-384, sha2-512, sha3-224, sha3-256, sha3-384, sha3-512, or none (prehashed PKCS#1 v1.5 only). Also the last path segment.',
  key_version: 'Key version to sign with (0 = latest; not below min_encryption_version).',
  prehashed: 'The input is already a digest made with hash_algorithm (RSA keys).',
  signature_algorithm: 'RSA only: pss (default) or pkcs1v15.',
  marshaling_algorithm: 'asn1 (default) or jws (ECDSA r||s, and URL-safe base64 for every key type).',
  salt_length: 'RSA-PSS salt: auto (default), hash, or a number of bytes.',
  signature: 'verify: a vault:v<N>: signature from sign.',
  hmac: 'verify: a vault:v<N>: HMAC from hmac.',
  batch_input: 'A list of items ({input, context, signature|hmac, reference}); each item succeeds or fails on its own.',
};

/** sign/:name[/:algorithm], verify/:name[/:algorithm], hmac/:name[/:algorithm]. */
export function signPaths(store: KeyStore): PathSpec[] {
  const sign = (ctx: HandlerContext<SignData>): Promise<CoreResponse> => signHandler(store, ctx);
  const verify = (ctx: HandlerContext<SignData>): Promise<CoreResponse> => verifyHandler(store, ctx);
  const hmac = (ctx: HandlerContext<SignData>): Promise<CoreResponse> => hmacHandler(store, ctx);
  const spec = (pattern: string, help: string, update: (ctx: HandlerContext<SignData>) => Promise<CoreResponse>): PathSpec =>
    definePath({ pattern, help, fields: signFields, fieldHelp: FIELD_HELP, operations: { update } });
  return [
    spec('sign/:name', 'Sign base64 input (or a batch) with the named key.', sign),
    spec('sign/:name/:urlalgorithm', 'Sign with the hash algorithm named in the path.', sign),
    spec('verify/:name', 'Verify a signature or an HMAC made with the named key.', verify),
    spec('verify/:name/:urlalgorithm', 'Verify with the hash algorithm named in the path.', verify),
    spec('hmac/:name', 'HMAC base64 input (or a batch) with the named key.', hmac),
    spec('hmac/:name/:urlalgorithm', 'HMAC with the algorithm named in the path.', hmac),
  ];
}

/** The hash from the path, hash_algorithm, the deprecated algorithm, or sha2-256. */
function hashOf(ctx: HandlerContext<SignData>, order: ('hash_algorithm' | 'algorithm')[]): string {
  const fromPath = ctx.params['urlalgorithm'];
  if (fromPath) return fromPath;
  for (const f of order) {
    const v = ctx.data[f];
    if (v) return v;
  }
  return 'sha2-256';
}

function signOptions(ctx: HandlerContext<SignData>): SignOptions {
  const d = ctx.data;
  const hash = hashOf(ctx, ['hash_algorithm', 'algorithm']);
  if (!isHashAlgorithm(hash)) throw invalid(`invalid hash algorithm ${JSON.stringify(hash)}`);
  const marshaling = d.marshaling_algorithm || 'asn1';
  if (marshaling !== 'asn1' && marshaling !== 'jws') throw invalid(`invalid marshaling type ${JSON.stringify(marshaling)}`);
  const signatureAlgorithm = d.signature_algorithm || 'pss';
  if (signatureAlgorithm !== 'pss' && signatureAlgorithm !== 'pkcs1v15') throw invalid(`unsupported rsa signature algorithm ${signatureAlgorithm}`);
  const prehashed = d.prehashed ?? false;
  if (hash === 'none' && (!prehashed || signatureAlgorithm !== 'pkcs1v15')) throw invalid('hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15');
  return { hash, prehashed, signatureAlgorithm, marshaling, saltLength: saltLength(d.salt_length) };
}

/** Go's salt lengths: "auto" (0), "hash" (-1) or a positive count. */
function saltLength(raw: string | undefined): SignOptions['saltLength'] {
  const s = (raw ?? 'auto').toLowerCase();
  if (s === 'auto' || s === '') return 'auto';
  if (s === 'hash') return 'hash';
  if (!/^-?\d+$/.test(s)) throw invalid(`salt length neither 'auto', 'hash', nor an int: ${raw ?? ''}`);
  const n = Number(s);
  if (n < -1) throw invalid(`salt length is invalid: ${n}`);
  return n === 0 ? 'auto' : n === -1 ? 'hash' : n;
}

interface SignItem { input: string | undefined; context: string | undefined; signature: string | undefined; hmac: string | undefined; reference: string }

function signItems(ctx: HandlerContext<SignData>): { list: SignItem[]; batch: boolean } {
  const batch = batchItems(ctx.rawData['batch_input']);
  if (!batch) {
    // A missing single input signs the empty string, as in Vault.
    const d = ctx.data;
    return { batch: false, list: [{ input: d.input ?? '', context: d.context, signature: d.signature, hmac: d.hmac, reference: '' }] };
  }
  return {
    batch: true,
    list: batch.map((it, i) => ({
      input: itemString(it, 'input', i), context: itemString(it, 'context', i), signature: itemString(it, 'signature', i),
      hmac: itemString(it, 'hmac', i), reference: itemString(it, 'reference', i) ?? '',
    })),
  };
}

const decodeInput = (input: string | undefined): Buffer => {
  if (input === undefined) throw invalid('missing input');
  return decodeBase64(input, 'unable to decode input as base64: ');
};

async function signHandler(store: KeyStore, ctx: HandlerContext<SignData>): Promise<CoreResponse> {
  const options = signOptions(ctx);
  const key = await store.get(keyName(ctx.params['name']));
  if (!key) throw invalid('signing key not found');
  if (!key.info.signing) throw invalid(`key type ${key.type} does not support signing`);
  const { list, batch } = signItems(ctx);
  const outcomes = list.map((it) => attempt(() => {
    const input = decodeInput(it.input);
    const context = optionalBase64(it.context, 'failed to base64-decode context: ');
    return key.sign(input, { keyVersion: ctx.data.key_version ?? 0, context, options });
  }));
  if (!batch) {
    const r = unwrapSingle(outcomes[0]!);
    return { data: { signature: r.signature, key_version: r.version, ...(r.publicKey ? { public_key: r.publicKey.toString('base64') } : {}) } };
  }
  return {
    data: {
      batch_results: outcomes.map((o, i) => (o.ok
        ? { signature: o.value.signature, key_version: o.value.version, ...(o.value.publicKey ? { publickey: o.value.publicKey.toString('base64') } : {}), reference: list[i]!.reference }
        : { key_version: 0, error: o.error, reference: list[i]!.reference })),
    },
  };
}

async function verifyHandler(store: KeyStore, ctx: HandlerContext<SignData>): Promise<CoreResponse> {
  const { list, batch } = signItems(ctx);
  const sig = list.filter((it) => it.signature !== undefined).length;
  const mac = list.filter((it) => it.signature === undefined && it.hmac !== undefined).length;
  const missing = list.length - sig - mac;
  if (!batch && ctx.data.signature !== undefined && ctx.data.hmac !== undefined) throw invalid("provide one of 'signature' or 'hmac'");
  if (!batch && missing > 0) throw invalid("neither a 'signature' nor an 'hmac' were given to verify");
  if (sig > 0 && mac > 0) throw invalid("elements of batch_input must all provide 'signature' or all provide 'hmac'");
  if (missing > 0) throw invalid(sig > 0 ? "some elements of batch_input are missing 'signature'" : mac > 0 ? "some elements of batch_input are missing 'hmac'" : "no batch_input elements have 'signature' or 'hmac'");
  if (mac > 0) return hmacVerify(store, ctx, list, batch);

  const options = signOptions(ctx);
  const key = await store.get(keyName(ctx.params['name']));
  if (!key) throw invalid('signature verification key not found');
  if (!key.info.signing) throw invalid(`key type ${key.type} does not support verification`);
  const outcomes = list.map((it) => attempt(() => {
    const input = decodeInput(it.input);
    const context = optionalBase64(it.context, 'failed to base64-decode context: ');
    return key.verify(input, it.signature ?? '', { context, options });
  }));
  return verifyResponse(outcomes, list, batch);
}

function hmacAlgorithm(ctx: HandlerContext<SignData>, order: ('hash_algorithm' | 'algorithm')[]): Exclude<HashAlgorithm, 'none'> {
  const alg = hashOf(ctx, order);
  const known = HMAC_ALGORITHMS.find((a) => a === alg);
  if (!known || known === 'none') throw invalid(`unsupported algorithm ${JSON.stringify(alg)}`);
  return known;
}

async function hmacVerify(store: KeyStore, ctx: HandlerContext<SignData>, list: SignItem[], batch: boolean): Promise<CoreResponse> {
  const key = await store.get(keyName(ctx.params['name']));
  if (!key) throw invalid('encryption key not found');
  const algorithm = hmacAlgorithm(ctx, ['algorithm', 'hash_algorithm']);
  const outcomes = list.map((it) => attempt(() => key.verifyHmac(decodeInput(it.input), it.hmac ?? '', algorithm)));
  return verifyResponse(outcomes, list, batch);
}

function verifyResponse(outcomes: ReturnType<typeof attempt<boolean>>[], list: SignItem[], batch: boolean): CoreResponse {
  if (!batch) return { data: { valid: unwrapSingle(outcomes[0]!) } };
  return {
    data: {
      batch_results: outcomes.map((o, i) => (o.ok
        ? { valid: o.value, reference: list[i]!.reference }
        : { valid: false, error: o.error, reference: list[i]!.reference })),
    },
  };
}

async function hmacHandler(store: KeyStore, ctx: HandlerContext<SignData>): Promise<CoreResponse> {
  const key: Key | undefined = await store.get(keyName(ctx.params['name']));
  if (!key) throw invalid('encryption key not found');
  const version = key.hmacVersion(ctx.data.key_version ?? 0);
  const algorithm = hmacAlgorithm(ctx, ['algorithm']);
  const batch = batchItems(ctx.rawData['batch_input']);
  if (!batch) {
    if (ctx.data.input === undefined) throw invalid('missing input for HMAC');
    return { data: { hmac: key.hmac(decodeInput(ctx.data.input), version, algorithm) } };
  }
  const references = batch.map((it, i) => itemString(it, 'reference', i) ?? '');
  const outcomes = batch.map((it, i) => attempt(() => {
    const input = itemString(it, 'input', i);
    if (input === undefined) throw invalid('missing input for HMAC');
    return key.hmac(decodeInput(input), version, algorithm);
  }));
  return {
    data: {
      batch_results: outcomes.map((o, i) => (o.ok ? { hmac: o.value, reference: references[i] } : { error: o.error, reference: references[i] })),
    },
  };
}
