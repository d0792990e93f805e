import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevServer } from '../helpers/server.js';

/**
 * Replays, request by request, what Go clients built on the Vault API package send: the Vault
 * CLI's `kv` commands (OpenBao internal/command/kv_*.go), the Terraform provider's login
 * (terraform-provider-vault internal/provider/meta.go) and External Secrets Operator's KV
 * reads and pushes (pkg/provider/vault/client_get.go, client_push.go). None of these binaries
 * can be installed here, so the test speaks their wire: GET with `?list=true` for LIST, PUT
 * for writes, a JSON body with no Content-Type, `X-Vault-Request: true`, and their reading of
 * a 404 (a body with data or warnings is still a secret; anything else is "no value").
 */
const s = await startDevServer();

interface Secret {
  data: Record<string, unknown> | null;
  warnings: string[] | null;
  auth: Record<string, unknown> | null;
  wrap_info: Record<string, unknown> | null;
  [k: string]: unknown;
}

class ResponseError extends Error {
  constructor(readonly status: number, readonly errors: string[]) { super(`Code: ${status}. Errors: ${errors.join(', ')}`); }
}

/** The Go api.Client's request: what `Logical().Read/List/Write/Delete/JSONMergePatch` put on the wire. */
async function goRequest(token: string, method: string, path: string, opts: { query?: Record<string, string>; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; contentType: string | null }> {
  const q = opts.query ? `?${new URLSearchParams(opts.query).toString()}` : '';
  // path.Join in the Go client drops a trailing slash
  const url = `${s.addr}/v1/${path.replace(/\/+$/, '')}${q}`;
  const res = await fetch(url, {
    method,
    headers: { 'User-Agent': 'Go-http-client/1.1', 'X-Vault-Request': 'true', 'X-Vault-Token': token, 'Accept-Encoding': 'gzip', ...opts.headers },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
}

/** api.ParseSecret plus the 404 rule every Logical() call shares; other 4xx/5xx become a ResponseError. */
async function logical(token: string, method: string, path: string, opts: Parameters<typeof goRequest>[3] = {}): Promise<Secret | null> {
  const r = await goRequest(token, method, path, opts);
  const parsed = r.text === '' ? undefined : JSON.parse(r.text) as Secret & { errors?: string[] };
  if (r.status === 404) {
    if (parsed && ((parsed.warnings?.length ?? 0) > 0 || Object.keys(parsed.data ?? {}).length > 0)) return parsed;
    return null;
  }
  if (r.status >= 400) throw new ResponseError(r.status, parsed?.errors ?? [r.text]);
  return parsed ?? null;
}

const read = (t: string, p: string, query?: Record<string, string>) => logical(t, 'GET', p, query ? { query } : {});
const list = (t: string, p: string) => logical(t, 'GET', p, { query: { list: 'true' } });
const write = (t: string, p: string, body: unknown) => logical(t, 'PUT', p, { body });
const del = (t: string, p: string) => logical(t, 'DELETE', p);
const mergePatch = (t: string, p: string, body: unknown) => logical(t, 'PATCH', p, { body, headers: { 'Content-Type': 'application/merge-patch+json' } });

/** kv_helpers.go kvPreflightVersionRequest: the mount path and KV version from sys/internal/ui/mounts. */
async function preflight(token: string, path: string): Promise<{ mountPath: string; version: 1 | 2 }> {
  const r = await goRequest(token, 'GET', `sys/internal/ui/mounts/${path}`);
  if (r.status === 404) return { mountPath: '', version: 1 };
  const body = JSON.parse(r.text) as Secret & { errors?: string[] };
  if (r.status >= 400) throw new ResponseError(r.status, body.errors ?? []);
  const data = body.data ?? {};
  const mountPath = typeof data['path'] === 'string' ? data['path'] : '';
  const options = data['options'] as Record<string, unknown> | null | undefined;
  const version = options?.['version'];
  if (version !== undefined && version !== null && typeof version !== 'string') throw new Error(`options.version must be a string, got ${JSON.stringify(version)}`);
  return { mountPath, version: version === '2' ? 2 : 1 };
}

/** kv_helpers.go addPrefixToKVPath (without the namespace trimming, which has no use here). */
function addPrefix(path: string, mountPath: string, apiPrefix: string): string {
  const join = (...parts: string[]) => parts.join('/').replace(/\/+/g, '/').replace(/\/$/, '');
  if (path === mountPath || path === mountPath.replace(/\/$/, '')) return join(mountPath, apiPrefix);
  return join(mountPath, apiPrefix, path.startsWith(mountPath) ? path.slice(mountPath.length) : path);
}

/** `vault kv <verb> <mount/path>`: the preflight, then the path the command builds. */
async function kvPath(token: string, arg: string, apiPrefix: 'data' | 'metadata' | 'delete' | 'undelete' | 'destroy'): Promise<{ full: string; v2: boolean }> {
  const partial = arg.replace(/^\/+|\/+$/g, '');
  const { mountPath, version } = await preflight(token, partial);
  return version === 2 ? { full: addPrefix(partial, mountPath, apiPrefix), v2: true } : { full: partial, v2: false };
}

test('Vault CLI kv put/get/list/patch/delete/undelete/destroy/metadata replay', async () => {
  const root = s.rootToken;
  // vault kv put secret/app/config user=alice pass=s3cret
  let p = await kvPath(root, 'secret/app/config', 'data');
  assert.deepEqual(p, { full: 'secret/data/app/config', v2: true });
  let out = await write(root, p.full, { data: { user: 'alice', pass: 's3cret' }, options: {} });
  assert.equal(out?.data?.['version'], 1);
  assert.equal(out?.data?.['deletion_time'], '');
  // vault kv put -cas=1 secret/app/config pass=n3w (and a stale -cas)
  out = await write(root, p.full, { data: { user: 'alice', pass: 'n3w' }, options: { cas: 1 } });
  assert.equal(out?.data?.['version'], 2);
  await assert.rejects(write(root, p.full, { data: { x: '1' }, options: { cas: 1 } }), (e: ResponseError) =>
    e.status === 400 && e.errors[0] === 'check-and-set parameter did not match the current version');
  // vault kv put -mount=secret other k=v: the preflight names the mount only
  const mounted = await preflight(root, 'secret');
  assert.deepEqual(mounted, { mountPath: 'secret/', version: 2 });
  await write(root, addPrefix('secret/other', mounted.mountPath, 'data'), { data: { k: 'v' }, options: {} });

  // vault kv get secret/app/config, and -version=1
  p = await kvPath(root, 'secret/app/config', 'data');
  const got = await read(root, p.full);
  assert.deepEqual((got?.data?.['data']), { user: 'alice', pass: 'n3w' });
  assert.equal((got?.data?.['metadata'] as Record<string, unknown>)['version'], 2);
  const v1 = await read(root, p.full, { version: '1' });
  assert.deepEqual(v1?.data?.['data'], { user: 'alice', pass: 's3cret' });
  // vault kv get secret/missing: "No value found"
  assert.equal(await read(root, (await kvPath(root, 'secret/missing', 'data')).full), null);

  // vault kv list secret/ and secret/app
  assert.deepEqual((await list(root, (await kvPath(root, 'secret/', 'metadata')).full))?.data?.['keys'], ['app/', 'other']);
  assert.deepEqual((await list(root, (await kvPath(root, 'secret/app', 'metadata')).full))?.data?.['keys'], ['config']);
  assert.equal(await list(root, (await kvPath(root, 'secret/empty', 'metadata')).full), null);

  // vault kv patch secret/app/config port=5432 (HTTP PATCH first)
  out = await mergePatch(root, 'secret/data/app/config', { data: { port: '5432' }, options: {} });
  assert.equal(out?.data?.['version'], 3);
  assert.deepEqual((await read(root, 'secret/data/app/config'))?.data?.['data'], { user: 'alice', pass: 'n3w', port: '5432' });
  // vault kv patch -remove-data=port
  await mergePatch(root, 'secret/data/app/config', { data: { port: null }, options: {} });

  // vault kv delete; a deleted version reads as 404 with its metadata, which the CLI still shows
  assert.equal(await del(root, (await kvPath(root, 'secret/app/config', 'data')).full), null);
  const deleted = await read(root, 'secret/data/app/config');
  assert.ok(deleted, 'a deleted version is still a secret to the Go client (404 with data)');
  assert.equal(deleted.data?.['data'], null);
  const dmeta = deleted.data?.['metadata'] as Record<string, unknown>;
  assert.equal(dmeta['version'], 4);
  assert.notEqual(dmeta['deletion_time'], '');
  // vault kv undelete -versions=4 (the CLI sends the versions as strings)
  p = await kvPath(root, 'secret/app/config', 'undelete');
  assert.equal(p.full, 'secret/undelete/app/config');
  assert.equal(await write(root, p.full, { versions: ['4'] }), null);
  assert.deepEqual((await read(root, 'secret/data/app/config'))?.data?.['data'], { user: 'alice', pass: 'n3w' });
  // vault kv destroy -versions=1,2
  assert.equal(await write(root, (await kvPath(root, 'secret/app/config', 'destroy')).full, { versions: ['1', '2'] }), null);

  // vault kv metadata put -max-versions=5 -custom-metadata=owner=ops; vault kv metadata get
  p = await kvPath(root, 'secret/app/config', 'metadata');
  assert.equal(await write(root, p.full, { max_versions: 5, custom_metadata: { owner: 'ops' } }), null);
  const meta = await read(root, p.full);
  const versions = meta?.data?.['versions'] as Record<string, { destroyed: boolean }>;
  assert.deepEqual(Object.keys(versions).sort(), ['1', '2', '3', '4']);
  assert.equal(versions['1']?.destroyed, true);
  assert.equal(meta?.data?.['max_versions'], 5);
  assert.deepEqual(meta?.data?.['custom_metadata'], { owner: 'ops' });
  // vault kv metadata delete
  assert.equal(await del(root, p.full), null);
  assert.equal(await read(root, p.full), null);

  // a KV v1 mount: no /data/ prefix, and patch is refused by the CLI itself
  await write(root, 'sys/mounts/kv1', { type: 'kv', options: { version: '1' } });
  p = await kvPath(root, 'kv1/team/a', 'data');
  assert.deepEqual(p, { full: 'kv1/team/a', v2: false });
  assert.equal(await write(root, p.full, { k: 'v' }), null);
  assert.deepEqual((await read(root, p.full))?.data, { k: 'v' });
  assert.deepEqual((await list(root, 'kv1/team'))?.data?.['keys'], ['a']);
  // a mount made without options reads as version 1 too
  await write(root, 'sys/mounts/plainkv', { type: 'kv' });
  assert.deepEqual(await preflight(root, 'plainkv/x'), { mountPath: 'plainkv/', version: 1 });
});

test('Vault CLI kv preflight and patch fallback for a limited token', async () => {
  const root = s.rootToken;
  await write(root, 'sys/policies/acl/team', {
    policy: 'path "secret/data/team/*" { capabilities = ["create", "read", "update"] }\npath "secret/metadata/team/*" { capabilities = ["list", "read"] }',
  });
  const token = (await write(root, 'auth/token/create', { policies: ['team'], ttl: '1h' }))?.auth?.['client_token'] as string;
  await write(root, 'secret/data/team/db', { data: { a: '1' }, options: {} });

  // Any capability under the mount lets the preflight through
  assert.deepEqual(await preflight(token, 'secret/team/db'), { mountPath: 'secret/', version: 2 });
  // A mount the token cannot touch, and one that does not exist, look the same
  await write(root, 'sys/mounts/other-team', { type: 'kv', options: { version: '2' } });
  const refusals = await Promise.all(['other-team/a', 'nothing/here'].map(async (path) => {
    try { await preflight(token, path); return 'allowed'; } catch (e) { return e instanceof ResponseError ? e.status : String(e); }
  }));
  assert.deepEqual(refusals, [403, 403]);

  // vault kv patch without the patch capability: PATCH is 403, then the CLI reads and writes with cas
  await assert.rejects(mergePatch(token, 'secret/data/team/db', { data: { b: '2' }, options: {} }), (e: ResponseError) => e.status === 403);
  const current = await read(token, 'secret/data/team/db');
  const data = { ...(current?.data?.['data'] as Record<string, unknown>), b: '2' };
  const version = (current?.data?.['metadata'] as Record<string, unknown>)['version'];
  const written = await write(token, 'secret/data/team/db', { data, options: { cas: version } });
  assert.equal(written?.data?.['version'], 2);
  assert.deepEqual((await read(token, 'secret/data/team/db'))?.data?.['data'], { a: '1', b: '2' });
});

test('Vault CLI secrets enable/tune/move/disable and policy write, with the Go structs\' zero values', async () => {
  const root = s.rootToken;
  // vault secrets enable -path=cli-kv -version=2 -description=team kv: api.MountInput, every field sent
  const config = { options: null, default_lease_ttl: '0s', max_lease_ttl: '0s', force_no_cache: false };
  assert.equal(await write(root, 'sys/mounts/cli-kv', {
    type: 'kv', description: 'team', config, local: false, seal_wrap: false, external_entropy_access: false, options: { version: '2' },
  }), null);
  assert.deepEqual(await preflight(root, 'cli-kv/x'), { mountPath: 'cli-kv/', version: 2 });
  // vault secrets enable transit: options null
  assert.equal(await write(root, 'sys/mounts/cli-transit', {
    type: 'transit', description: '', config, local: false, seal_wrap: false, external_entropy_access: false, options: null,
  }), null);
  // vault secrets tune -default-lease-ttl=1h cli-kv: api.MountConfigInput, unset TTLs as ""
  assert.equal(await write(root, 'sys/mounts/cli-kv/tune', { options: null, default_lease_ttl: '1h', max_lease_ttl: '', force_no_cache: false }), null);
  const tune = await read(root, 'sys/mounts/cli-kv/tune');
  assert.equal(tune?.data?.['default_lease_ttl'], 3600);
  assert.equal(tune?.data?.['description'], 'team');
  // vault secrets list: sys/mounts, read as map[string]*MountOutput
  const mounts = await read(root, 'sys/mounts');
  const mount = mounts?.data?.['cli-kv/'] as Record<string, unknown>;
  assert.deepEqual([mount['type'], mount['description'], mount['options']], ['kv', 'team', { version: '2' }]);
  assert.equal((mount['config'] as Record<string, unknown>)['default_lease_ttl'], 3600);
  // vault secrets move: sys/remount, then sys/remount/status/:id
  const moved = await write(root, 'sys/remount', { from: 'cli-transit', to: 'cli-transit2' });
  const status = await read(root, `sys/remount/status/${String(moved?.data?.['migration_id'])}`);
  assert.equal((status?.data?.['migration_info'] as Record<string, unknown>)['status'], 'success');
  // vault secrets disable
  assert.equal(await del(root, 'sys/mounts/cli-transit2'), null);

  // vault policy write / read / list / delete: sys/policies/acl
  const hcl = 'path "cli-kv/data/*" {\n  capabilities = ["read"]\n}\n';
  assert.equal(await write(root, 'sys/policies/acl/cli-reader', { policy: hcl }), null);
  assert.deepEqual((await read(root, 'sys/policies/acl/cli-reader'))?.data, { name: 'cli-reader', policy: hcl });
  assert.ok(((await list(root, 'sys/policies/acl'))?.data?.['keys'] as string[]).includes('cli-reader'));
  assert.equal(await del(root, 'sys/policies/acl/cli-reader'), null);
  assert.equal(await read(root, 'sys/policies/acl/cli-reader'), null);
});

test('Terraform provider login: lookup-self, seal-status version, limited child token', async () => {
  const root = s.rootToken;
  await write(root, 'sys/policies/acl/tf', { policy: 'path "auth/token/create" { capabilities = ["update"] }\npath "secret/data/tf/*" { capabilities = ["read"] }' });
  const given = (await write(root, 'auth/token/create', { policies: ['tf'], ttl: '2h' }))?.auth?.['client_token'] as string;

  const self = await read(given, 'auth/token/lookup-self');
  assert.deepEqual(self?.data?.['policies'], ['default', 'tf']);
  assert.equal(typeof self?.data?.['ttl'], 'number');
  // getVaultVersion: sys/seal-status `version` must parse as semver
  const status = JSON.parse((await goRequest(given, 'GET', 'sys/seal-status')).text) as { version: string };
  assert.match(status.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/);

  // api.TokenCreateRequest as the provider fills it: type and entity_alias are always sent, empty
  const child = await write(given, 'auth/token/create', {
    ttl: '1200s', explicit_max_ttl: '1200s', display_name: 'terraform', num_uses: 0, renewable: false, type: '', entity_alias: '',
  });
  const auth = child?.auth ?? {};
  assert.deepEqual(auth['policies'], ['default', 'tf']);
  assert.equal(auth['lease_duration'], 1200);
  assert.equal(auth['renewable'], false);
  const childSelf = await read(auth['client_token'] as string, 'auth/token/lookup-self');
  assert.equal(childSelf?.data?.['display_name'], 'token-terraform');
  assert.equal(childSelf?.data?.['explicit_max_ttl'], 1200);
  assert.equal(childSelf?.data?.['renewable'], false);
  assert.equal(childSelf?.data?.['orphan'], false);

  // Older providers: ttl "20m", display_name "terraform", no other field
  const older = await write(given, 'auth/token/create', { ttl: '20m', display_name: 'terraform' });
  assert.equal(older?.auth?.['lease_duration'], 1200);
  assert.equal(older?.auth?.['renewable'], true);
});

test('External Secrets Operator: token check, KV v2 reads by version, push and delete', async () => {
  const root = s.rootToken;
  await write(root, 'sys/policies/acl/eso', { policy: 'path "secret/data/eso/*" { capabilities = ["create", "read", "update", "delete"] }\npath "secret/metadata/eso/*" { capabilities = ["create", "read", "update", "delete", "list"] }' });
  const token = (await write(root, 'auth/token/create', { policies: ['eso'], ttl: '1h' }))?.auth?.['client_token'] as string;

  // auth.go checkToken: lookup-self must carry `type` and a numeric `ttl`
  const self = await read(token, 'auth/token/lookup-self');
  assert.equal(self?.data?.['type'], 'service');
  assert.ok((self?.data?.['ttl'] as number) > 60);

  await write(root, 'secret/data/eso/db', { data: { password: 'one', nested: { a: 1 } } });
  await write(root, 'secret/data/eso/db', { data: { password: 'two', nested: { a: 2 } } });
  // client_get.go readSecret: GET data path, `?version=` when the ExternalSecret pins one
  const latest = await read(token, 'secret/data/eso/db');
  assert.deepEqual(latest?.data?.['data'], { password: 'two', nested: { a: 2 } });
  const pinned = await read(token, 'secret/data/eso/db', { version: '1' });
  assert.deepEqual(pinned?.data?.['data'], { password: 'one', nested: { a: 1 } });
  // a missing secret is nil; a deleted one is a secret whose data is null (NoSecretError either way)
  assert.equal(await read(token, 'secret/data/eso/none'), null);
  await del(root, 'secret/data/eso/db');
  const deleted = await read(token, 'secret/data/eso/db');
  assert.ok(deleted && 'data' in (deleted.data ?? {}) && deleted.data?.['data'] === null);

  // client_push.go PushSecret to a new key: metadata first (custom_metadata managed-by), then data
  assert.equal(await write(token, 'secret/metadata/eso/pushed', { custom_metadata: { 'managed-by': 'external-secrets' } }), null);
  const pushed = await write(token, 'secret/data/eso/pushed', { data: { key: 'value' } });
  assert.equal(pushed?.data?.['version'], 1);
  // readSecretMetadata: custom_metadata as a string map
  const meta = await read(token, 'secret/metadata/eso/pushed');
  assert.deepEqual(meta?.data?.['custom_metadata'], { 'managed-by': 'external-secrets' });
  assert.equal(meta?.data?.['current_version'], 1);
  // with checkAndSet.required: cas from current_version
  const casPush = await write(token, 'secret/data/eso/pushed', { data: { key: 'v2' }, options: { cas: meta?.data?.['current_version'] } });
  assert.equal(casPush?.data?.['version'], 2);
  // getAllSecrets: LIST the metadata folder
  assert.deepEqual((await list(token, 'secret/metadata/eso'))?.data?.['keys'], ['db', 'pushed']);
  // DeleteSecret: DELETE data, then DELETE metadata
  assert.equal(await del(token, 'secret/data/eso/pushed'), null);
  assert.equal(await del(token, 'secret/metadata/eso/pushed'), null);
  assert.equal(await read(token, 'secret/metadata/eso/pushed'), null);
});

test('Go client wire details: Content-Type, empty bodies, trailing slashes, header casing', async () => {
  const root = s.rootToken;
  // Every JSON answer says exactly application/json (hvac and the Go client compare the string)
  const r = await goRequest(root, 'GET', 'secret/data/nothing');
  assert.deepEqual([r.status, r.contentType, r.text], [404, 'application/json', '{"errors":[]}']);
  const ok = await goRequest(root, 'GET', 'sys/mounts');
  assert.equal(ok.contentType, 'application/json');
  // A write with no body at all (Logical().Write(path, nil)) reaches the handler as empty data
  const noBody = await goRequest(root, 'PUT', 'auth/token/renew-self');
  // root is not renewable: the handler's error, not a body-parsing one
  assert.deepEqual([noBody.status, JSON.parse(noBody.text)], [400, { errors: ['lease is not renewable'] }]);
  // Header names in any case
  const lower = await fetch(`${s.addr}/v1/auth/token/lookup-self`, { headers: { 'x-vault-token': root } });
  assert.equal(lower.status, 200);
  const upper = await fetch(`${s.addr}/v1/auth/token/lookup-self`, { headers: { 'X-VAULT-TOKEN': root } });
  assert.equal(upper.status, 200);
  // A trailing slash on a read of a secret is not a list
  await write(root, 'secret/data/slash', { data: { a: 1 } });
  const slash = await goRequest(root, 'GET', 'secret/metadata/', { query: { list: 'true' } });
  assert.equal(slash.status, 200);
});

test('curl-style bodies: form fields, JSON under a form Content-Type, a null body, DELETE ignores its body', async () => {
  const root = s.rootToken;
  await write(root, 'sys/mounts/curl-kv', { type: 'kv', options: { version: '1' } });
  const post = (path: string, body: string, contentType?: string) => fetch(`${s.addr}/v1/${path}`, {
    method: 'POST', body, headers: { 'X-Vault-Token': root, ...(contentType ? { 'Content-Type': contentType } : {}) },
  });
  // curl -d 'user=alice&role=a&role=b': form fields, repeated keys joined with ","
  assert.equal((await post('curl-kv/form', 'user=alice&role=a&role=b&note=two+words', 'application/x-www-form-urlencoded')).status, 204);
  assert.deepEqual((await read(root, 'curl-kv/form'))?.data, { user: 'alice', role: 'a,b', note: 'two words' });
  // curl -d '{"a":1}' sends JSON with a form Content-Type: still JSON
  assert.equal((await post('curl-kv/json', ' {"a":1}', 'application/x-www-form-urlencoded')).status, 204);
  assert.deepEqual((await read(root, 'curl-kv/json'))?.data, { a: 1 });
  // JSON with no or another Content-Type is JSON
  assert.equal((await post('curl-kv/plain', '{"b":true}', 'text/plain')).status, 204);
  assert.deepEqual((await read(root, 'curl-kv/plain'))?.data, { b: true });
  // `null` is "no data" (as Go decodes it), so the handler decides
  const nullBody = await post('curl-kv/null', 'null');
  assert.deepEqual([nullBody.status, await nullBody.json()], [400, { errors: ['missing data fields'] }]);
  assert.equal((await post('secret/config', 'null')).status, 204);
  // DELETE reads its data from the query, as Vault; a body is ignored, even a malformed one
  const delRes = await fetch(`${s.addr}/v1/curl-kv/form`, { method: 'DELETE', body: '{not json', headers: { 'X-Vault-Token': root } });
  assert.equal(delRes.status, 204);
  assert.equal(await read(root, 'curl-kv/form'), null);
});
