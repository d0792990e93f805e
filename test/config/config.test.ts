import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfigFile, parseConfig, parseDuration, type ServerConfig } from '../../src/config/index.js';

let dir = '';
let cert = '';
let key = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'coffer-config-'));
  cert = join(dir, 'cert.pem');
  key = join(dir, 'key.pem');
  writeFileSync(cert, '-----BEGIN CERTIFICATE-----\n');
  writeFileSync(key, '-----BEGIN PRIVATE KEY-----\n');
  mkdirSync(join(dir, 'a-directory'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Write a file into the temp dir and return its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Assert that `fn` rejects with a ConfigError whose message contains every string given. */
async function rejectsWith(fn: () => Promise<unknown>, ...parts: Array<string | RegExp>): Promise<ConfigError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  for (const part of parts) {
    if (typeof part === 'string') assert.ok(caught.message.includes(part), `${JSON.stringify(caught.message)} should contain ${JSON.stringify(part)}`);
    else assert.match(caught.message, part);
  }
  return caught;
}

const hcl = (text: string): Promise<ServerConfig> => parseConfig(text, 'hcl', 'coffer.hcl');
const json = (value: unknown): Promise<ServerConfig> => parseConfig(JSON.stringify(value, null, 2), 'json', 'coffer.json');

/** A valid HCL config of 6 lines: tests append to it, so their first line is line 7. */
const MINIMAL_HCL = `storage "inmem" {}
listener "tcp" {
  address     = "127.0.0.1:8200"
  tls_disable = true
}
disable_mlock = true
`;

// ---------------------------------------------------------------------------------------------
// HCL and JSON forms

test('HCL: the full example from the design', async () => {
  const path = file(
    'full.hcl',
    `storage "sqlite"   { path = "./data/coffer.db" }
listener "tcp"     {
  address = "127.0.0.1:8200"
  tls_cert_file = "${cert}"
  tls_key_file  = "${key}"
  # tls_disable = true   (plain HTTP; Vault accepts true/"true"/1)
  tls_min_version = "tls13"
}
api_addr = "https://127.0.0.1:8200"
cluster_name = "coffer"
ui = true
default_lease_ttl = "768h"   # Vault durations
max_lease_ttl = "768h"
log_level = "info"           # trace|debug|info|warn|error
disable_mlock = true         # accepted and ignored
`,
  );
  const config = await loadConfigFile(path);
  assert.deepEqual(config, {
    storage: { type: 'sqlite', path: resolve('./data/coffer.db'), synchronous: 'full' },
    listeners: [{ type: 'tcp', host: '127.0.0.1', port: 8200, tls: { certFile: cert, keyFile: key, minVersion: 'TLSv1.3' } }],
    apiAddr: 'https://127.0.0.1:8200',
    clusterName: 'coffer',
    ui: true,
    defaultLeaseTtlSeconds: 2764800,
    maxLeaseTtlSeconds: 2764800,
    logLevel: 'info',
  } satisfies ServerConfig);
});

test('HCL: Vault 1-style one-line blocks with several arguments, commas, bare labels', async () => {
  const config = await hcl(
    `storage sqlite { path = "/var/lib/coffer/coffer.db" }
listener "tcp" { address = "0.0.0.0:8200"  tls_cert_file = "${cert}"  tls_key_file = "${key}" }
listener "tcp" { address = "127.0.0.1:8201", tls_disable = 1 }
`,
  );
  assert.deepEqual(config.storage, { type: 'sqlite', path: '/var/lib/coffer/coffer.db', synchronous: 'full' });
  assert.deepEqual(config.listeners, [
    { type: 'tcp', host: '0.0.0.0', port: 8200, tls: { certFile: cert, keyFile: key, minVersion: 'TLSv1.2' } },
    { type: 'tcp', host: '127.0.0.1', port: 8201, tls: null },
  ]);
});

test('HCL: comments, heredocs, escapes and literal ${...}', async () => {
  const config = await hcl(
    `// a comment
/* a block
   comment */
storage "postgresql" {
  connection_url = "postgres://coffer:p%24ss@db:5432/coffer?sslmode=verify-full" # trailing
  table = "coffer.kv_store"
}
listener "tcp" {
  tls_disable = "true"
}
cluster_name = <<EOT
prod
EOT
api_addr = "http://\\u0063offer:8200"
log_level = "WARNING"
`,
  );
  assert.deepEqual(config.storage, {
    type: 'postgresql',
    connectionUrl: 'postgres://coffer:p%24ss@db:5432/coffer?sslmode=verify-full',
    table: 'coffer.kv_store',
    haEnabled: false,
    maxParallel: 128,
  });
  assert.equal(config.clusterName, 'prod\n');
  assert.equal(config.apiAddr, 'http://coffer:8200');
  assert.equal(config.logLevel, 'warn');

  const more = await hcl(
    `"storage" "inmem" {}
listener "tcp" { tls_disable = true }
cluster_name = "c-\${var.x}"
`,
  );
  assert.equal(more.clusterName, 'c-${var.x}'); // Vault does not interpolate either

  const indented = await hcl(`storage "inmem" {}\nlistener "tcp" { tls_disable = true }\ncluster_name = <<-EOT\n    prod\n      east\n    EOT\n`);
  assert.equal(indented.clusterName, 'prod\n  east\n');
});

test('HCL: defaults', async () => {
  const config = await hcl('storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n}\n');
  assert.deepEqual(config, {
    storage: { type: 'inmem' },
    listeners: [{ type: 'tcp', host: '127.0.0.1', port: 8200, tls: null }],
    apiAddr: null,
    clusterName: 'coffer',
    ui: false,
    defaultLeaseTtlSeconds: 2764800,
    maxLeaseTtlSeconds: 2764800,
    logLevel: 'info',
  } satisfies ServerConfig);
});

test('JSON: the same config as HCL gives the same result', async () => {
  const fromHcl = await hcl(
    `storage "sqlite" { path = "data/coffer.db" }
listener "tcp" {
  address = "127.0.0.1:8200"
  tls_cert_file = "${cert}"
  tls_key_file = "${key}"
}
api_addr = "https://127.0.0.1:8200"
ui = true
default_lease_ttl = "1h"
max_lease_ttl = 86400
log_level = "debug"
`,
  );
  const fromJson = await json({
    storage: { sqlite: { path: 'data/coffer.db' } },
    listener: { tcp: { address: '127.0.0.1:8200', tls_cert_file: cert, tls_key_file: key } },
    api_addr: 'https://127.0.0.1:8200',
    ui: true,
    default_lease_ttl: '1h',
    max_lease_ttl: 86400,
    log_level: 'debug',
  });
  assert.deepEqual(fromJson, fromHcl);
  assert.equal(fromJson.defaultLeaseTtlSeconds, 3600);
  assert.equal(fromJson.maxLeaseTtlSeconds, 86400);
});

test('multiple listeners: HCL repeated blocks, JSON array of blocks, JSON array of bodies', async () => {
  const expected = [
    { type: 'tcp', host: '127.0.0.1', port: 8200, tls: { certFile: cert, keyFile: key, minVersion: 'TLSv1.2' } },
    { type: 'tcp', host: '::1', port: 8201, tls: null },
    { type: 'tcp', host: '0.0.0.0', port: 8202, tls: null },
  ];
  const fromHcl = await hcl(
    `storage "inmem" {}
listener "tcp" {
  tls_cert_file = "${cert}"
  tls_key_file = "${key}"
}
listener "tcp" {
  address = "[::1]:8201"
  tls_disable = true
}
listener "tcp" {
  address = ":8202"
  tls_disable = "1"
}
`,
  );
  assert.deepEqual(fromHcl.listeners, expected);
  const bodies = [
    { tls_cert_file: cert, tls_key_file: key },
    { address: '[::1]:8201', tls_disable: true },
    { address: ':8202', tls_disable: '1' },
  ];
  const arrayOfBlocks = await json({ storage: { inmem: {} }, listener: bodies.map((b) => ({ tcp: b })) });
  assert.deepEqual(arrayOfBlocks.listeners, expected);
  const arrayOfBodies = await json({ storage: { inmem: {} }, listener: { tcp: bodies } });
  assert.deepEqual(arrayOfBodies.listeners, expected);
});

test('postgresql storage: Vault-style string values', async () => {
  const config = await json({
    storage: {
      postgresql: { connection_url: 'postgresql://u:p@localhost/coffer', ha_enabled: 'true', max_parallel: '16', table: 'kv' },
    },
    listener: { tcp: { tls_disable: true } },
  });
  assert.deepEqual(config.storage, {
    type: 'postgresql',
    connectionUrl: 'postgresql://u:p@localhost/coffer',
    table: 'kv',
    haEnabled: true,
    maxParallel: 16,
  });
});

test('stringly booleans as Vault accepts them', async () => {
  for (const [value, disabled] of [
    ['true', true],
    ['"true"', true],
    ['1', true],
    ['"1"', true],
    ['"T"', true],
    ['false', false],
    ['"false"', false],
    ['0', false],
  ] as const) {
    const config = await hcl(
      `storage "inmem" {}\nlistener "tcp" {\n  tls_disable = ${value}\n  tls_cert_file = "${cert}"\n  tls_key_file = "${key}"\n}\n`,
    );
    assert.equal(config.listeners[0]?.tls === null, disabled, `tls_disable = ${value}`);
  }
});

test('relative paths are resolved against the working directory, not the config file', async () => {
  const sub = join(dir, 'etc');
  mkdirSync(sub, { recursive: true });
  const path = join(sub, 'coffer.hcl');
  writeFileSync(path, 'storage "sqlite" { path = "data/coffer.db" }\nlistener "tcp" { tls_disable = true }\n');
  const config = await loadConfigFile(path);
  assert.deepEqual(config.storage, { type: 'sqlite', path: join(process.cwd(), 'data/coffer.db'), synchronous: 'full' });
});

test('loadConfigFile: format by extension, else sniffed; a BOM is ignored', async () => {
  const jsonText = JSON.stringify({ storage: { inmem: {} }, listener: { tcp: { tls_disable: true } }, ui: true });
  const hclText = 'storage "inmem" {}\nlistener "tcp" { tls_disable = true }\nui = true\n';
  for (const path of [
    file('c.json', jsonText),
    file('c.hcl', hclText),
    file('sniffed-json.conf', `\uFEFF  ${jsonText}`),
    file('sniffed-hcl', `\uFEFF${hclText}`),
  ]) {
    const config = await loadConfigFile(path);
    assert.equal(config.ui, true, path);
  }
  // A .json file is read as JSON even if it looks like HCL.
  await rejectsWith(() => loadConfigFile(file('wrong.json', hclText)), 'wrong.json:1: JSON syntax error');
});

// ---------------------------------------------------------------------------------------------
// Errors: each names the file, the key and (when known) the line

test('missing file: the error names the path', async () => {
  const path = join(dir, 'nope.hcl');
  const e = await rejectsWith(() => loadConfigFile(path), path, 'not found');
  assert.equal(e.file, path);
  await rejectsWith(() => loadConfigFile(join(dir, 'a-directory')), 'a-directory', 'is a directory');
});

test('unknown top-level key (HCL) names the key and the line', async () => {
  const e = await rejectsWith(() => hcl(`${MINIMAL_HCL}\nbogus_setting = 1\n`), 'coffer.hcl:8: bogus_setting: unknown key');
  assert.equal(e.key, 'bogus_setting');
  assert.equal(e.line, 8);
  assert.equal(e.file, 'coffer.hcl');
});

test('unknown key inside a block (HCL) names block, key and line', async () => {
  await rejectsWith(
    () => hcl('storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  adress = "127.0.0.1:8200"\n}\n'),
    'coffer.hcl:4: listener "tcp".adress: unknown key',
  );
  await rejectsWith(() => hcl('storage "sqlite" {\n  path = "x"\n  journal = "wal"\n}\n'), 'coffer.hcl:3: storage "sqlite".journal: unknown key');
  await rejectsWith(() => hcl('storage "inmem" {\n  path = "x"\n}\n'), 'coffer.hcl:2: storage "inmem".path: unknown key');
});

test('unknown Vault settings say they are Vault settings Coffer lacks', async () => {
  await rejectsWith(
    () => hcl(`${MINIMAL_HCL}seal "awskms" {\n  region = "us-east-1"\n}\n`),
    'coffer.hcl:7: seal: unknown key (a Vault setting that Coffer does not support',
  );
  await rejectsWith(
    () => hcl('storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  tls_client_ca_file = "ca.pem"\n}\n'),
    'coffer.hcl:4: listener "tcp".tls_client_ca_file: unknown key (a Vault setting',
  );
  await rejectsWith(() => hcl('backend "file" {\n  path = "x"\n}\n'), 'coffer.hcl:1: backend: unknown key', 'storage');
});

test('unknown key (JSON) names the key and the line', async () => {
  await rejectsWith(
    () => json({ storage: { inmem: {} }, listener: [{ tcp: { tls_disable: true } }, { tcp: { tls_disable: true, address: ':8201', nope: 1 } }] }),
    /coffer\.json:\d+: listener "tcp"\[1\]\.nope: unknown key/,
  );
  const text = '{\n  "storage": {"inmem": {}},\n  "listener": {"tcp": {"tls_disable": true}},\n  "uii": true\n}\n';
  await rejectsWith(() => parseConfig(text, 'json', 'c.json'), 'c.json:4: uii: unknown key');
});

test('wrong types name the key and the line', async () => {
  await rejectsWith(() => hcl(`${MINIMAL_HCL}ui = "yes"\n`), 'coffer.hcl:7: ui: expected a boolean', '"yes"');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}cluster_name = 5\n`), 'coffer.hcl:7: cluster_name: expected a string, got 5');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}api_addr = "not a url"\n`), 'coffer.hcl:7: api_addr:');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}log_level = "verbose"\n`), 'coffer.hcl:7: log_level: unknown log level "verbose"');
  await rejectsWith(() => hcl('storage "inmem" {}\nlistener "tcp" {\n  tls_disable = "maybe"\n}\n'), 'coffer.hcl:3: listener "tcp".tls_disable: expected a boolean');
  await rejectsWith(() => hcl('storage = "inmem"\n'), 'coffer.hcl:1: storage: expected a block');
  await rejectsWith(
    () => json({ storage: { postgresql: { connection_url: 'postgres://h/db', max_parallel: 0 } }, listener: { tcp: { tls_disable: true } } }),
    'storage "postgresql".max_parallel: expected a whole number of at least 1',
  );
  await rejectsWith(
    () => json({ storage: { postgresql: { connection_url: 'postgres://h/db', table: 'kv; drop table x' } }, listener: { tcp: { tls_disable: true } } }),
    'storage "postgresql".table: ',
    'not a valid table name',
  );
});

test('bad durations name the key and the line', async () => {
  await rejectsWith(() => hcl(`${MINIMAL_HCL}default_lease_ttl = "10 minutes"\n`), 'coffer.hcl:7: default_lease_ttl: invalid duration "10 minutes"');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}max_lease_ttl = "-5m"\n`), 'coffer.hcl:7: max_lease_ttl: ', 'negative');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}max_lease_ttl = "5y"\n`), 'coffer.hcl:7: max_lease_ttl: ', 'unknown unit "y"');
  // Unquoted: an HCL syntax error, with a hint.
  await rejectsWith(() => hcl(`${MINIMAL_HCL}max_lease_ttl = 10s\n`), 'coffer.hcl:7: HCL syntax error', '"10s"');
});

test('default_lease_ttl greater than max_lease_ttl', async () => {
  const e = await rejectsWith(
    () => hcl(`${MINIMAL_HCL}default_lease_ttl = "2h"\nmax_lease_ttl = "1h"\n`),
    'coffer.hcl:7: default_lease_ttl: 7200s is greater than max_lease_ttl (3600s)',
  );
  assert.equal(e.key, 'default_lease_ttl');
  // Only the default given, above the 32-day max: also refused.
  await rejectsWith(() => json({ storage: { inmem: {} }, listener: { tcp: { tls_disable: true } }, default_lease_ttl: '800h' }), 'default_lease_ttl: 2880000s is greater');
  // Only a lower max given: the default follows it down; 0 means "the default".
  const config = await hcl(`${MINIMAL_HCL}max_lease_ttl = "1h"\n`);
  assert.equal(config.defaultLeaseTtlSeconds, 3600);
  assert.equal(config.maxLeaseTtlSeconds, 3600);
  const zero = await hcl(`${MINIMAL_HCL}default_lease_ttl = 0\nmax_lease_ttl = "0"\n`);
  assert.equal(zero.defaultLeaseTtlSeconds, 2764800);
  assert.equal(zero.maxLeaseTtlSeconds, 2764800);
});

test('listener addresses: port out of range, bad forms, duplicates', async () => {
  const listener = (address: string): string => `storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  address = "${address}"\n}\n`;
  await rejectsWith(() => hcl(listener('127.0.0.1:65536')), 'coffer.hcl:4: listener "tcp".address: port 65536', 'out of range');
  await rejectsWith(() => hcl(listener('127.0.0.1')), 'coffer.hcl:4: listener "tcp".address: ', 'no port');
  await rejectsWith(() => hcl(listener('::1:8200')), 'coffer.hcl:4: listener "tcp".address: ', 'brackets');
  await rejectsWith(() => hcl(listener('127.0.0.1:http')), 'coffer.hcl:4: listener "tcp".address: ', 'not a number');
  await rejectsWith(() => hcl(listener('bad host!:8200')), 'coffer.hcl:4: listener "tcp".address: ', 'not a valid host');
  const ok = await hcl(listener('localhost:0'));
  assert.deepEqual(ok.listeners[0], { type: 'tcp', host: 'localhost', port: 0, tls: null });
  await rejectsWith(
    () => hcl('storage "inmem" {}\nlistener "tcp" { tls_disable = true }\nlistener "tcp" {\n  tls_disable = true\n  address = "127.0.0.1:8200"\n}\n'),
    'coffer.hcl:5: listener "tcp"[1].address: 127.0.0.1:8200 is already used by listener "tcp"[0]',
  );
});

test('unknown storage type, several storage blocks, missing storage or listener', async () => {
  const e = await rejectsWith(() => hcl('listener "tcp" { tls_disable = true }\nstorage "raft" {\n  path = "/data"\n}\n'), 'coffer.hcl:2: storage "raft": unknown storage type "raft"');
  assert.equal(e.key, 'storage "raft"');
  await rejectsWith(
    () => hcl('storage "sqlite" { path = "a.db" }\nlistener "tcp" { tls_disable = true }\nstorage "inmem" {}\n'),
    'coffer.hcl:3: storage "inmem": only one storage block is allowed, found 2',
  );
  await rejectsWith(() => json({ storage: { inmem: {}, sqlite: { path: 'x' } }, listener: { tcp: { tls_disable: true } } }), 'only one storage block');
  await rejectsWith(() => hcl('storage "sqlite" {}\nlistener "tcp" { tls_disable = true }\n'), 'coffer.hcl:1: storage "sqlite".path: is required');
  await rejectsWith(() => hcl('listener "tcp" { tls_disable = true }\n'), 'coffer.hcl: storage: a storage block is required');
  await rejectsWith(() => hcl('storage "inmem" {}\n'), 'coffer.hcl: listener: at least one listener block is required');
  await rejectsWith(() => hcl('storage "inmem" {}\nlistener "unix" {\n  address = "/run/coffer.sock"\n}\n'), 'coffer.hcl:2: listener "unix": unknown listener type "unix"');
});

test('TLS: cert and key are required unless tls_disable; files must exist and be readable', async () => {
  await rejectsWith(
    () => hcl(`storage "inmem" {}\nlistener "tcp" {\n  tls_key_file = "${key}"\n}\n`),
    'coffer.hcl:2: listener "tcp".tls_cert_file: is required unless tls_disable = true',
  );
  await rejectsWith(
    () => hcl(`storage "inmem" {}\nlistener "tcp" {\n  tls_cert_file = "${cert}"\n}\n`),
    'coffer.hcl:2: listener "tcp".tls_key_file: is required unless tls_disable = true',
  );
  const missing = join(dir, 'missing-cert.pem');
  await rejectsWith(
    () => hcl(`storage "inmem" {}\nlistener "tcp" {\n  tls_cert_file = "${missing}"\n  tls_key_file = "${key}"\n}\n`),
    `coffer.hcl:3: listener "tcp".tls_cert_file: file not found: ${missing}`,
  );
  await rejectsWith(
    () => hcl(`storage "inmem" {}\nlistener "tcp" {\n  tls_cert_file = "${cert}"\n  tls_key_file = "${join(dir, 'a-directory')}"\n}\n`),
    'coffer.hcl:4: listener "tcp".tls_key_file: ',
    'is not a regular file',
  );
  await rejectsWith(
    () => hcl(`storage "inmem" {}\nlistener "tcp" {\n  tls_cert_file = "${cert}"\n  tls_key_file = "${key}"\n  tls_min_version = "tls11"\n}\n`),
    'coffer.hcl:5: listener "tcp".tls_min_version: ',
    'TLS 1.2 is the minimum',
  );
  // With TLS disabled the files are not looked at.
  const config = await hcl(`storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  tls_cert_file = "${missing}"\n}\n`);
  assert.equal(config.listeners[0]?.tls, null);
});

test('syntax errors carry the line', async () => {
  await rejectsWith(() => hcl('storage "inmem" {}\nlistener "tcp" {\n  tls_disable = = true\n}\n'), 'coffer.hcl:3: HCL syntax error');
  await rejectsWith(() => hcl('storage "inmem" {\n\nlistener "tcp" {\n'), 'coffer.hcl:3: HCL syntax error', 'never closed');
  await rejectsWith(() => hcl('ui = "unterminated\nlog_level = "info"\n'), 'coffer.hcl:1: HCL syntax error');
  await rejectsWith(() => hcl('ui = yes\n'), 'coffer.hcl:1: HCL syntax error', 'unquoted value yes');
  await rejectsWith(() => parseConfig('{\n  "ui": true,\n  "log_level": "info",\n}\n', 'json', 'c.json'), 'c.json:4: JSON syntax error');
  await rejectsWith(() => parseConfig('{\n  "ui": true\n  "x": 1\n}', 'json', 'c.json'), 'c.json:3: JSON syntax error');
});

test('a key set twice is an error, a block given twice is two blocks', async () => {
  await rejectsWith(() => hcl(`${MINIMAL_HCL}disable_mlock = false\n`), 'coffer.hcl:7: disable_mlock: is set more than once (first at line 6)');
});

test('a connection URL is never echoed in an error', async () => {
  const secret = 'hunter2-very-secret';
  const e = await rejectsWith(
    () => hcl(`storage "postgresql" {\n  connection_url = "mysql://coffer:${secret}@db/coffer"\n}\nlistener "tcp" { tls_disable = true }\n`),
    'coffer.hcl:2: storage "postgresql".connection_url: must be a postgres:// or postgresql:// URL',
  );
  assert.ok(!e.message.includes(secret));
  const notUrl = await rejectsWith(
    () => hcl(`storage "postgresql" {\n  connection_url = "${secret}"\n}\nlistener "tcp" { tls_disable = true }\n`),
    'storage "postgresql".connection_url: is not a URL',
  );
  assert.ok(!notUrl.message.includes(secret));
  await rejectsWith(() => hcl('storage "postgresql" {}\nlistener "tcp" { tls_disable = true }\n'), 'storage "postgresql".connection_url: is required');
});

test('keys that look like Object.prototype members are just unknown keys', async () => {
  await rejectsWith(() => parseConfig('{"__proto__": {"x": 1}, "storage": {"inmem": {}}}', 'json', 'c.json'), 'c.json:1: __proto__: unknown key');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}constructor = 1\n`), 'coffer.hcl:7: constructor: unknown key');
});

