/**
 * Transit over the real HTTP wire: keys, encryption with every encrypting key type, rotation and
 * rewrap, version floors, batches, derived and convergent keys, tampering, upsert by policy,
 * lazy auto-rotation, and that key material never reaches the SQLite file in the clear.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const text = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
const as = (token: string) => ({ 'X-Vault-Token': token });

/** Flips one bit inside the base64 body of a vault:vN: value, keeping it valid base64. */
function tamper(ciphertext: string, at = 14): string {
  const [, version, body] = /^(vault:v\d+:)(.*)$/.exec(ciphertext)!;
  const raw = Buffer.from(body!, 'base64');
  const i = at % raw.length;
  raw[i] = raw[i]! ^ 0x01;
  return version + raw.toString('base64');
}

async function mountTransit(s: TestServer, path = 'transit'): Promise<void> {
  const r = await s.call('POST', `sys/mounts/${path}`, { type: 'transit' });
  assert.equal(r.status, 204, JSON.stringify(r.body));
}

test('transit keys and encryption', async (t) => {
  const s = await startDevServer();
  await mountTransit(s);

  await t.test('every encrypting key type round-trips, with and without associated data', async () => {
    const types = ['aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305', 'rsa-2048', 'rsa-3072', 'rsa-4096'];
    await Promise.all(types.map(async (type) => {
      const created = await s.call('POST', `transit/keys/enc-${type}`, { type });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.data.type, type);
      assert.equal(created.body.data.supports_encryption, true);
      const enc = await s.call('POST', `transit/encrypt/enc-${type}`, { plaintext: b64(`secret for ${type}`) });
      assert.equal(enc.status, 200, JSON.stringify(enc.body));
      assert.match(enc.body.data.ciphertext, /^vault:v1:[A-Za-z0-9+/]+=*$/);
      assert.equal(enc.body.data.key_version, 1);
      const dec = await s.call('POST', `transit/decrypt/enc-${type}`, { ciphertext: enc.body.data.ciphertext });
      assert.equal(dec.status, 200);
      assert.equal(text(dec.body.data.plaintext), `secret for ${type}`);
    }));
    for (const type of ['aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305']) {
      const aad = b64('tenant=42');
      const enc = await s.call('POST', `transit/encrypt/enc-${type}`, { plaintext: b64('with aad'), associated_data: aad });
      assert.equal(text((await s.call('POST', `transit/decrypt/enc-${type}`, { ciphertext: enc.body.data.ciphertext, associated_data: aad })).body.data.plaintext), 'with aad');
      const wrongAad = await s.call('POST', `transit/decrypt/enc-${type}`, { ciphertext: enc.body.data.ciphertext, associated_data: b64('tenant=43') });
      assert.equal(wrongAad.status, 400);
      assert.equal(wrongAad.body.data, undefined);
    }
    const rsaAad = await s.call('POST', 'transit/encrypt/enc-rsa-2048', { plaintext: b64('x'), associated_data: b64('y') });
    assert.equal(rsaAad.status, 400);
    assert.match(rsaAad.body.errors[0], /non-AEAD cipher suite rsa-2048/);
    // The same plaintext twice gives two ciphertexts: nonces are fresh.
    const a = await s.call('POST', 'transit/encrypt/enc-aes256-gcm96', { plaintext: b64('same') });
    const b = await s.call('POST', 'transit/encrypt/enc-aes256-gcm96', { plaintext: b64('same') });
    assert.notEqual(a.body.data.ciphertext, b.body.data.ciphertext);
    // An empty plaintext is a plaintext.
    const empty = await s.call('POST', 'transit/encrypt/enc-aes256-gcm96', { plaintext: '' });
    assert.equal((await s.call('POST', 'transit/decrypt/enc-aes256-gcm96', { ciphertext: empty.body.data.ciphertext })).body.data.plaintext, '');
  });

  await t.test('read, list and the key types that cannot encrypt', async () => {
    const read = await s.call('GET', 'transit/keys/enc-aes256-gcm96');
    assert.equal(read.status, 200);
    assert.equal(read.body.data.name, 'enc-aes256-gcm96');
    assert.equal(read.body.data.latest_version, 1);
    assert.equal(read.body.data.min_decryption_version, 1);
    assert.equal(read.body.data.deletion_allowed, false);
    assert.equal(typeof read.body.data.keys['1'], 'number', 'symmetric keys show a creation time, not key material');
    assert.equal((await s.call('GET', 'transit/keys/nope')).status, 404);
    const list = await s.call('LIST', 'transit/keys');
    assert.ok(list.body.data.keys.includes('enc-rsa-4096'));
    assert.deepEqual((await s.call('GET', 'transit/keys?list=true')).body.data.keys, list.body.data.keys);
    await s.call('POST', 'transit/keys/signer', { type: 'ed25519' });
    const refused = await s.call('POST', 'transit/encrypt/signer', { plaintext: b64('x') });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.errors, ['message encryption not supported for key type ed25519']);
    const unknown = await s.call('POST', 'transit/keys/bad', { type: 'aes512' });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body.errors, ['unknown key type aes512']);
    assert.equal((await s.call('POST', 'transit/keys/bad', { type: 'ecdsa-p256', derived: true })).status, 400);
    const again = await s.call('POST', 'transit/keys/enc-aes256-gcm96', {});
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.warnings, ['key enc-aes256-gcm96 already existed']);
    assert.equal((await s.call('POST', 'transit/keys/bad%20name', {})).status, 400);
  });

  await t.test('rotate and rewrap; min_decryption_version refuses old ciphertext; trim', async () => {
    await s.call('POST', 'transit/keys/rot', {});
    const v1 = (await s.call('POST', 'transit/encrypt/rot', { plaintext: b64('one') })).body.data.ciphertext as string;
    const rotated = await s.call('POST', 'transit/keys/rot/rotate');
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.data.latest_version, 2);
    const v2 = await s.call('POST', 'transit/encrypt/rot', { plaintext: b64('two') });
    assert.match(v2.body.data.ciphertext, /^vault:v2:/);
    assert.equal(v2.body.data.key_version, 2);
    const old = await s.call('POST', 'transit/encrypt/rot', { plaintext: b64('old'), key_version: 1 });
    assert.match(old.body.data.ciphertext, /^vault:v1:/);
    const rewrapped = await s.call('POST', 'transit/rewrap/rot', { ciphertext: v1 });
    assert.equal(rewrapped.status, 200);
    assert.match(rewrapped.body.data.ciphertext, /^vault:v2:/);
    assert.equal(text((await s.call('POST', 'transit/decrypt/rot', { ciphertext: rewrapped.body.data.ciphertext })).body.data.plaintext), 'one');
    assert.equal(text((await s.call('POST', 'transit/decrypt/rot', { ciphertext: v1 })).body.data.plaintext), 'one');

    const tooNew = await s.call('POST', 'transit/decrypt/rot', { ciphertext: v1.replace('vault:v1:', 'vault:v9:') });
    assert.deepEqual(tooNew.body.errors, ['invalid ciphertext: version is too new']);
    assert.equal((await s.call('POST', 'transit/encrypt/rot', { plaintext: b64('x'), key_version: 3 })).status, 400);

    const config = await s.call('POST', 'transit/keys/rot/config', { min_decryption_version: 2 });
    assert.equal(config.status, 200);
    assert.equal(config.body.data.min_decryption_version, 2);
    assert.deepEqual(Object.keys(config.body.data.keys), ['2'], 'versions below the floor are no longer shown');
    const refused = await s.call('POST', 'transit/decrypt/rot', { ciphertext: v1 });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.errors, ['ciphertext or signature version is disallowed by policy (too old)']);
    assert.equal(refused.body.data, undefined);
    assert.equal((await s.call('POST', 'transit/rewrap/rot', { ciphertext: v1 })).status, 400);
    assert.equal((await s.call('POST', 'transit/keys/rot/config', { min_decryption_version: 5 })).status, 400);
    assert.equal((await s.call('POST', 'transit/keys/rot/config', { min_encryption_version: 1 })).status, 400, 'min_encryption_version below min_decryption_version');

    // Trim needs both floors set; afterwards version 1 is gone even if the floor is lowered again.
    assert.equal((await s.call('POST', 'transit/keys/rot/trim', { min_available_version: 2 })).status, 400);
    assert.equal((await s.call('POST', 'transit/keys/rot/config', { min_encryption_version: 2 })).status, 200);
    const v2only = await s.call('POST', 'transit/encrypt/rot', { plaintext: b64('x'), key_version: 1 });
    assert.deepEqual(v2only.body.errors, ['requested version for encryption is less than the minimum encryption key version']);
    const trimmed = await s.call('POST', 'transit/keys/rot/trim', { min_available_version: 2 });
    assert.equal(trimmed.status, 200);
    assert.equal(trimmed.body.data.min_available_version, 2);
    assert.equal((await s.call('POST', 'transit/keys/rot/config', { min_decryption_version: 1 })).status, 400);
    assert.equal((await s.call('POST', 'transit/keys/rot/trim', { min_available_version: 1 })).status, 400, 'cannot decrement');
  });

  await t.test('tampered ciphertext fails with 400 and no plaintext', async () => {
    for (const name of ['enc-aes256-gcm96', 'enc-chacha20-poly1305', 'enc-rsa-2048']) {
      const ct = (await s.call('POST', `transit/encrypt/${name}`, { plaintext: b64('do not leak') })).body.data.ciphertext as string;
      for (const bad of [tamper(ct), tamper(ct, 3), ct.slice(0, -8) + 'AAAAAAA=', 'vault:v1:AAAA']) {
        const r = await s.call('POST', `transit/decrypt/${name}`, { ciphertext: bad });
        assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.data, undefined);
        assert.doesNotMatch(JSON.stringify(r.body), /ZG8gbm90IGxlYWs|do not leak/);
      }
    }
    const noPrefix = await s.call('POST', 'transit/decrypt/enc-aes256-gcm96', { ciphertext: 'hello' });
    assert.deepEqual(noPrefix.body.errors, ['invalid ciphertext: no prefix']);
    const badBase64 = await s.call('POST', 'transit/decrypt/enc-aes256-gcm96', { ciphertext: 'vault:v1:!!' });
    assert.deepEqual(badBase64.body.errors, ['invalid ciphertext: could not decode base64']);
    const mac = await s.call('POST', 'transit/decrypt/enc-aes256-gcm96', { ciphertext: tamper((await s.call('POST', 'transit/encrypt/enc-aes256-gcm96', { plaintext: b64('x') })).body.data.ciphertext) });
    assert.deepEqual(mac.body.errors, ['cipher: message authentication failed']);
  });

  await t.test('batches: one bad item reports its error and the rest are processed', async () => {
    const good = b64('alpha');
    const enc = await s.call('POST', 'transit/encrypt/enc-aes256-gcm96', {
      batch_input: [{ plaintext: good, reference: 'a' }, { plaintext: 'not base64!', reference: 'b' }, { plaintext: b64('gamma'), reference: 'c' }],
    });
    assert.equal(enc.status, 400, 'Vault answers a batch with a failed item with 400 and the full results');
    const results = enc.body.data.batch_results;
    assert.equal(results.length, 3);
    assert.match(results[0].ciphertext, /^vault:v1:/);
    assert.equal(results[0].reference, 'a');
    assert.equal(results[1].ciphertext, undefined);
    assert.match(results[1].error, /illegal base64 data at input byte/);
    assert.equal(results[1].reference, 'b');
    assert.match(results[2].ciphertext, /^vault:v1:/);

    const partial = await s.call('POST', 'transit/encrypt/enc-aes256-gcm96', { batch_input: [{ plaintext: good }, { plaintext: '%%%' }], partial_failure_response_code: 207 });
    assert.equal(partial.status, 207);
    const allBad = await s.call('POST', 'transit/encrypt/enc-aes256-gcm96', { batch_input: [{ plaintext: '%%%' }], partial_failure_response_code: 207 });
    assert.equal(allBad.status, 400, 'the override applies only when something succeeded');
    const allGood = await s.call('POST', 'transit/encrypt/enc-aes256-gcm96', { batch_input: [{ plaintext: good }, { plaintext: good }] });
    assert.equal(allGood.status, 200);

    const dec = await s.call('POST', 'transit/decrypt/enc-aes256-gcm96', {
      batch_input: [{ ciphertext: results[0].ciphertext, reference: 'x' }, { ciphertext: tamper(results[2].ciphertext) }, { ciphertext: results[2].ciphertext }],
    });
    assert.equal(dec.status, 400);
    assert.equal(text(dec.body.data.batch_results[0].plaintext), 'alpha');
    assert.equal(dec.body.data.batch_results[0].reference, 'x');
    assert.equal(dec.body.data.batch_results[1].plaintext, '');
    assert.equal(dec.body.data.batch_results[1].error, 'cipher: message authentication failed');
    assert.equal(text(dec.body.data.batch_results[2].plaintext), 'gamma');

    await s.call('POST', 'transit/keys/enc-aes256-gcm96/rotate');
    const rewrap = await s.call('POST', 'transit/rewrap/enc-aes256-gcm96', { batch_input: [{ ciphertext: results[0].ciphertext }, { ciphertext: 'junk' }] });
    assert.equal(rewrap.status, 200, 'rewrap batches answer 200 with per-item errors, as in Vault');
    assert.match(rewrap.body.data.batch_results[0].ciphertext, /^vault:v2:/);
    assert.deepEqual(rewrap.body.data.batch_results[1].error, 'invalid ciphertext: no prefix');

    assert.equal((await s.call('POST', 'transit/encrypt/enc-aes256-gcm96', { batch_input: [] })).status, 400);
    assert.equal((await s.call('POST', 'transit/encrypt/enc-aes256-gcm96', { batch_input: 'nope' })).status, 400);
    assert.equal((await s.call('POST', 'transit/encrypt/enc-aes256-gcm96', { batch_input: [{ plaintext: 7 }, 3] })).status, 400);
  });

  await t.test('derived keys: context required, per-context keys, HKDF-SHA256 as in Vault', async () => {
    await s.call('POST', 'transit/keys/tenants', { derived: true, exportable: true });
    const noContext = await s.call('POST', 'transit/encrypt/tenants', { plaintext: b64('doc') });
    assert.equal(noContext.status, 400);
    assert.match(noContext.body.errors[0], /missing 'context' for key derivation/);
    const ctxA = b64('tenant-a');
    const ctxB = b64('tenant-b');
    const enc = await s.call('POST', 'transit/encrypt/tenants', { plaintext: b64('doc for a'), context: ctxA });
    assert.equal(enc.status, 200);
    const ct = enc.body.data.ciphertext as string;
    assert.equal(text((await s.call('POST', 'transit/decrypt/tenants', { ciphertext: ct, context: ctxA })).body.data.plaintext), 'doc for a');
    assert.equal((await s.call('POST', 'transit/decrypt/tenants', { ciphertext: ct, context: ctxB })).status, 400, "tenant b's context cannot open tenant a's document");
    assert.equal((await s.call('POST', 'transit/decrypt/tenants', { ciphertext: ct })).status, 400);
    const mixed = await s.call('POST', 'transit/encrypt/tenants', { batch_input: [{ plaintext: b64('x'), context: ctxA }, { plaintext: b64('y') }] });
    assert.deepEqual(mixed.body.errors, ['context should be set either in all the request blocks or in none']);
    const read = await s.call('GET', 'transit/keys/tenants');
    assert.equal(read.body.data.derived, true);
    assert.equal(read.body.data.kdf, 'hkdf_sha256');

    // The derivation is Vault's: HKDF-SHA256(version key, no salt, info = context).
    const master = Buffer.from((await s.call('GET', 'transit/export/encryption-key/tenants/1')).body.data.keys['1'], 'base64');
    const derived = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), Buffer.from('tenant-a'), 32));
    const raw = Buffer.from(ct.slice('vault:v1:'.length), 'base64');
    const d = createDecipheriv('aes-256-gcm', derived, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(raw.length - 16));
    assert.equal(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString(), 'doc for a');
  });

  await t.test('convergent encryption: deterministic per context, nonce from an HMAC of the plaintext', async () => {
    assert.equal((await s.call('POST', 'transit/keys/conv', { convergent_encryption: true })).status, 400, 'convergent needs derived');
    await s.call('POST', 'transit/keys/conv', { derived: true, convergent_encryption: true, exportable: true });
    const ctx = b64('row-17');
    const one = await s.call('POST', 'transit/encrypt/conv', { plaintext: b64('same'), context: ctx });
    const two = await s.call('POST', 'transit/encrypt/conv', { plaintext: b64('same'), context: ctx });
    assert.equal(one.body.data.ciphertext, two.body.data.ciphertext);
    const other = await s.call('POST', 'transit/encrypt/conv', { plaintext: b64('same'), context: b64('row-18') });
    assert.notEqual(other.body.data.ciphertext, one.body.data.ciphertext);
    const withAad = await s.call('POST', 'transit/encrypt/conv', { plaintext: b64('same'), context: ctx, associated_data: b64('v1') });
    const withOtherAad = await s.call('POST', 'transit/encrypt/conv', { plaintext: b64('same'), context: ctx, associated_data: b64('v2') });
    const nonceOf = (c: string): string => Buffer.from(c.slice('vault:v1:'.length), 'base64').subarray(0, 12).toString('hex');
    assert.notEqual(nonceOf(withAad.body.data.ciphertext), nonceOf(withOtherAad.body.data.ciphertext), 'different associated data never reuses a nonce');
    const read = await s.call('GET', 'transit/keys/conv');
    assert.equal(read.body.data.convergent_encryption, true);
    assert.equal(read.body.data.convergent_encryption_version, 3);
    // Vault's version 3: nonce = HMAC-SHA256(HKDF bytes 32..64, plaintext)[:12].
    const master = Buffer.from((await s.call('GET', 'transit/export/encryption-key/conv/1')).body.data.keys['1'], 'base64');
    const okm = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), Buffer.from('row-17'), 64));
    const expected = createHmac('sha256', okm.subarray(32)).update('same').digest().subarray(0, 12).toString('hex');
    assert.equal(nonceOf(one.body.data.ciphertext), expected);
    assert.equal(text((await s.call('POST', 'transit/decrypt/conv', { ciphertext: one.body.data.ciphertext, context: ctx })).body.data.plaintext), 'same');
  });

  await t.test('nonces come from Coffer only', async () => {
    const r = await s.call('POST', 'transit/encrypt/enc-aes128-gcm96', { plaintext: b64('x'), nonce: b64('123456789012') });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.errors, ['nonce provided when not allowed']);
    const dk = await s.call('POST', 'transit/datakey/plaintext/enc-aes128-gcm96', { nonce: b64('123456789012') });
    assert.equal(dk.status, 400);
  });

  await t.test('datakey: plaintext and wrapped', async () => {
    const plain = await s.call('POST', 'transit/datakey/plaintext/enc-aes128-gcm96', { bits: 512 });
    assert.equal(plain.status, 200);
    assert.equal(Buffer.from(plain.body.data.plaintext, 'base64').length, 64);
    const opened = await s.call('POST', 'transit/decrypt/enc-aes128-gcm96', { ciphertext: plain.body.data.ciphertext });
    assert.equal(opened.body.data.plaintext, plain.body.data.plaintext);
    const wrapped = await s.call('POST', 'transit/datakey/wrapped/enc-aes128-gcm96', {});
    assert.equal(wrapped.body.data.plaintext, undefined);
    assert.equal(Buffer.from((await s.call('POST', 'transit/decrypt/enc-aes128-gcm96', { ciphertext: wrapped.body.data.ciphertext })).body.data.plaintext, 'base64').length, 32);
    assert.equal((await s.call('POST', 'transit/datakey/other/enc-aes128-gcm96', {})).status, 400);
    assert.equal((await s.call('POST', 'transit/datakey/plaintext/enc-aes128-gcm96', { bits: 100 })).status, 400);
    assert.equal((await s.call('POST', 'transit/datakey/plaintext/tenants', {})).status, 400, 'derived keys need a context here too');
  });

  await t.test('delete needs deletion_allowed', async () => {
    await s.call('POST', 'transit/keys/doomed', {});
    const refused = await s.call('DELETE', 'transit/keys/doomed');
    assert.equal(refused.status, 400);
    assert.match(refused.body.errors[0], /deletion is not allowed/);
    assert.equal((await s.call('POST', 'transit/keys/doomed/config', { deletion_allowed: true })).body.data.deletion_allowed, true);
    assert.equal((await s.call('DELETE', 'transit/keys/doomed')).status, 204);
    assert.equal((await s.call('GET', 'transit/keys/doomed')).status, 404);
    assert.equal((await s.call('POST', 'transit/decrypt/doomed', { ciphertext: 'vault:v1:AAAA' })).status, 400);
  });

  await t.test('encrypt creates a missing key only with the create capability', async () => {
    await s.call('PUT', 'sys/policy/enc-update', { policy: 'path "transit/encrypt/*" { capabilities = ["update"] }' });
    await s.call('PUT', 'sys/policy/enc-create', { policy: 'path "transit/encrypt/*" { capabilities = ["create", "update"] }' });
    const updater = await s.call('POST', 'auth/token/create', { policies: ['enc-update'] });
    const creator = await s.call('POST', 'auth/token/create', { policies: ['enc-create'] });
    assert.equal(updater.status, 200, JSON.stringify(updater.body));
    const denied = await s.call('POST', 'transit/encrypt/upserted', { plaintext: b64('x') }, as(updater.body.auth.client_token));
    assert.equal(denied.status, 403);
    assert.equal((await s.call('GET', 'transit/keys/upserted')).status, 404);
    const made = await s.call('POST', 'transit/encrypt/upserted', { plaintext: b64('x'), context: b64('c') }, as(creator.body.auth.client_token));
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const key = await s.call('GET', 'transit/keys/upserted');
    assert.equal(key.body.data.type, 'aes256-gcm96');
    assert.equal(key.body.data.derived, true, 'a context on the upserting request makes a derived key');
    const existing = await s.call('POST', 'transit/encrypt/upserted', { plaintext: b64('y'), context: b64('c') }, as(updater.body.auth.client_token));
    assert.equal(existing.status, 200, 'update suffices once the key exists');
    await s.call('POST', 'transit/config/keys', { disable_upsert: true });
    const noUpsert = await s.call('POST', 'transit/encrypt/upserted-2', { plaintext: b64('x') }, as(creator.body.auth.client_token));
    assert.equal(noUpsert.status, 400);
    assert.deepEqual(noUpsert.body.errors, ['encryption key not found']);
    await s.call('POST', 'transit/config/keys', { disable_upsert: false });
  });

  await t.test('the RAG recipe (docs/rag-transit.md): ingest encrypts, retrieve decrypts, tenants stay apart', async () => {
    await s.call('POST', 'transit/keys/rag-docs', { type: 'aes256-gcm96', derived: true, auto_rotate_period: '720h' });
    await s.call('PUT', 'sys/policy/rag-ingest', { policy: 'path "transit/encrypt/rag-docs" { capabilities = ["update"] }' });
    await s.call('PUT', 'sys/policy/rag-retrieve', { policy: 'path "transit/decrypt/rag-docs" { capabilities = ["update"] }' });
    const ingest = as((await s.call('POST', 'auth/token/create', { policies: ['rag-ingest'] })).body.auth.client_token);
    const retrieve = as((await s.call('POST', 'auth/token/create', { policies: ['rag-retrieve'] })).body.auth.client_token);
    const acme = b64('tenant-acme');
    const chunks = ['Q3 revenue was up 12%', 'Churn fell to 2.1%'];
    const enc = await s.call('POST', 'transit/encrypt/rag-docs', { batch_input: chunks.map((c, i) => ({ plaintext: b64(c), context: acme, reference: `doc7#${i}` })) }, ingest);
    assert.equal(enc.status, 200);
    const cts = enc.body.data.batch_results.map((r: { ciphertext: string }) => r.ciphertext);
    assert.equal((await s.call('POST', 'transit/decrypt/rag-docs', { ciphertext: cts[0], context: acme }, ingest)).status, 403, 'ingest cannot decrypt');
    assert.equal((await s.call('GET', 'transit/keys/rag-docs', undefined, ingest)).status, 403);
    assert.equal((await s.call('POST', 'transit/encrypt/rag-docs', { plaintext: b64('x'), context: acme }, retrieve)).status, 403, 'retrieve cannot encrypt');
    const dec = await s.call('POST', 'transit/decrypt/rag-docs', { batch_input: cts.map((c: string) => ({ ciphertext: c, context: acme })) }, retrieve);
    assert.deepEqual(dec.body.data.batch_results.map((r: { plaintext: string }) => text(r.plaintext)), chunks);
    const otherTenant = await s.call('POST', 'transit/decrypt/rag-docs', { ciphertext: cts[0], context: b64('tenant-globex') }, retrieve);
    assert.equal(otherTenant.status, 400);
    assert.deepEqual(otherTenant.body.errors, ['cipher: message authentication failed']);
    assert.equal((await s.call('POST', 'transit/encrypt/rag-docs', { plaintext: b64('x') }, ingest)).status, 400, 'a forgotten tenant is an error');
  });

  await t.test('auto_rotate_period rotates the key on its first use after the period', async () => {
    assert.equal((await s.call('POST', 'transit/keys/auto', { auto_rotate_period: '30m' })).status, 400, 'at least an hour');
    const created = await s.call('POST', 'transit/keys/auto', { auto_rotate_period: '1h' });
    assert.equal(created.body.data.auto_rotate_period, 3600);
    const before = (await s.call('POST', 'transit/encrypt/auto', { plaintext: b64('early') })).body.data.ciphertext as string;
    assert.match(before, /^vault:v1:/);
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 2 * 3600 * 1000 });
    try {
      const after = await s.call('POST', 'transit/encrypt/auto', { plaintext: b64('late') });
      assert.equal(after.body.data.key_version, 2);
      assert.equal((await s.call('GET', 'transit/keys/auto')).body.data.latest_version, 2);
      assert.equal(text((await s.call('POST', 'transit/decrypt/auto', { ciphertext: before })).body.data.plaintext), 'early');
    } finally {
      mock.timers.reset();
    }
    assert.equal((await s.call('POST', 'transit/keys/auto/config', { auto_rotate_period: 0 })).body.data.auto_rotate_period, 0);
  });
});

test('transit key material is never in the storage file in the clear', async () => {
  const dir = tmpDir('transit-canary');
  const s = await startDevServer({ dataDir: dir });
  await mountTransit(s, 'vault-transit');
  await s.call('POST', 'vault-transit/keys/canary', { exportable: true });
  await s.call('POST', 'vault-transit/keys/canary-ed', { type: 'ed25519', exportable: true });
  const aes = Buffer.from((await s.call('GET', 'vault-transit/export/encryption-key/canary/1')).body.data.keys['1'], 'base64');
  const ed = Buffer.from((await s.call('GET', 'vault-transit/export/signing-key/canary-ed/1')).body.data.keys['1'], 'base64');
  await s.server.close();
  const files = readdirSync(dir).map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
  assert.ok(files.some((f) => f.bytes.includes('policy/canary-ed')), "the scan sees the mount's records");
  for (const { name, bytes } of files) {
    for (const secret of [aes, ed.subarray(0, 32)]) {
      assert.equal(bytes.indexOf(secret), -1, `raw key bytes found in ${name}`);
      assert.equal(bytes.indexOf(Buffer.from(secret.toString('base64'))), -1, `base64 key found in ${name}`);
    }
  }
});
