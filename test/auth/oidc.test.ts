import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { oidcLogin } from '../../src/cli/commands/login-oidc.js';
import { CofferClient } from '../../src/sdk/index.js';
import { callers, ok, startDevServer, type CallResult } from '../helpers/server.js';

const s = await startDevServer();
type Res = CallResult;
const { root, anon } = callers(s);

// A real OpenID provider on loopback: its dev interactions log anyone in by name (no password).
const ACCOUNTS: Record<string, { email: string; groups: string[] }> = {
  alice: { email: 'alice@example.com', groups: ['admins', 'staff'] },
  bob: { email: 'bob@example.com', groups: ['staff'] },
};
const REDIRECT = 'http://localhost:8250/oidc/callback';
const httpServer = createServer();
await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
const issuer = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
const provider = new Provider(issuer, {
  clients: [{ client_id: 'coffer', client_secret: 'coffer-client-secret', redirect_uris: [REDIRECT], response_types: ['code'], grant_types: ['authorization_code'], application_type: 'native' }],
  claims: { openid: ['sub'], email: ['email'], groups: ['groups'] },
  scopes: ['openid', 'email', 'groups'],
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
});
httpServer.on('request', provider.callback());
after(() => new Promise<void>((r) => httpServer.close(() => r())));

/** Plays the browser: follows the provider's redirects, signs in as `user`, consents; returns the redirect to the client. */
async function browse(authUrl: string, user: string): Promise<URL> {
  const jar = new Map<string, string>();
  const remember = (res: Response): void => {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const gone = attrs.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (gone) jar.delete(name); else jar.set(name, pair.slice(eq + 1));
    }
  };
  const request = async (url: URL, form?: Record<string, string>): Promise<Response> => {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET', redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    remember(res);
    return res;
  };
  let url = new URL(authUrl);
  for (let step = 0; step < 12; step++) {
    let res = await request(url);
    if (url.pathname.startsWith('/interaction/') && res.status === 200) {
      const prompt = /name="prompt" value="(\w+)"/.exec(await res.text())?.[1];
      assert.ok(prompt === 'login' || prompt === 'consent', `unexpected interaction page (${prompt})`);
      res = await request(url, prompt === 'login' ? { prompt, login: user, password: 'any' } : { prompt });
    }
    const location = res.headers.get('location');
    assert.ok(location, `the provider stopped at ${url.pathname} with ${res.status}`);
    url = new URL(location, url);
    if (url.hostname === 'localhost' && url.pathname === '/oidc/callback') return url;
  }
  throw new Error('too many redirects');
}

await ok(root('POST', 'sys/auth/oidc', { type: 'oidc' }));
await ok(root('POST', 'auth/oidc/config', { oidc_discovery_url: issuer, oidc_client_id: 'coffer', oidc_client_secret: 'coffer-client-secret', default_role: 'web' }));
await ok(root('POST', 'auth/oidc/role/web', {
  role_type: 'oidc', user_claim: 'email', groups_claim: 'groups', oidc_scopes: 'email,groups', allowed_redirect_uris: REDIRECT,
  bound_claims: { groups: 'admins' }, claim_mappings: { email: 'email' }, token_policies: 'web', token_ttl: '1h',
}));
const authUrl = async (body: Record<string, unknown>): Promise<string> => (await ok(anon('POST', 'auth/oidc/oidc/auth_url', body), 200)).data.auth_url;
const callback = (q: Record<string, string>): Promise<Res> => anon('GET', `auth/oidc/oidc/callback?${new URLSearchParams(q)}`);

