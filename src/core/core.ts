import { Barrier } from '../barrier/index.js';
import { ClusterInfo } from './cluster.js';
import { AuditBroker } from '../audit/broker.js';
import { mountResolver } from '../audit/mount-ref.js';
import { auditPaths } from '../engines/sys/paths-audit.js';
import { tokenBackendFactory } from '../auth/token/index.js';
import { approleBackendFactory } from '../auth/approle/index.js';
import { jwtBackendFactory } from '../auth/jwt/index.js';
import { userpassBackendFactory } from '../auth/userpass/index.js';
import { lockedUserPaths } from '../engines/sys/paths-locked-users.js';
import { UserLockout, lockoutConfigOf, type LockoutConfig } from './lockout.js';
import { LoginService } from './login.js';
import { systemBackendFactory } from '../engines/sys/index.js';
import { keyPaths } from '../engines/sys/paths-keys.js';
import { sealPaths } from '../engines/sys/paths-seal.js';
import { authMountPaths } from '../engines/sys/paths-auth-mounts.js';
import { internalPaths } from '../engines/sys/paths-internal.js';
import { mountPaths } from '../engines/sys/paths-mounts.js';
import { wrappingPaths } from '../engines/sys/paths-wrapping.js';
import { policyPaths } from '../engines/sys/paths-policy.js';
import { explainPaths } from '../engines/sys/paths-explain.js';
import { metricsPaths } from '../engines/sys/paths-metrics.js';
import type { Telemetry } from './telemetry/index.js';
import { infoPaths, type ServerInfo } from '../engines/sys/paths-info.js';
import { quotaPaths } from '../engines/sys/paths-quotas.js';
import { QuotaStore } from './quotas/index.js';
import { recordVersion } from './versions.js';
import { identityBackendFactory } from '../engines/identity/index.js';
import type { AuthMountInfo } from './identity/env.js';
import { IdentityStore } from './identity/store.js';
import { cubbyholeBackendFactory, purgeCubbyhole } from '../engines/cubbyhole/index.js';
import { kvBackendFactory } from '../engines/kv/index.js';
import { transitBackendFactory } from '../engines/transit/index.js';
import { toolPaths } from '../engines/transit/paths-misc.js';
import { createDatabaseEngine } from '../engines/database/index.js';
import { leasePaths } from '../engines/sys/paths-leases.js';
import { PasswordPolicies, passwordPolicyPaths } from '../engines/sys/paths-password-policies.js';
import { ExpirationManager, LeaseStore, leaseStage, type IssuingMount } from './leases/index.js';
import { Scheduler } from './scheduler.js';
import { invalid } from '../util/errors.js';
import type { Storage } from '../storage/types.js';
import { PrefixView } from '../storage/view.js';
import type { Logger } from '../util/logger.js';
import { PolicyStore } from './acl/policy-store.js';
import type { Authorizer } from './acl/types.js';
import type { BackendFactory, PathSpec } from './framework.js';
import { MountTable, type MountRequest } from './mounts.js';
import { Pipeline, type AuditSink, type ResponseStage } from './pipeline.js';
import { SealController } from './seal.js';
import { TokenStore } from './tokens/store.js';
import { ResponseWrapper } from './wrapping.js';

export interface CoreOptions {
  storage: Storage;
  logger: Logger;
  defaultLeaseTtl: number;
  maxLeaseTtl: number;
  /** Barrier key rotation threshold (tests set it low). */
  rotationThreshold?: number;
  /** Cap on active leases (config `max_leases`); past it, new leases answer 429. */
  maxLeases?: number;
  /** Entries in the barrier's read cache (config `cache_size`; 0 = `disable_cache`). */
  cacheEntries?: number;
  /** More secrets engines by type (the benchmark's lease source); never replaces a built-in. */
  extraSecretFactories?: ReadonlyMap<string, BackendFactory>;
  /** What the server was started with, for sys/ha-status, sys/config/state/sanitized, sys/loggers (absent when embedded). */
  info?: ServerInfo;
  /** The metrics registry sys/metrics and sys/in-flight-req read (the HTTP layer feeds it); without it they are absent. */
  telemetry?: Telemetry;
}