// ---------------------------------------------------------------------------------------------
// Durations

test('parseDuration: Vault rules', () => {
  const cases: Array<[string | number, number]> = [
    [0, 0],
    ['0', 0],
    [3600, 3600],
    ['3600', 3600],
    ['30s', 30],
    ['5m', 300],
    ['1h', 3600],
    ['768h', 2764800],
    ['1h30m', 5400],
    ['1h30m15s', 5415],
    ['1.5h', 5400],
    ['.5m', 30],
    ['1500ms', 2],
    ['1499ms', 1],
    ['400ms', 0],
    ['2000000us', 2],
    ['3000000000ns', 3],
    ['7d', 604800],
    ['+10s', 10],
  ];
  for (const [input, seconds] of cases) assert.equal(parseDuration(input), seconds, JSON.stringify(input));
});

test('parseDuration: bad input throws ConfigError', () => {
  for (const input of ['', ' 5s', '5 s', 'abc', '5x', '1d12h', '-1', '-5s', 'h', '1.5', '5S', '10 minutes', '1e3s', '99999999999999999999h']) {
    assert.throws(() => parseDuration(input), ConfigError, JSON.stringify(input));
  }
  assert.throws(() => parseDuration(1.5), ConfigError);
  assert.throws(() => parseDuration(-1), ConfigError);
  assert.throws(() => parseDuration(Number.NaN), ConfigError);
  assert.throws(() => parseDuration(10_000_000_000), ConfigError); // beyond Go's ~292 years
});

