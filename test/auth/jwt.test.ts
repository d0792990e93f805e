import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { callers, ok, startDevServer, type CallResult } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

const s = await startDevServer();
type Res = CallResult;
const { root, anon } = callers(s);

// A CI system's OIDC issuer: its keys, a JWKS endpoint and a discovery document on loopback.
const rsa = await generateKeyPair('RS256', { extractable: true });
const ec = await generateKeyPair('ES256', { extractable: true });
const stranger = await generateKeyPair('RS256', { extractable: true });
const rotated = await generateKeyPair('RS256', { extractable: true });
const jwk = async (key: CryptoKey, kid: string, alg: string): Promise<JWK> => ({ ...(await exportJWK(key)), kid, alg, use: 'sig' });
const keys: JWK[] = [await jwk(rsa.publicKey, 'k1', 'RS256'), await jwk(ec.publicKey, 'k2', 'ES256')];
let jwksBody = (): unknown => ({ keys });
const server: Server = createServer((req, res) => {
  if (req.url === '/.well-known/openid-configuration') return void res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
  if (req.url === '/jwks') return void res.end(JSON.stringify(jwksBody()));
  if (req.url === '/moved') { res.writeHead(302, { location: `${issuer}/jwks` }); return void res.end(); }
  if (req.url === '/huge') return void res.end(JSON.stringify({ keys: [], pad: 'x'.repeat(600 * 1024) }));
  res.writeHead(404).end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
after(() => new Promise<void>((r) => server.close(() => r())));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const now = (): number => Math.floor(Date.now() / 1000);
const CLAIMS = { sub: 'project_path:acme/api:ref:main', aud: 'coffer', project_path: 'acme/api', ref: 'main', pipeline_id: 42, groups: ['devs', 'ops'] };
async function sign(claims: Record<string, unknown> = {}, opts: { key?: CryptoKey; kid?: string; alg?: string; iss?: string } = {}): Promise<string> {
  const body = { ...CLAIMS, iss: opts.iss ?? issuer, iat: now(), exp: now() + 300, ...claims };
  for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k as keyof typeof body];
  return new SignJWT(body).setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: opts.kid ?? 'k1' }).sign(opts.key ?? rsa.privateKey);
}
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

await ok(root('POST', 'sys/auth/jwt', { type: 'jwt' }));
await ok(root('POST', 'auth/jwt/config', { jwks_url: `${issuer}/jwks`, bound_issuer: issuer }));
await ok(root('POST', 'auth/jwt/role/ci', {
  role_type: 'jwt', user_claim: 'sub', bound_audiences: 'coffer', bound_claims_type: 'glob',
  bound_claims: { project_path: 'acme/*', ref: ['main', 'release-*'] }, claim_mappings: { project_path: 'project', pipeline_id: 'pipeline' },
  groups_claim: 'groups', token_policies: 'ci', token_ttl: '10m',
}));
const login = async (jwt: string, role = 'ci', mount = 'jwt'): Promise<Res> => anon('POST', `auth/${mount}/login`, { role, jwt });

test('config: read back without secrets; key sources are exclusive and checked', async () => {
  const read = await ok(root('GET', 'auth/jwt/config'), 200);
  assert.equal(read.data.jwks_url, `${issuer}/jwks`);
  assert.equal(read.data.bound_issuer, issuer);
  assert.equal('oidc_client_secret' in read.data, false);
  const both = await root('POST', 'auth/jwt/config', { jwks_url: `${issuer}/jwks`, jwt_validation_pubkeys: 'x' });
  assert.equal(both.status, 400);
  assert.equal((await root('POST', 'auth/jwt/config', { jwks_url: `${issuer}/jwks`, jwt_supported_algs: 'HS256' })).status, 400);
});

test('SECURITY rule 7: remote URLs must be https (http only to loopback), no redirects, bounded size', async () => {
  await ok(root('POST', 'sys/auth/jwt-bad', { type: 'jwt' }));
  const plain = await root('POST', 'auth/jwt-bad/config', { jwks_url: 'http://example.com/jwks' });
  assert.equal(plain.status, 400);
  assert.match(plain.body.errors[0], /must use https/);
  const moved = await root('POST', 'auth/jwt-bad/config', { jwks_url: `${issuer}/moved` });
  assert.match(moved.body.errors[0], /redirects are not followed/);
  const huge = await root('POST', 'auth/jwt-bad/config', { jwks_url: `${issuer}/huge` });
  assert.match(huge.body.errors[0], /larger than/);
  const creds = await root('POST', 'auth/jwt-bad/config', { oidc_discovery_url: 'https://user:pw@example.com' });
  assert.match(creds.body.errors[0], /credentials/);
});

