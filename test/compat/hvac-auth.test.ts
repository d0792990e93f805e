import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { startDevServer } from '../helpers/server.js';
import { hvacPython, runPython } from './python.js';

const py = hvacPython();

test('hvac drives userpass, AppRole and JWT: users, roles, secret IDs, logins', { skip: 'skip' in py ? py.skip : false }, async () => {
  if (!('python' in py)) return;
  const s = await startDevServer();
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ sub: 'repo:acme/api:ref:main', aud: 'coffer', ref: 'main', repository: 'acme/api', iss: 'https://ci.example', iat: now, exp: now + 600 })
    .setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
  const out = await runPython(py.python, join(import.meta.dirname, 'hvac_auth.py'), {
    VAULT_ADDR: s.addr, VAULT_TOKEN: s.rootToken, JWT_PUBKEY: await exportSPKI(publicKey), JWT_TOKEN: jwt,
  });
  assert.deepEqual(out, {
    up_read_policies: ['hvac-p'], up_read_ttl: 1800, up_list: ['alice', 'bob'],
    up_login_policies: ['default', 'hvac-p'], up_login_ttl: 1800, up_is_authenticated: true,
    up_wrong_password: 'InvalidRequest', up_unknown_user: 'InvalidRequest', up_new_password: true, up_after_delete: ['alice'],
    ar_list_roles: ['ci'], ar_read_role_uses: 3, ar_custom_role_id: 'ci-role-id',
    ar_generated_keys: ['secret_id', 'secret_id_accessor', 'secret_id_num_uses', 'secret_id_ttl'], ar_accessors_listed: true,
    ar_lookup_metadata: { job: 'build' }, ar_accessor_lookup_uses: 3,
    ar_login_metadata: { job: 'build', role_name: 'ci' }, ar_login_ttl: 900, ar_is_authenticated: true,
    ar_custom_secret: true, ar_destroyed_login: 'InvalidRequest', ar_destroyed_by_accessor: 'InvalidRequest', ar_after_delete: 'InvalidPath',
    jwt_config_issuer: 'https://ci.example', jwt_list_roles: ['ci'], jwt_read_role_type: 'jwt',
    jwt_login_metadata: { repo: 'acme/api', role: 'ci' }, jwt_login_ttl: 300, jwt_is_authenticated: true,
    jwt_forged: 'InvalidRequest', jwt_after_delete: 'InvalidPath',
  });
});
