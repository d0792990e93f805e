/**
 * Transit signatures, HMACs, export, backup/restore, random and hash over the real HTTP wire.
 * Signatures are also checked with Node's own verify against the exported public key, so they
 * are standard signatures and not merely self-consistent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, verify } from 'node:crypto';
import { startDevServer } from '../helpers/server.js';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const body = (sig: string): Buffer => Buffer.from(sig.replace(/^vault:v\d+:/, ''), 'base64');

test('transit signing, hmac, export and backup', async (t) => {
  const s = await startDevServer();
  assert.equal((await s.call('POST', 'sys/mounts/transit', { type: 'transit' })).status, 204);
  const SIGNERS = ['ed25519', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'rsa-2048', 'rsa-3072', 'rsa-4096'];
  await Promise.all(SIGNERS.map(async (type) => {
    const r = await s.call('POST', `transit/keys/sig-${type}`, { type, exportable: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }));
  const message = b64('the quick brown fox');

  await t.test('every signing key type signs and verifies; a changed input does not verify', async () => {
    for (const type of SIGNERS) {
      const signed = await s.call('POST', `transit/sign/sig-${type}`, { input: message });
      assert.equal(signed.status, 200, `${type}: ${JSON.stringify(signed.body)}`);
      assert.match(signed.body.data.signature, /^vault:v1:/);
      assert.equal(signed.body.data.key_version, 1);
      const ok = await s.call('POST', `transit/verify/sig-${type}`, { input: message, signature: signed.body.data.signature });
      assert.equal(ok.body.data.valid, true, type);
      const bad = await s.call('POST', `transit/verify/sig-${type}`, { input: b64('the quick brown cat'), signature: signed.body.data.signature });
      assert.equal(bad.status, 200);
      assert.equal(bad.body.data.valid, false, type);
      // A standard signature: Node verifies it with the public key the key read shows.
      const read = await s.call('GET', `transit/keys/sig-${type}`);
      const shown = read.body.data.keys['1'].public_key as string;
      const publicKey = type === 'ed25519'
        ? createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(shown, 'base64').toString('base64url') }, format: 'jwk' })
        : createPublicKey(shown);
      const nodeOk = type === 'ed25519'
        ? verify(null, Buffer.from('the quick brown fox'), publicKey, body(signed.body.data.signature))
        : verify('sha256', Buffer.from('the quick brown fox'), type.startsWith('rsa') ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO } : publicKey, body(signed.body.data.signature));
      assert.equal(nodeOk, true, `${type}: Node verifies the signature`);
    }
  });

  await t.test('hash algorithms, RSA schemes, prehashed input and JWS marshaling', async () => {
    for (const [path, extra] of [
      ['sign/sig-rsa-2048/sha2-512', {}],
      ['sign/sig-rsa-2048', { hash_algorithm: 'sha3-256', signature_algorithm: 'pkcs1v15' }],
      ['sign/sig-rsa-2048', { hash_algorithm: 'sha2-384', salt_length: 'hash' }],
      ['sign/sig-ecdsa-p384', { hash_algorithm: 'sha2-384', marshaling_algorithm: 'jws' }],
      ['sign/sig-ed25519', { marshaling_algorithm: 'jws' }],
    ] as const) {
      const signed = await s.call('POST', `transit/${path}`, { input: message, ...extra });
      assert.equal(signed.status, 200, `${path}: ${JSON.stringify(signed.body)}`);
      const verifyPath = path.replace('sign/', 'verify/');
      const ok = await s.call('POST', `transit/${verifyPath}`, { input: message, signature: signed.body.data.signature, ...extra });
      assert.equal(ok.body.data.valid, true, `${path} ${JSON.stringify(extra)}`);
    }
    const jws = await s.call('POST', 'transit/sign/sig-ecdsa-p256', { input: message, marshaling_algorithm: 'jws' });
    assert.match(jws.body.data.signature, /^vault:v1:[A-Za-z0-9_-]{86}$/, 'JWS: r||s in URL-safe base64, no padding');

    // Prehashed RSA (PSS and PKCS#1 v1.5) verifies with Node over the original message.
    const digest = createHash('sha256').update('the quick brown fox').digest();
    const pub = createPublicKey((await s.call('GET', 'transit/keys/sig-rsa-3072')).body.data.keys['1'].public_key);
    for (const scheme of ['pss', 'pkcs1v15'] as const) {
      const signed = await s.call('POST', 'transit/sign/sig-rsa-3072', { input: b64(digest), prehashed: true, signature_algorithm: scheme });
      assert.equal(signed.status, 200, JSON.stringify(signed.body));
      const padding = scheme === 'pss' ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING;
      assert.equal(verify('sha256', Buffer.from('the quick brown fox'), { key: pub, padding, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, body(signed.body.data.signature)), true, scheme);
      const ok = await s.call('POST', 'transit/verify/sig-rsa-3072', { input: b64(digest), prehashed: true, signature_algorithm: scheme, signature: signed.body.data.signature });
      assert.equal(ok.body.data.valid, true, scheme);
      const other = await s.call('POST', 'transit/verify/sig-rsa-3072', { input: b64(createHash('sha256').update('x').digest()), prehashed: true, signature_algorithm: scheme, signature: signed.body.data.signature });
      assert.equal(other.body.data.valid, false, scheme);
    }
    const none = await s.call('POST', 'transit/sign/sig-rsa-2048', { input: b64(digest), hash_algorithm: 'none' });
    assert.deepEqual(none.body.errors, ['hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15']);
    const noOid = await s.call('POST', 'transit/sign/sig-rsa-2048', { input: b64(digest), hash_algorithm: 'none', prehashed: true, signature_algorithm: 'pkcs1v15' });
    assert.equal((await s.call('POST', 'transit/verify/sig-rsa-2048', { input: b64(digest), hash_algorithm: 'none', prehashed: true, signature_algorithm: 'pkcs1v15', signature: noOid.body.data.signature })).body.data.valid, true);
    assert.equal((await s.call('POST', 'transit/sign/sig-ecdsa-p256', { input: b64(digest), prehashed: true })).status, 400, 'Node cannot sign a bare digest with ECDSA');
    assert.deepEqual((await s.call('POST', 'transit/sign/sig-rsa-2048', { input: message, hash_algorithm: 'md5' })).body.errors, ['invalid hash algorithm "md5"']);
    assert.equal((await s.call('POST', 'transit/sign/enc', { input: message })).status, 400, 'missing key');
    await s.call('POST', 'transit/keys/enc', {});
    assert.deepEqual((await s.call('POST', 'transit/sign/enc', { input: message })).body.errors, ['key type aes256-gcm96 does not support signing']);
  });

  await t.test('signatures verify across rotations until min_decryption_version passes them', async () => {
    const v1 = (await s.call('POST', 'transit/sign/sig-ecdsa-p256', { input: message })).body.data.signature;
    await s.call('POST', 'transit/keys/sig-ecdsa-p256/rotate');
    const v2 = await s.call('POST', 'transit/sign/sig-ecdsa-p256', { input: message });
    assert.match(v2.body.data.signature, /^vault:v2:/);
    for (const sig of [v1, v2.body.data.signature]) {
      assert.equal((await s.call('POST', 'transit/verify/sig-ecdsa-p256', { input: message, signature: sig })).body.data.valid, true);
    }
    const read = await s.call('GET', 'transit/keys/sig-ecdsa-p256');
    assert.notEqual(read.body.data.keys['1'].public_key, read.body.data.keys['2'].public_key);
    await s.call('POST', 'transit/keys/sig-ecdsa-p256/config', { min_decryption_version: 2 });
    const old = await s.call('POST', 'transit/verify/sig-ecdsa-p256', { input: message, signature: v1 });
    assert.equal(old.status, 400);
    assert.deepEqual(old.body.errors, ['ciphertext or signature version is disallowed by policy (too old)']);
  });

  await t.test('derived ed25519: one key per context', async () => {
    await s.call('POST', 'transit/keys/per-user', { type: 'ed25519', derived: true });
    assert.equal((await s.call('POST', 'transit/sign/per-user', { input: message })).status, 400);
    const alice = await s.call('POST', 'transit/sign/per-user', { input: message, context: b64('alice') });
    assert.equal(alice.status, 200);
    const shown = await s.call('GET', `transit/keys/per-user?context=${encodeURIComponent(b64('alice'))}`);
    assert.equal(shown.body.data.keys['1'].public_key, alice.body.data.public_key);
    assert.equal((await s.call('GET', 'transit/keys/per-user')).body.data.keys['1'].public_key, '');
    assert.equal((await s.call('POST', 'transit/verify/per-user', { input: message, context: b64('alice'), signature: alice.body.data.signature })).body.data.valid, true);
    assert.equal((await s.call('POST', 'transit/verify/per-user', { input: message, context: b64('bob'), signature: alice.body.data.signature })).body.data.valid, false);
  });

  await t.test('batch sign and verify: bad items carry errors, status 200', async () => {
    const signed = await s.call('POST', 'transit/sign/sig-ed25519', { batch_input: [{ input: message, reference: 'r1' }, { input: '***' }, {}] });
    assert.equal(signed.status, 200);
    const [a, b, c] = signed.body.data.batch_results;
    assert.match(a.signature, /^vault:v1:/);
    assert.equal(a.reference, 'r1');
    assert.match(b.error, /unable to decode input as base64/);
    assert.equal(c.error, 'missing input');
    const verified = await s.call('POST', 'transit/verify/sig-ed25519', { batch_input: [{ input: message, signature: a.signature }, { input: b64('other'), signature: a.signature }, { input: message, signature: 'nope' }] });
    assert.equal(verified.status, 200);
    assert.deepEqual(verified.body.data.batch_results.map((r: { valid: boolean }) => r.valid), [true, false, false]);
    assert.deepEqual(verified.body.data.batch_results[2].error, 'invalid signature: no prefix');
    const mixed = await s.call('POST', 'transit/verify/sig-ed25519', { batch_input: [{ input: message, signature: a.signature }, { input: message, hmac: 'vault:v1:AAAA' }] });
    assert.equal(mixed.status, 400);
  });

  await t.test('hmac: any key type, and the hmac key type; verify through verify/', async () => {
    await s.call('POST', 'transit/keys/mac', { type: 'hmac', key_size: 64, exportable: true });
    for (const name of ['mac', 'enc', 'sig-rsa-2048']) {
      const mac = await s.call('POST', `transit/hmac/${name}/sha2-512`, { input: message });
      assert.equal(mac.status, 200, JSON.stringify(mac.body));
      assert.match(mac.body.data.hmac, /^vault:v1:/);
      const ok = await s.call('POST', `transit/verify/${name}/sha2-512`, { input: message, hmac: mac.body.data.hmac });
      assert.equal(ok.body.data.valid, true);
      assert.equal((await s.call('POST', `transit/verify/${name}`, { input: message, hmac: mac.body.data.hmac })).body.data.valid, false, 'another algorithm does not match');
    }
    // The hmac key type's HMAC is a plain HMAC with the exported key.
    const key = Buffer.from((await s.call('GET', 'transit/export/hmac-key/mac/1')).body.data.keys['1'], 'base64');
    assert.equal(key.length, 64);
    const { createHmac } = await import('node:crypto');
    const mac = await s.call('POST', 'transit/hmac/mac', { input: message, algorithm: 'sha2-256' });
    assert.equal(mac.body.data.hmac, `vault:v1:${createHmac('sha256', key).update('the quick brown fox').digest('base64')}`);
    const batch = await s.call('POST', 'transit/hmac/mac', { batch_input: [{ input: message }, {}, { input: '' }] });
    assert.equal(batch.status, 200);
    assert.equal(batch.body.data.batch_results[1].error, 'missing input for HMAC');
    assert.match(batch.body.data.batch_results[2].hmac, /^vault:v1:/);
    assert.deepEqual((await s.call('POST', 'transit/hmac/mac', { input: message, algorithm: 'md5' })).body.errors, ['unsupported algorithm "md5"']);
    assert.equal((await s.call('POST', 'transit/keys/mac2', { type: 'hmac', key_size: 8 })).status, 400);
  });

  await t.test('export only when exportable; public keys always', async () => {
    await s.call('POST', 'transit/keys/private', { type: 'ecdsa-p256' });
    const refused = await s.call('GET', 'transit/export/signing-key/private');
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.errors, ['private key material is not exportable']);
    const pub = await s.call('GET', 'transit/export/public-key/private');
    assert.equal(pub.status, 200);
    assert.match(pub.body.data.keys['1'], /^-----BEGIN PUBLIC KEY-----/);
    assert.equal((await s.call('GET', 'transit/export/encryption-key/enc')).status, 400);

    const all = await s.call('GET', 'transit/export/signing-key/sig-ecdsa-p256');
    assert.deepEqual(Object.keys(all.body.data.keys), ['2'], 'only versions at or above min_decryption_version');
    assert.match(all.body.data.keys['2'], /^-----BEGIN EC PRIVATE KEY-----/);
    const latest = await s.call('GET', 'transit/export/signing-key/sig-ecdsa-p256/latest?format=pem');
    assert.match(latest.body.data.keys['2'], /^-----BEGIN PRIVATE KEY-----/);
    assert.equal((await s.call('GET', 'transit/export/signing-key/sig-ecdsa-p256/1')).status, 400);
    const rsa = await s.call('GET', 'transit/export/encryption-key/sig-rsa-2048/1');
    assert.match(rsa.body.data.keys['1'], /^-----BEGIN RSA PRIVATE KEY-----/);
    const ed = await s.call('GET', 'transit/export/signing-key/sig-ed25519/v1');
    assert.equal(Buffer.from(ed.body.data.keys['1'], 'base64').length, 64, 'ed25519 exports seed and public key, as Vault does');
    assert.equal((await s.call('GET', 'transit/export/encryption-key/sig-ed25519')).status, 400);
    assert.equal((await s.call('GET', 'transit/export/bogus/sig-ed25519')).status, 400);
    assert.equal((await s.call('GET', 'transit/export/signing-key/missing')).status, 404);
  });

  await t.test('backup and restore', async () => {
    await s.call('POST', 'transit/keys/precious', { exportable: true });
    const ct = (await s.call('POST', 'transit/encrypt/precious', { plaintext: b64('keep me') })).body.data.ciphertext;
    await s.call('POST', 'transit/keys/precious/rotate');
    assert.deepEqual((await s.call('GET', 'transit/backup/precious')).body.errors, ['plaintext backup is disallowed on the policy']);
    assert.deepEqual((await s.call('GET', 'transit/backup/enc')).body.errors, ['exporting is disallowed on the policy']);
    await s.call('POST', 'transit/keys/precious/config', { allow_plaintext_backup: true });
    const backup = await s.call('GET', 'transit/backup/precious');
    assert.equal(backup.status, 200);
    assert.equal(typeof backup.body.data.backup, 'string');
    assert.equal((await s.call('GET', 'transit/keys/precious')).body.data.backup_info.version, 2);

    assert.equal((await s.call('POST', 'transit/restore', { backup: backup.body.data.backup })).status, 400, 'the key exists');
    assert.equal((await s.call('POST', 'transit/restore/copy', { backup: backup.body.data.backup })).status, 204);
    const copy = await s.call('GET', 'transit/keys/copy');
    assert.equal(copy.body.data.latest_version, 2);
    assert.equal(copy.body.data.restore_info.version, 2);
    assert.equal(Buffer.from((await s.call('POST', 'transit/decrypt/copy', { ciphertext: ct })).body.data.plaintext, 'base64').toString(), 'keep me');
    assert.equal((await s.call('POST', 'transit/restore/precious', { backup: backup.body.data.backup, force: true })).status, 204);

    const forged = JSON.parse(Buffer.from(backup.body.data.backup, 'base64').toString());
    forged.policy.versions['1'].key = b64('short');
    assert.equal((await s.call('POST', 'transit/restore/forged', { backup: b64(JSON.stringify(forged)) })).status, 400);
    assert.equal((await s.call('POST', 'transit/restore/forged', { backup: 'bm90IGpzb24=' })).status, 400);
    assert.equal((await s.call('POST', 'transit/restore/forged', {})).status, 400);
    assert.equal((await s.call('GET', 'transit/keys/forged')).status, 404);
  });

  await t.test('random bytes and hashes', async () => {
    const r = await s.call('POST', 'transit/random', {});
    assert.equal(Buffer.from(r.body.data.random_bytes, 'base64').length, 32);
    assert.match((await s.call('POST', 'transit/random/16', { format: 'hex' })).body.data.random_bytes, /^[0-9a-f]{32}$/);
    assert.equal(Buffer.from((await s.call('POST', 'transit/random/all/8', {})).body.data.random_bytes, 'base64').length, 8);
    assert.equal((await s.call('POST', 'transit/random', { bytes: 0 })).status, 400);
    assert.equal((await s.call('POST', 'transit/random', { bytes: 1_000_000 })).status, 400);
    assert.equal((await s.call('POST', 'transit/random/moon', {})).status, 400);
    const h = await s.call('POST', 'transit/hash', { input: message });
    assert.equal(h.body.data.sum, createHash('sha256').update('the quick brown fox').digest('hex'));
    const h2 = await s.call('POST', 'transit/hash/sha3-512', { input: message, format: 'base64' });
    assert.equal(h2.body.data.sum, createHash('sha3-512').update('the quick brown fox').digest('base64'));
    assert.equal((await s.call('POST', 'transit/hash/md5', { input: message })).status, 400);
  });
});