/** Mounts every server has; re-created on unseal if missing (e.g. after an upgrade). */
const BUILTIN_SECRET_MOUNTS: MountRequest[] = [
  { path: 'sys/', type: 'system', description: 'system endpoints used for control, policy and debugging', builtin: true },
  { path: 'cubbyhole/', type: 'cubbyhole', description: 'per-token private secret storage', local: true, builtin: true },
  { path: 'identity/', type: 'identity', description: 'identity store', builtin: true },
  // <wire:builtin-secret-mounts>
];
const BUILTIN_AUTH_MOUNTS: MountRequest[] = [
  { path: 'token/', type: 'token', description: 'token based credentials', builtin: true },
];

export interface Core {
  readonly barrier: Barrier;
  readonly seal: SealController;
  readonly pipeline: Pipeline;
  readonly tokens: TokenStore;
  readonly secrets: MountTable;
  readonly auth: MountTable;
  readonly leases: ExpirationManager;
  readonly scheduler: Scheduler;
  readonly cluster: ClusterInfo;
  /** Rate-limit quotas: the HTTP layer's gate before routing. */
  readonly quotas: QuotaStore;
  close(): Promise<void>;
}

/**
 * Wires the services together, once, at start-up. Each service gets only what it needs;
 * nothing holds a pointer back to this function's result.
 */