test('roles: Vault\'s read shape; a jwt role needs a bound constraint, an oidc role redirect URIs', async () => {
  const read = (await ok(root('GET', 'auth/jwt/role/ci'), 200)).data;
  assert.equal(read.role_type, 'jwt');
  assert.deepEqual(read.bound_claims, { project_path: 'acme/*', ref: ['main', 'release-*'] });
  assert.deepEqual(read.token_policies, ['ci']);
  assert.equal((await root('POST', 'auth/jwt/role/loose', { role_type: 'jwt', user_claim: 'sub' })).status, 400);
  assert.equal((await root('POST', 'auth/jwt/role/web', { user_claim: 'sub' })).status, 400);
  assert.equal((await root('POST', 'auth/jwt/role/nouser', { role_type: 'jwt', bound_subject: 'x' })).status, 400);
  assert.deepEqual((await ok(root('LIST', 'auth/jwt/role'), 200)).data.keys, ['ci']);
});

test('CI-style login: bound claims (globs), claim mappings, the token', async () => {
  const body = await ok(login(await sign()), 200);
  const auth = body.auth;
  assert.deepEqual(auth.metadata, { project: 'acme/api', pipeline: '42', role: 'ci' });
  assert.deepEqual(auth.policies, ['ci', 'default']);
  assert.equal(auth.lease_duration, 600);
  const self = await ok(s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': auth.client_token }), 200);
  assert.equal(self.data.display_name, 'jwt-project_path:acme/api:ref:main');
  assert.deepEqual(auth.identity_policies, []);
  // The EC key of the same issuer works too, and a release-* ref matches the glob.
  await ok(login(await sign({ ref: 'release-1.2' }, { key: ec.privateKey, kid: 'k2', alg: 'ES256' })), 200);
});

test('bound claims refuse what does not match; missing claims are named', async () => {
  const wrongProject = await login(await sign({ project_path: 'other/api' }));
  assert.deepEqual([wrongProject.status, wrongProject.body.errors], [400, ['error validating claims: claim "project_path" does not match any associated bound claim values']]);
  assert.equal((await login(await sign({ ref: 'feature/x' }))).status, 400);
  assert.match((await login(await sign({ ref: undefined }))).body.errors[0], /claim "ref" is missing/);
  assert.match((await login(await sign({ groups: undefined }))).body.errors[0], /"groups" claim not found/);
  assert.match((await login(await sign({ sub: undefined }))).body.errors[0], /claim "sub" not found/);
});

test('T12: forged, confused, expired, early, misaddressed and unknown-key tokens: 0 accepted', async () => {
  const spki = await exportSPKI(rsa.publicKey);
  const hsWithPublicKey = (() => {
    const head = b64({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
    const body = b64({ ...CLAIMS, iss: issuer, iat: now(), exp: now() + 300 });
    return `${head}.${body}.${createHmac('sha256', spki).update(`${head}.${body}`).digest('base64url')}`;
  })();
  const valid = await sign();
  const [h, p] = valid.split('.');
  const cases: Record<string, string> = {
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...CLAIMS, iss: issuer, exp: now() + 300 })}.`,
    'alg none with a signature': `${b64({ alg: 'none', kid: 'k1' })}.${p}.${valid.split('.')[2]}`,
    'HS256 signed with the RSA public key': hsWithPublicKey,
    'wrong aud': await sign({ aud: 'someone-else' }),
    'missing aud': await sign({ aud: undefined }),
    'expired exp': await sign({ exp: now() - 3600, iat: now() - 7200 }),
    'no exp': await sign({ exp: undefined }),
    'future nbf': await sign({ nbf: now() + 3600 }),
    'future iat': await sign({ iat: now() + 3600 }),
    'unknown kid': await sign({}, { key: stranger.privateKey, kid: 'nope' }),
    'known kid, wrong key': await sign({}, { key: stranger.privateKey, kid: 'k1' }),
    'wrong issuer': await sign({}, { iss: 'https://evil.example' }),
    'tampered payload': `${h}.${b64({ ...CLAIMS, sub: 'admin', iss: issuer, exp: now() + 300 })}.${valid.split('.')[2]}`,
    'garbage': 'not.a.jwt',
  };
  let accepted = 0;
  for (const [what, jwt] of Object.entries(cases)) {
    const r = await login(jwt);
    if (r.status === 200) accepted++;
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.errors[0], /^error validating token: /, what);
  }
  assert.equal(accepted, 0);
  // The valid one still works: the refusals above were about the tokens, not the setup.
  await ok(login(valid), 200);
});

test('leeways: the defaults forgive a little clock skew; -1 turns them off', async () => {
  const justExpired = await sign({ exp: now() - 100 });
  await ok(login(justExpired), 200);
  await ok(root('POST', 'auth/jwt/role/strict', { role_type: 'jwt', user_claim: 'sub', bound_audiences: 'coffer', expiration_leeway: -1, clock_skew_leeway: -1 }));
  assert.match((await login(justExpired, 'strict')).body.errors[0], /expired/);
  assert.deepEqual((await ok(root('GET', 'auth/jwt/role/strict'), 200)).data.expiration_leeway, -1);
});

test('a key rotated into the JWKS is picked up on the first unknown kid', async () => {
  await ok(root('POST', 'sys/auth/jwt-rot', { type: 'jwt' }));
  await ok(root('POST', 'auth/jwt-rot/config', { jwks_url: `${issuer}/jwks` }));
  await ok(root('POST', 'auth/jwt-rot/role/ci', { role_type: 'jwt', user_claim: 'sub', bound_audiences: 'coffer' }));
  await ok(login(await sign(), 'ci', 'jwt-rot'), 200);
  const extra = await jwk(rotated.publicKey, 'k3', 'RS256');
  jwksBody = () => ({ keys: [...keys, extra] });
  try {
    await ok(login(await sign({}, { key: rotated.privateKey, kid: 'k3' }), 'ci', 'jwt-rot'), 200);
  } finally {
    jwksBody = () => ({ keys });
  }
});

test('jwt_validation_pubkeys and oidc_discovery_url as key sources; an oidc role cannot log in with a JWT', async () => {
  await ok(root('POST', 'sys/auth/jwt-pem', { type: 'jwt' }));
  await ok(root('POST', 'auth/jwt-pem/config', { jwt_validation_pubkeys: [await exportSPKI(ec.publicKey), await exportSPKI(rsa.publicKey)] }));
  await ok(root('POST', 'auth/jwt-pem/role/ci', { role_type: 'jwt', user_claim: 'sub', bound_subject: CLAIMS.sub, bound_audiences: 'coffer' }));
  await ok(login(await sign(), 'ci', 'jwt-pem'), 200);
  assert.equal((await login(await sign({}, { key: stranger.privateKey }), 'ci', 'jwt-pem')).status, 400);
  assert.match((await login(await sign({ sub: 'someone' }), 'ci', 'jwt-pem')).body.errors[0], /bound subject/);
  assert.equal((await root('POST', 'auth/jwt-pem/config', { jwt_validation_pubkeys: 'not a pem' })).status, 400);

  await ok(root('POST', 'sys/auth/jwt-disc', { type: 'jwt' }));
  await ok(root('POST', 'auth/jwt-disc/config', { oidc_discovery_url: issuer, default_role: 'ci' }));
  await ok(root('POST', 'auth/jwt-disc/role/ci', { role_type: 'jwt', user_claim: 'sub', bound_audiences: 'coffer' }));
  await ok(root('POST', 'auth/jwt-disc/role/web', { role_type: 'oidc', user_claim: 'sub', allowed_redirect_uris: 'http://localhost:8250/oidc/callback' }));
  // default_role applies when the login names none.
  await ok(anon('POST', 'auth/jwt-disc/login', { jwt: await sign() }), 200);
  // Discovery keys vouch only for the discovered issuer's tokens.
  assert.equal((await login(await sign({}, { iss: 'https://elsewhere.example' }), 'ci', 'jwt-disc')).status, 400);
  assert.deepEqual((await login(await sign(), 'web', 'jwt-disc')).body.errors, ['role with oidc role_type is not allowed']);
  // Without a client this mount has no browser flow.
  assert.deepEqual((await anon('POST', 'auth/jwt-disc/oidc/auth_url', { role: 'web', redirect_uri: 'http://localhost:8250/oidc/callback' })).body.errors, ['OIDC login is not configured for this mount']);
});

test('groups_claim feeds external groups: a group alias named like a claimed group adds its policies', async () => {
  const accessor = (await ok(root('GET', 'sys/auth/jwt'), 200)).data.accessor as string;
  const group = (await ok(root('POST', 'identity/group', { name: 'ci-devs', type: 'external', policies: 'ci-extra' }), 200)).data.id as string;
  await ok(root('POST', 'identity/group-alias', { name: 'devs', mount_accessor: accessor, canonical_id: group }), 200);
  const auth = (await ok(login(await sign()), 200)).auth;
  assert.deepEqual(auth.identity_policies, ['ci-extra']);
  assert.deepEqual(auth.policies, ['ci', 'ci-extra', 'default']);
  assert.deepEqual(auth.token_policies, ['ci', 'default']);
  // Without the claimed group, the next login drops the membership.
  const without = (await ok(login(await sign({ groups: ['ops'] })), 200)).auth;
  assert.deepEqual(without.identity_policies, []);
});

test('https key sources: a private CA is trusted only when given as jwks_ca_pem', async () => {
  const dir = tmpDir('coffer-jwks-tls');
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const tls = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => res.end(JSON.stringify({ keys })));
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  try {
    const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/jwks`;
    await ok(root('POST', 'sys/auth/jwt-tls', { type: 'jwt' }));
    const untrusted = await root('POST', 'auth/jwt-tls/config', { jwks_url: url });
    assert.equal(untrusted.status, 400);
    await ok(root('POST', 'auth/jwt-tls/config', { jwks_url: url, jwks_ca_pem: readFileSync(cert, 'utf8') }));
    await ok(root('POST', 'auth/jwt-tls/role/ci', { role_type: 'jwt', user_claim: 'sub', bound_audiences: 'coffer' }));
    await ok(login(await sign(), 'ci', 'jwt-tls'), 200);
  } finally {
    tls.closeAllConnections();
    await new Promise<void>((r) => tls.close(() => r()));
  }
});
