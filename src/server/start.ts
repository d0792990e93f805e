import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfigFile, type ServerConfig } from '../config/index.js';
import { createCore, type Core } from '../core/core.js';
import type { BackendFactory } from '../core/framework.js';
import { Telemetry } from '../core/telemetry/index.js';
import { buildApp, listenerAccess } from '../http/app.js';
import { listen, type Listening } from '../http/listener.js';
import { sealRoutes } from '../http/sys-seal.js';
import { InmemStorage, PostgresStorage, SqliteStorage, type Storage } from '../storage/index.js';
import { CofferError } from '../util/errors.js';
import { createLogger, levelNamed, type Logger, type LogLevel } from '../util/logger.js';

export interface DevOptions {
  rootToken?: string;
  listenAddress?: string;
  dataDir?: string;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8200 */
  addresses: string[];
  dev?: { rootToken: string; unsealKey: string };
  core: Core;
  close(): Promise<void>;
}

export interface StartOptions {
  configFile?: string;
  /** A parsed config (tests); ignored when configFile is given. */
  config?: ServerConfig;
  dev?: DevOptions;
  logLevel?: string;
  logger?: Logger;
  /** More secrets engines by type (the benchmark's lease source). */
  extraSecretFactories?: ReadonlyMap<string, BackendFactory>;
}

const DEV_LISTEN = '127.0.0.1:8200';

/** Starts Coffer: storage, core, HTTP listeners. Dev mode also initializes and unseals. */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const config = opts.configFile ? await loadConfigFile(opts.configFile) : opts.config ?? (opts.dev ? devConfig(opts.dev) : undefined);
  if (!config) throw new CofferError('invalid_request', 'a config file (--config) or --dev is required');
  const logger = opts.logger ?? createLogger(toLevel(opts.logLevel) ?? config.logLevel);
  const storage = await openStorage(config);
  const telemetry = new Telemetry({ settings: config.telemetry, clusterName: config.clusterName, sources: () => core });
  const core = await createCore({
    storage, logger, defaultLeaseTtl: config.defaultLeaseTtlSeconds, maxLeaseTtl: config.maxLeaseTtlSeconds,
    ...(config.maxLeases === undefined ? {} : { maxLeases: config.maxLeases }),
    ...(config.cacheEntries === undefined ? {} : { cacheEntries: config.cacheEntries }),
    ...(opts.extraSecretFactories ? { extraSecretFactories: opts.extraSecretFactories } : {}),
    info: { config, logLevel: logger.level },
    telemetry,
  });

  let dev: RunningServer['dev'];
  if (opts.dev) dev = await setUpDev(core, opts.dev);

  const app: FastifyInstance = await buildApp({
    pipeline: core.pipeline,
    sealRoutes: sealRoutes({ seal: core.seal, storageType: config.storage.type, clusterName: config.clusterName, clusterId: () => core.cluster.id }),
    logger,
    telemetry: { registry: telemetry, access: listenerAccess(config.listeners, () => listeners.map((l) => l.address)) },
    quotas: core.quotas,
  });
  const listeners: Listening[] = [];
  try {
    for (const l of config.listeners) {
      const tls = l.tls ? { cert: await readFile(l.tls.certFile), key: await readFile(l.tls.keyFile) } : undefined;
      listeners.push(await listen(app.server, { host: l.host, port: l.port, ...(tls ? { tls } : {}) }));
    }
  } catch (e) {
    for (const l of listeners) await l.close();
    await core.close();
    throw e;
  }
  const addresses = listeners.map((l, i) => {
    const scheme = config.listeners[i]?.tls ? 'https' : 'http';
    const host = l.address.family === 'IPv6' ? `[${l.address.address}]` : l.address.address;
    return `${scheme}://${host}:${l.address.port}`;
  });
  logger.info({ addresses, storage: config.storage.type }, 'coffer listening');

  let closing: Promise<void> | undefined;
  return {
    addresses,
    core,
    ...(dev ? { dev } : {}),
    close: () => (closing ??= (async () => {
      for (const l of listeners) await l.close();
      await app.close();
      await core.close();
      logger.info('coffer stopped');
    })()),
  };
}