test('sqlite synchronous is "full" unless set to "normal"; anything else names the key', async () => {
  const normal = await parseConfig('storage "sqlite" {\n  path = "/tmp/x.db"\n  synchronous = "normal"\n}\nlistener "tcp" { tls_disable = true }\n', 'hcl', 'sync.hcl');
  assert.deepEqual(normal.storage, { type: 'sqlite', path: '/tmp/x.db', synchronous: 'normal' });
  await assert.rejects(parseConfig('storage "sqlite" {\n  path = "/tmp/x.db"\n  synchronous = "off"\n}\nlistener "tcp" { tls_disable = true }\n', 'hcl', 'sync.hcl'), /sync\.hcl:3: storage "sqlite"\.synchronous/);
});

test('cache_size and disable_cache, as Vault spells them, size or turn off the read cache', async () => {
  assert.equal((await hcl(MINIMAL_HCL)).cacheEntries, undefined, 'the server default when unset');
  assert.equal((await hcl(`${MINIMAL_HCL}cache_size = 131072\n`)).cacheEntries, 131072);
  assert.equal((await hcl(`${MINIMAL_HCL}cache_size = "2048"\n`)).cacheEntries, 2048);
  assert.equal((await hcl(`${MINIMAL_HCL}cache_size = 500\ndisable_cache = true\n`)).cacheEntries, 0, 'disable_cache wins');
  assert.equal((await hcl(`${MINIMAL_HCL}disable_cache = "false"\n`)).cacheEntries, undefined);
  await rejectsWith(() => hcl(`${MINIMAL_HCL}cache_size = -1\n`), 'coffer.hcl:7: cache_size: expected a whole number of at least 1');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}disable_cache = "maybe"\n`), 'coffer.hcl:7: disable_cache: expected a boolean');
});

// ---------------------------------------------------------------------------------------------
// telemetry

test('telemetry block: Vault\'s defaults for the keys left out; without the block the Prometheus format is off', async () => {
  assert.equal((await hcl(MINIMAL_HCL)).telemetry, undefined);
  const defaults = await hcl(`${MINIMAL_HCL}telemetry {\n  disable_hostname = true\n}\n`);
  assert.deepEqual(defaults.telemetry, { prometheusRetentionSeconds: 86_400, disableHostname: true, usageGaugePeriodSeconds: 600 });
  const set = await hcl(`${MINIMAL_HCL}telemetry {\n  prometheus_retention_time = "30s"\n  usage_gauge_period = "none"\n}\n`);
  assert.deepEqual(set.telemetry, { prometheusRetentionSeconds: 30, disableHostname: false, usageGaugePeriodSeconds: 0 });
  assert.equal((await hcl(`${MINIMAL_HCL}telemetry {\n  prometheus_retention_time = 0\n}\n`)).telemetry?.prometheusRetentionSeconds, 0);
  const fromJson = await json({ storage: { inmem: {} }, listener: { tcp: { tls_disable: true } }, telemetry: { prometheus_retention_time: '1h', usage_gauge_period: '5m' } });
  assert.deepEqual(fromJson.telemetry, { prometheusRetentionSeconds: 3600, disableHostname: false, usageGaugePeriodSeconds: 300 });
  const listed = await json({ storage: { inmem: {} }, listener: { tcp: { tls_disable: true } }, telemetry: [{ disable_hostname: 'true' }] });
  assert.equal(listed.telemetry?.disableHostname, true);
});

test('telemetry: the sinks and knobs Coffer lacks are refused, naming the key and the line', async () => {
  for (const key of ['statsd_address', 'statsite_address', 'dogstatsd_addr', 'circonus_api_token', 'stackdriver_project_id', 'metrics_prefix', 'prefix_filter']) {
    const e = await rejectsWith(
      () => hcl(`${MINIMAL_HCL}telemetry {\n  disable_hostname = true\n  ${key} = "x"\n}\n`),
      `coffer.hcl:9: telemetry.${key}: unknown key (a Vault setting that Coffer does not support; remove it)`,
    );
    assert.equal(e.key, `telemetry.${key}`);
  }
  await rejectsWith(() => hcl(`${MINIMAL_HCL}telemetry {\n  prometheus_retention_tme = "1h"\n}\n`), 'coffer.hcl:8: telemetry.prometheus_retention_tme: unknown key');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}telemetry {\n  prometheus_retention_time = "soon"\n}\n`), 'coffer.hcl:8: telemetry.prometheus_retention_time:');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}telemetry {\n  usage_gauge_period = "sometimes"\n}\n`), 'coffer.hcl:8: telemetry.usage_gauge_period:');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}telemetry {\n  disable_hostname = "maybe"\n}\n`), 'coffer.hcl:8: telemetry.disable_hostname: expected a boolean');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}telemetry {}\ntelemetry {}\n`), 'coffer.hcl:7: telemetry: only one telemetry block is allowed, found 2');
  await rejectsWith(() => hcl(`${MINIMAL_HCL}telemetry = "on"\n`), 'coffer.hcl:7: telemetry: expected a block telemetry { ... }');
});

test('listener telemetry and inflight_requests_logging blocks open the telemetry endpoints without a token', async () => {
  const config = await hcl(`storage "inmem" {}
