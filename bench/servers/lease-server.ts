// A Coffer server with the benchmark's lease source engine (bench/lib/lease-source.ts): real
// SQLite storage, initialized and unsealed by the benchmark over HTTP like any server.
// Usage: lease-server.ts <port> <sqlite file> <synchronous: full|normal>
import { startServer } from '../../src/server/start.js';
import { createLogger } from '../../src/util/logger.js';
import { leaseSourceFactory } from '../lib/lease-source.js';

const [port, path, sync] = process.argv.slice(2);
const server = await startServer({
  config: {
    storage: { type: 'sqlite', path: path!, synchronous: sync === 'full' ? 'full' : 'normal' },
    listeners: [{ type: 'tcp', host: '127.0.0.1', port: Number(port), tls: null }],
    apiAddr: null, clusterName: 'coffer-bench', ui: false,
    defaultLeaseTtlSeconds: 2_764_800, maxLeaseTtlSeconds: 2_764_800, logLevel: 'error',
  },
  logger: createLogger('error'),
  extraSecretFactories: new Map([['lease-source', leaseSourceFactory]]),
});
const stop = (): void => { void server.close().then(() => process.exit(0)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