async function openStorage(config: ServerConfig): Promise<Storage> {
  const s = config.storage;
  switch (s.type) {
    case 'sqlite': return new SqliteStorage({ path: s.path, synchronous: s.synchronous });
    case 'inmem': return new InmemStorage();
    case 'postgresql':
      if (s.haEnabled) throw new CofferError('invalid_request', 'storage "postgresql": ha_enabled is not available yet; one server per table without it');
      return PostgresStorage.open({ connectionUrl: s.connectionUrl, table: s.table, maxParallel: s.maxParallel });
  }
}

function devConfig(dev: DevOptions): ServerConfig {
  const [host, portText] = splitHostPort(dev.listenAddress ?? DEV_LISTEN);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    throw new CofferError('invalid_request', `dev mode listens on loopback only; ${host} is not a loopback address`);
  }
  return {
    storage: dev.dataDir ? { type: 'sqlite', path: join(dev.dataDir, 'coffer.db'), synchronous: 'full' } : { type: 'inmem' },
    listeners: [{ type: 'tcp', host: host.replace(/^\[|\]$/g, ''), port: Number(portText), tls: null }],
    apiAddr: null,
    clusterName: 'coffer-dev',
    ui: true,
    defaultLeaseTtlSeconds: 2_764_800,
    maxLeaseTtlSeconds: 2_764_800,
    logLevel: 'info',
  };
}

/**
 * Dev mode: 1-of-1 seal, unsealed, the key and root token handed back for printing. With a
 * data dir the dev unseal key is kept beside the database (dev mode is insecure by design),
 * so a restart unseals the same data; the root token is not kept and is reported as such.
 */
async function setUpDev(core: Core, dev: DevOptions): Promise<{ rootToken: string; unsealKey: string }> {
  const keyFile = dev.dataDir ? join(dev.dataDir, 'dev-unseal.key') : undefined;
  if (core.seal.state.kind !== 'uninitialized') {
    if (!keyFile) throw new CofferError('internal', 'in-memory storage is never initialized at start');
    const unsealKey = (await readFile(keyFile, 'utf8').catch(() => {
      throw new CofferError('invalid_request', `${dev.dataDir} holds an initialized server but no dev-unseal.key: unseal it with a normal server`);
    })).trim();
    await core.seal.submitShare(unsealKey);
    return { rootToken: dev.rootToken ?? '(unchanged since this data dir was created)', unsealKey };
  }
  const init = await core.seal.initialize(1, 1, dev.rootToken === undefined ? {} : { rootToken: dev.rootToken });
  const unsealKey = Buffer.from(init.keys[0]!).toString('base64');
  if (keyFile) await writeFile(keyFile, `${unsealKey}\n`, { mode: 0o600 });
  await core.seal.submitShare(unsealKey);
  // Only on first init: a restart with a data dir keeps whatever mounts the operator left.
  await core.secrets.mount({ path: 'secret/', type: 'kv', options: { version: '2' }, description: 'key/value secret storage' });
  return { rootToken: init.rootToken, unsealKey };
}

function splitHostPort(addr: string): [string, string] {
  const i = addr.lastIndexOf(':');
  if (i < 0) throw new CofferError('invalid_request', `listen address ${addr} needs host:port`);
  const port = addr.slice(i + 1);
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new CofferError('invalid_request', `listen address ${addr} has a bad port`);
  return [addr.slice(0, i), port];
}

function toLevel(level: string | undefined): LogLevel | undefined {
  if (level === undefined) return undefined;
  const l = levelNamed(level);
  if (l === undefined) throw new CofferError('invalid_request', `unknown log level ${level}`);
  return l;
}
