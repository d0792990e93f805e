import type { SealController } from '../core/seal.js';
import { CofferError, invalid } from '../util/errors.js';
import { BUILD_DATE, VERSION } from '../version.js';

/**
 * The endpoints that work while sealed (Vault serves them outside the request pipeline and
 * does not audit them): init, seal-status, unseal, health, leader, rekey, generate-root.
 */
export interface SealEndpointDeps {
  readonly seal: SealController;
  readonly storageType: string;
  readonly clusterName: string;
  /** Known only while unsealed, as in Vault. */
  readonly clusterId: () => string | undefined;
}

export type SealRoute = (method: string, body: Record<string, unknown>, query: URLSearchParams) => Promise<{ status: number; body?: unknown }>;

export function sealRoutes(d: SealEndpointDeps): ReadonlyMap<string, SealRoute> {
  const sealStatus = () => {
    const s = d.seal.status();
    return {
      ...s, version: VERSION, build_date: BUILD_DATE, migration: false, recovery_seal: false, storage_type: d.storageType,
      ...(s.sealed ? {} : { cluster_name: d.clusterName, cluster_id: d.clusterId() ?? '' }),
    };
  };
  const routes = new Map<string, SealRoute>();

  routes.set('sys/init', async (method, body) => {
    if (method === 'GET') return { status: 200, body: { initialized: d.seal.state.kind !== 'uninitialized' } };
    for (const unsupported of ['pgp_keys', 'root_token_pgp_key', 'recovery_pgp_keys']) {
      const v = body[unsupported];
      if (v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0)) throw invalid(`${unsupported} is not supported yet`);
    }
    const shares = toInt(body['secret_shares'], 'secret_shares');
    const threshold = toInt(body['secret_threshold'], 'secret_threshold');
    const result = await d.seal.initialize(shares, threshold);
    return {
      status: 200,
      body: {
        keys: result.keys.map((k) => Buffer.from(k).toString('hex')),
        keys_base64: result.keys.map((k) => Buffer.from(k).toString('base64')),
        root_token: result.rootToken,
      },
    };
  });

  routes.set('sys/seal-status', async () => ({ status: 200, body: sealStatus() }));

  routes.set('sys/unseal', async (method, body) => {
    if (body['reset'] === true || body['reset'] === 'true') {
      d.seal.resetProgress();
      return { status: 200, body: sealStatus() };
    }
    if (body['key'] === undefined || body['key'] === '') throw invalid("'key' must be specified in request body as JSON, or 'reset' set to true");
    await d.seal.submitShare(body['key']);
    return { status: 200, body: sealStatus() };
  });

  routes.set('sys/health', async (method, _body, query) => {
    const state = d.seal.state.kind;
    const code = (name: string, fallback: number): number => {
      const v = query.get(name);
      const n = v === null ? NaN : Number(v);
      return Number.isInteger(n) && n >= 100 && n <= 599 ? n : fallback;
    };
    const status = state === 'uninitialized' ? code('uninitcode', 501) : state === 'sealed' ? code('sealedcode', 503) : code('activecode', 200);
    const body = {
      initialized: state !== 'uninitialized', sealed: state !== 'unsealed', standby: false, performance_standby: false,
      replication_performance_mode: 'disabled', replication_dr_mode: 'disabled',
      server_time_utc: Math.floor(Date.now() / 1000), version: VERSION,
      ...(state === 'unsealed' ? { cluster_name: d.clusterName, cluster_id: d.clusterId() ?? '' } : {}),
    };
    return { status, body: method === 'HEAD' ? undefined : body };
  });

  routes.set('sys/leader', async () => {
    if (d.seal.state.kind !== 'unsealed') throw new CofferError('sealed', 'Vault is sealed');
    return { status: 200, body: { ha_enabled: false, is_self: false, active_time: '0001-01-01T00:00:00Z', leader_address: '', leader_cluster_address: '', performance_standby: false, performance_standby_last_remote_wal: 0 } };
  });

  routes.set('sys/rekey/init', async (method, body) => {
    if (method === 'GET') return { status: 200, body: d.seal.rekeyStatus() };
    if (method === 'DELETE') {
      d.seal.rekeyCancel();
      return { status: 204 };
    }
    if (body['pgp_keys'] !== undefined && body['pgp_keys'] !== null) throw invalid('pgp_keys is not supported yet');
    return { status: 200, body: d.seal.rekeyInit(toInt(body['secret_shares'], 'secret_shares'), toInt(body['secret_threshold'], 'secret_threshold')) };
  });

  routes.set('sys/rekey/update', async (method, body) => {
    const r = await d.seal.rekeyUpdate(body['key'], body['nonce']);
    if (!r.complete) return { status: 200, body: r };
    const keys = r.keys ?? [];
    return {
      status: 200,
      body: {
        complete: true, nonce: r.nonce, backup: false, verification_required: false, pgp_fingerprints: null,
        keys: keys.map((k) => Buffer.from(k).toString('hex')), keys_base64: keys.map((k) => Buffer.from(k).toString('base64')),
      },
    };
  });

  // Unauthenticated like Vault's: the unseal-key quorum is the authorization. Not audited either.
  routes.set('sys/generate-root/attempt', async (method, body) => {
    if (method === 'GET') return { status: 200, body: d.seal.generateRootStatus() };
    if (method === 'DELETE') {
      d.seal.generateRootCancel();
      return { status: 204 };
    }
    return { status: 200, body: d.seal.generateRootInit(body['otp'], body['pgp_key']) };
  });

  routes.set('sys/generate-root/update', async (method, body) => {
    if (body['key'] === undefined || body['key'] === '') throw invalid("'key' must be specified in request body as JSON");
    return { status: 200, body: await d.seal.generateRootUpdate(body['key'], body['nonce']) };
  });

  const allowed: Record<string, readonly string[]> = {
    'sys/init': ['GET', 'PUT', 'POST'], 'sys/seal-status': ['GET'], 'sys/unseal': ['PUT', 'POST'], 'sys/health': ['GET', 'HEAD'],
    'sys/leader': ['GET'], 'sys/rekey/init': ['GET', 'PUT', 'POST', 'DELETE'], 'sys/rekey/update': ['PUT', 'POST'],
    'sys/generate-root/attempt': ['GET', 'PUT', 'POST', 'DELETE'], 'sys/generate-root/update': ['PUT', 'POST'],
  };
  const guarded = new Map<string, SealRoute>();
  for (const [path, route] of routes) {
    const methods = allowed[path] ?? [];
    guarded.set(path, (method, body, query) => {
      if (!methods.includes(method)) throw new CofferError('unsupported_operation', 'unsupported operation');
      return route(method, body, query);
    });
  }
  return guarded;
}

function toInt(v: unknown, name: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalid(`${name} must be an integer`);
  return n;
}