listener "tcp" {
  tls_disable = true
  telemetry {
    unauthenticated_metrics_access = true
  }
  inflight_requests_logging {
    unauthenticated_in_flight_requests_access = "true"
  }
}
listener "tcp" {
  address     = "127.0.0.1:8201"
  tls_disable = true
}
`);
  assert.deepEqual(config.listeners, [
    { type: 'tcp', host: '127.0.0.1', port: 8200, tls: null, telemetry: { unauthenticatedMetricsAccess: true }, inflightRequestsLogging: { unauthenticatedInFlightRequestsAccess: true } },
    { type: 'tcp', host: '127.0.0.1', port: 8201, tls: null },
  ] satisfies ServerConfig['listeners']);
  const fromJson = await json({ storage: { inmem: {} }, listener: { tcp: { tls_disable: true, telemetry: { unauthenticated_metrics_access: false } } } });
  assert.deepEqual(fromJson.listeners[0]?.telemetry, { unauthenticatedMetricsAccess: false });

  await rejectsWith(
    () => hcl('storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  unauthenticated_metrics_access = true\n}\n'),
    'coffer.hcl:4: listener "tcp".unauthenticated_metrics_access: unknown key here (Vault reads it inside the listener\'s telemetry { ... } block)',
  );
  await rejectsWith(
    () => hcl('storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  telemetry {\n    prometheus_retention_time = "1h"\n  }\n}\n'),
    'coffer.hcl:5: listener "tcp".telemetry.prometheus_retention_time: unknown key',
  );
  await rejectsWith(
    () => hcl('storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  inflight_requests_logging {\n    unauthenticated_in_flight_requests_access = "sometimes"\n  }\n}\n'),
    'coffer.hcl:5: listener "tcp".inflight_requests_logging.unauthenticated_in_flight_requests_access: expected a boolean',
  );
});