export async function createCore(options: CoreOptions): Promise<Core> {
  const { storage, logger } = options;
  const barrier = new Barrier(storage, {
    ...(options.rotationThreshold === undefined ? {} : { rotationThreshold: options.rotationThreshold }),
    ...(options.cacheEntries === undefined ? {} : { cacheEntries: options.cacheEntries }),
  });
  const cluster = new ClusterInfo(barrier);
  const systemTtl = { defaultLeaseTtl: options.defaultLeaseTtl, maxLeaseTtl: options.maxLeaseTtl };
  const tokens = new TokenStore(new PrefixView(barrier, 'sys/token/'));
  // Entities and groups (sys/identity/ in the barrier); aliases name auth mounts by accessor.
  const identity: IdentityStore = new IdentityStore({
    storage: new PrefixView(barrier, 'sys/identity/'),
    mounts: {
      byAccessor: (accessor: string): AuthMountInfo | undefined => {
        const entry = auth.list().find((e) => e.accessor === accessor);
        return entry && { path: `auth/${entry.path}`, type: entry.type, local: entry.local };
      },
    },
  });
  // The HA seam: periodic work and lease expiry run only where this holds (later: "and active").
  const isActive = (): boolean => !barrier.sealed;
  const scheduler = new Scheduler({ storage: new PrefixView(barrier, 'sys/scheduler/'), logger, isActive });
  const passwords = new PasswordPolicies(new PrefixView(barrier, 'sys/password-policy/'));
  const quotas = new QuotaStore(new PrefixView(barrier, 'sys/quotas/'), (path) => {
    const r = path.startsWith('auth/') ? auth.resolve(path.slice(5)) : secrets.resolve(path);
    return r && { mountPath: `${path.startsWith('auth/') ? 'auth/' : ''}${r.mounted.entry.path}`, rest: r.relative };
  });
  const database = createDatabaseEngine({ generatePassword: (policy) => passwords.generate(policy), scheduler, logger });
  const issuing = (table: MountTable, path: string): IssuingMount | undefined => {
    const r = table.resolve(path);
    return r ? { info: r.mounted.info, backend: r.mounted.backend } : undefined;
  };
  const leases = new ExpirationManager({
    store: new LeaseStore(new PrefixView(barrier, 'sys/expire/')), tokens, logger, isActive,
    mountByUuid: (uuid) => {
      for (const table of [secrets, auth]) {
        const entry = table.list().find((e) => e.uuid === uuid);
        if (entry) return issuing(table, entry.path);
      }
      return undefined;
    },
    ...(options.maxLeases === undefined ? {} : { maxLeases: options.maxLeases }),
  });
  scheduler.register({ name: 'token-sweep', intervalMs: 60_000, run: async () => { await tokens.sweepExpired(); } });
  scheduler.register({ name: 'lease-tidy', intervalMs: 86_400_000, persist: true, run: async () => { await leases.tidy(); } });

  // The sys paths close over services created below; they are only read when a mount is made.
  let seal: SealController | undefined;
  const sysPaths = (): PathSpec[] => [
    ...keyPaths(barrier),
    ...sealPaths(() => (seal ? seal.seal() : Promise.resolve())),
    ...policyPaths({ policies, tokens, identity }),
    ...auditPaths(audit),
    ...lockedUserPaths(lockout),
    ...leasePaths(leases),
    ...passwordPolicyPaths(passwords),
    ...explainPaths({ authorizer, tokens, identity }),
    // <wire:sys-paths>
    ...infoPaths({ barrier, logger, server: options.info }),
    ...quotaPaths(quotas),
    ...(options.telemetry ? metricsPaths(options.telemetry) : []),
    ...mountPaths({ secrets, auth }),
    ...authMountPaths({ auth }),
    ...wrappingPaths(wrapper),
    ...internalPaths({ secrets, auth, authorizer }),
    // sys/tools/random and sys/tools/hash: the same operations transit serves.
    ...toolPaths('tools/'),
  ];
  const secretFactories = new Map<string, BackendFactory>([
    ['system', systemBackendFactory(sysPaths)],
    ['cubbyhole', cubbyholeBackendFactory],
    ['kv', kvBackendFactory()],
    ['kv-v1', kvBackendFactory('1')],
    ['kv-v2', kvBackendFactory('2')],
    ['transit', transitBackendFactory],
    ['database', database.factory],
    ['identity', identityBackendFactory(identity)],
    // <wire:secret-factories>
    ...[...(options.extraSecretFactories ?? [])].filter(([type]) => type !== 'database'),
  ]);
  // Auth methods share one login service (token + entity) and one lockout tracker (read by sys/locked-users too).
  const authConfigByPath = (mountPath: string): Readonly<Record<string, unknown>> | undefined => auth.list().find((e) => `auth/${e.path}` === mountPath)?.config;
  const lockout = new UserLockout(new PrefixView(barrier, 'sys/lockout/'), (accessor): LockoutConfig | undefined => {
    const entry = auth.list().find((e) => e.accessor === accessor);
    return entry ? lockoutConfigOf(entry.config) : undefined;
  });
  const login = new LoginService({ tokens, mountConfig: authConfigByPath, entities: () => identity }); // <wire:entity-resolver>
  const jwtMethod = jwtBackendFactory({ login });
  const authFactories = new Map<string, BackendFactory>([
    // The authorizer is built below; the token paths only ask for it while handling requests.
    ['token', tokenBackendFactory({
      tokens, authorizer: () => authorizer,
      resolveEntityAlias: async (alias): Promise<string> => (await identity.resolveAlias({ ...alias, metadata: {} })).entityId,
      identityPolicies: (entityId): string[] => identity.identityPolicies(entityId),
    })], // <wire:token-backend>
    ['userpass', userpassBackendFactory({ login, lockout })],
    ['approle', approleBackendFactory({ login, lockout })],
    ['jwt', jwtMethod('jwt')],
    ['oidc', jwtMethod('oidc')],
    // <wire:auth-factories>
  ]);
  const secrets = new MountTable('secret', barrier, secretFactories, systemTtl);
  const auth = new MountTable('auth', barrier, authFactories, systemTtl);
  // A token's cubbyhole goes with it.
  tokens.onRevoke(async (entry) => {
    const cubbyhole = secrets.get('cubbyhole/');
    if (cubbyhole) await purgeCubbyhole(new PrefixView(barrier, `logical/${cubbyhole.uuid}/`), entry.id);
  });
  // A token's leases go with it; a mount's leases go before it (a failure stops the unmount).
  tokens.onRevoke(async (entry) => { await leases.revokeByToken(entry.id); });
  for (const table of [secrets, auth]) {
    table.onUnmount(async (fullPath) => {
      const { failed } = await leases.revokePrefix(fullPath);
      if (failed.length > 0) throw invalid(`failed to revoke ${failed.length} lease(s) of ${fullPath}; see sys/leases/lookup, or revoke-force them`);
      await quotas.deleteForMount(fullPath);
    });
  }

  const ensureBuiltins = async (): Promise<void> => {
    for (const m of BUILTIN_SECRET_MOUNTS) if (!secrets.get(m.path)) await secrets.mount(m);
    for (const m of BUILTIN_AUTH_MOUNTS) if (!auth.get(m.path)) await auth.mount(m);
  };

  /** What every opening of the barrier loads, at init and at each unseal, in dependency order. */
  const loadServices = async (): Promise<void> => {
    await cluster.load();
    await recordVersion(barrier); // sys/version-history: a version's first init or unseal, kept in core/versions/ as Vault does
    await tokens.load();
    await policies.load();
    await audit.load();
    await identity.load();
    // <wire:load-on-unseal>
    await secrets.load();
    await auth.load();
    await ensureBuiltins();
    await quotas.load(); // after the mounts: quotas name them
  };

  seal = new SealController(storage, barrier, {
    initialize: async ({ rootToken }) => {
      await loadServices();
      const { token } = await tokens.create({
        ...(rootToken === undefined ? {} : { token: rootToken }), parentId: null, policies: ['root'], displayName: 'root', ttl: 0, path: 'auth/token/root',
      });
      return { rootToken: token };
    },
    createRootToken: async () => (await tokens.create({ parentId: null, policies: ['root'], displayName: 'root', ttl: 0, path: 'auth/token/root' })).token,
    unsealed: async () => {
      await loadServices();
      leases.start(); // loads behind serving: returns at once
      await scheduler.start();
      logger.info('unsealed');
    },
    sealing: async () => {
      cluster.unload();
      await scheduler.stop();
      await leases.stop();
      secrets.unload();
      auth.unload();
      tokens.unload();
      policies.unload();
      await audit.unload();
      await database.closeAll();
      identity.unload();
      quotas.unload();
      // <wire:unload-on-seal>
      logger.info('sealing');
    },
  });
  await seal.load();

  // Declared here but used by the hooks and sys paths above: they only run after createCore returns.
  const policies = new PolicyStore(new PrefixView(barrier, 'sys/policy/'));
  const authorizer: Authorizer = policies; // <wire:authorizer>
  const telemetry = options.telemetry;
  const audit = new AuditBroker({
    storage: barrier, logger, mountOf: mountResolver({ secrets, auth }),
    ...(telemetry ? { onLogged: (kind: 'request' | 'response', failed: boolean) => telemetry.auditLogged(kind, failed) } : {}),
  }); // <wire:audit>
  const wrapper = new ResponseWrapper({ tokens, storage: new PrefixView(barrier, 'sys/wrapping/') });
  const stages: ResponseStage[] = [
    leaseStage({ leases, tokens, logger, mountOf: (path) => (path.startsWith('auth/') ? issuing(auth, path.slice(5)) : issuing(secrets, path)) }),
    // <wire:response-stages>
    wrapper.stage(), // keep last: it wraps what the stages before it made (leases included)
  ];
  const sealRef = seal;
  const pipeline = new Pipeline({
    isUnsealed: () => sealRef.state.kind === 'unsealed',
    secrets, auth, tokens, authorizer, audit, stages,
    isRootToken: (entry) => entry.policies.includes('root'),
    identity,
  });

  return {
    barrier, seal, pipeline, tokens, secrets, auth, leases, scheduler, cluster, quotas,
    close: async () => {
      await sealRef.seal();
      await storage.close();
    },
  };
}