test('the authorization-code flow with PKCE against a real provider ends in a Coffer token', async () => {
  const url = new URL(await authUrl({ redirect_uri: REDIRECT, client_nonce: 'cn-1' }));
  assert.equal(url.origin, issuer);
  assert.deepEqual([url.searchParams.get('response_type'), url.searchParams.get('code_challenge_method'), url.searchParams.get('client_id')], ['code', 'S256', 'coffer']);
  assert.equal(url.searchParams.get('scope'), 'openid email groups');
  assert.ok((url.searchParams.get('nonce') ?? '').length > 20);

  const back = await browse(url.href, 'alice');
  assert.equal(back.searchParams.get('state'), url.searchParams.get('state'));
  const r = await callback({ state: back.searchParams.get('state') ?? '', code: back.searchParams.get('code') ?? '', client_nonce: 'cn-1' });
  const auth = (await ok(r, 200)).auth;
  assert.deepEqual(auth.metadata, { email: 'alice@example.com', role: 'web' });
  assert.deepEqual(auth.policies, ['default', 'web']);
  assert.equal(auth.lease_duration, 3600);
  const self = await ok(s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': auth.client_token }), 200);
  assert.equal(self.data.display_name, 'oidc-alice@example.com');

  // The state is single-use: replaying the callback fails.
  const replay = await callback({ state: back.searchParams.get('state') ?? '', code: back.searchParams.get('code') ?? '', client_nonce: 'cn-1' });
  assert.deepEqual([replay.status, replay.body.errors], [400, ['Vault login failed. Expired or missing OAuth state.']]);
});

test('bound claims apply to the ID token: a user outside the bound group is refused', async () => {
  const url = await authUrl({ role: 'web', redirect_uri: REDIRECT });
  const back = await browse(url, 'bob');
  const r = await callback({ state: back.searchParams.get('state') ?? '', code: back.searchParams.get('code') ?? '' });
  assert.equal(r.status, 400);
  assert.match(r.body.errors[0], /claim "groups" does not match/);
});

test('a code is bound to its flow\'s PKCE verifier: a code from another flow is refused by the provider', async () => {
  const first = await authUrl({ redirect_uri: REDIRECT });
  const second = new URL(await authUrl({ redirect_uri: REDIRECT }));
  const back = await browse(first, 'alice');
  const r = await callback({ state: second.searchParams.get('state') ?? '', code: back.searchParams.get('code') ?? '' });
  assert.equal(r.status, 400);
  assert.match(r.body.errors[0], /Error exchanging oidc code/);
});

test('client_nonce, redirect URIs and provider errors', async () => {
  const url = new URL(await authUrl({ redirect_uri: REDIRECT, client_nonce: 'right' }));
  const wrong = await callback({ state: url.searchParams.get('state') ?? '', code: 'x', client_nonce: 'wrong' });
  assert.deepEqual(wrong.body.errors, ['invalid client_nonce']);
  // Not an allowed redirect: an empty auth_url, as Vault. A loopback one matches on any port (RFC 8252).
  assert.equal(await authUrl({ redirect_uri: 'https://attacker.example/cb' }), '');
  assert.notEqual(await authUrl({ redirect_uri: 'http://localhost:9999/oidc/callback' }), '');
  const denied = new URL(await authUrl({ redirect_uri: REDIRECT }));
  const r = await callback({ state: denied.searchParams.get('state') ?? '', error: 'access_denied' });
  assert.deepEqual(r.body.errors, ['Vault login failed. access_denied']);
  assert.equal((await callback({ state: 'st_made_up', code: 'c' })).status, 400);
});

test('coffer login --method oidc: the loopback listener receives the provider\'s redirect and gets the token', async () => {
  const client = new CofferClient({ address: s.addr });
  let browserSaw = '';
  const secret = await oidcLogin(client, {
    mount: 'oidc', role: 'web', listenAddress: '127.0.0.1', port: 0, timeoutMs: 20_000,
    // The "browser": signs in at the provider, then follows its redirect to the CLI's listener.
    openBrowser: (url) => {
      void browse(url, 'alice').then(async (back) => {
        const page = await fetch(back);
        browserSaw = `${page.status} ${await page.text()}`;
      });
    },
  });
  assert.deepEqual(secret.auth?.metadata, { email: 'alice@example.com', role: 'web' });
  assert.match(secret.auth?.client_token ?? '', /^cfs\./);
  for (let i = 0; i < 50 && browserSaw === ''; i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(browserSaw, /^200 .*Signed in/);
});

test('coffer login --method oidc: a redirect URI the role does not allow is reported, not opened', async () => {
  const client = new CofferClient({ address: s.addr });
  let opened = false;
  await assert.rejects(
    oidcLogin(client, { mount: 'oidc', role: 'web', listenAddress: '127.0.0.1', port: 0, callbackHost: 'evil.example', openBrowser: () => { opened = true; } }),
    /Unable to authorize role "web"/,
  );
  assert.equal(opened, false);
});
