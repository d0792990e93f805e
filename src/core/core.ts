import { Barrier } from '../barrier/index.js';
import { AuditBroker } from '../audit/broker.js';
import { mountResolver } from '../audit/mount-ref.js';
import { auditPaths } from '../engines/sys/paths-audit.js';
import { tokenBackendFactory } from '../auth/token/index.js';
import { systemBackendFactory } from '../engines/sys/index.js';
import { keyPaths } from '../engines/sys/paths-keys.js';
import { sealPaths } from '../engines/sys/paths-seal.js';
import { authMountPaths } from '../engines/sys/paths-auth-mounts.js';
import { internalPaths } from '../engines/sys/paths-internal.js';
import { mountPaths } from '../engines/sys/paths-mounts.js';
import { wrappingPaths } from '../engines/sys/paths-wrapping.js';
import { policyPaths } from '../engines/sys/paths-policy.js';
import { cubbyholeBackendFactory, purgeCubbyhole } from '../engines/cubbyhole/index.js';
import { kvBackendFactory } from '../engines/kv/index.js';
import { transitBackendFactory } from '../engines/transit/index.js';
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
}

/** Mounts every server has; re-created on unseal if missing (e.g. after an upgrade). */
const BUILTIN_SECRET_MOUNTS: MountRequest[] = [
  { path: 'sys/', type: 'system', description: 'system endpoints used for control, policy and debugging', builtin: true },
  { path: 'cubbyhole/', type: 'cubbyhole', description: 'per-token private secret storage', local: true, builtin: true },
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
  close(): Promise<void>;
}

/**
 * Wires the services together, once, at start-up. Each service gets only what it needs;
 * nothing holds a pointer back to this function's result.
 */
export async function createCore(options: CoreOptions): Promise<Core> {
  const { storage, logger } = options;
  const barrier = new Barrier(storage, options.rotationThreshold === undefined ? {} : { rotationThreshold: options.rotationThreshold });
  const systemTtl = { defaultLeaseTtl: options.defaultLeaseTtl, maxLeaseTtl: options.maxLeaseTtl };
  const tokens = new TokenStore(new PrefixView(barrier, 'sys/token/'));

  // The sys paths close over services created below; they are only read when a mount is made.
  let seal: SealController | undefined;
  const sysPaths = (): PathSpec[] => [
    ...keyPaths(barrier),
    ...sealPaths(() => (seal ? seal.seal() : Promise.resolve())),
    ...policyPaths({ policies, tokens }),
    ...auditPaths(audit),
    // <wire:sys-paths>
    ...mountPaths({ secrets, auth }),
    ...authMountPaths({ auth }),
    ...wrappingPaths(wrapper),
    ...internalPaths({ secrets, auth, authorizer }),
  ];
  const secretFactories = new Map<string, BackendFactory>([
    ['system', systemBackendFactory(sysPaths)],
    ['cubbyhole', cubbyholeBackendFactory],
    ['kv', kvBackendFactory()],
    ['kv-v1', kvBackendFactory('1')],
    ['kv-v2', kvBackendFactory('2')],
    ['transit', transitBackendFactory],
    // <wire:secret-factories>
  ]);
  const authFactories = new Map<string, BackendFactory>([
    // The authorizer is built below; the token paths only ask for it while handling requests.
    ['token', tokenBackendFactory({ tokens, authorizer: () => authorizer })], // <wire:token-backend>
    // <wire:auth-factories>
  ]);
  const secrets = new MountTable('secret', barrier, secretFactories, systemTtl);
  const auth = new MountTable('auth', barrier, authFactories, systemTtl);
  // A token's cubbyhole goes with it.
  tokens.onRevoke(async (entry) => {
    const cubbyhole = secrets.get('cubbyhole/');
    if (cubbyhole) await purgeCubbyhole(new PrefixView(barrier, `logical/${cubbyhole.uuid}/`), entry.id);
  });

  const ensureBuiltins = async (): Promise<void> => {
    for (const m of BUILTIN_SECRET_MOUNTS) if (!secrets.get(m.path)) await secrets.mount(m);
    for (const m of BUILTIN_AUTH_MOUNTS) if (!auth.get(m.path)) await auth.mount(m);
  };

  seal = new SealController(storage, barrier, {
    initialize: async ({ rootToken }) => {
      await tokens.load();
      await policies.load();
      await audit.load();
      // <wire:load-on-init>
      await secrets.load();
      await auth.load();
      await ensureBuiltins();
      const { token } = await tokens.create({
        ...(rootToken === undefined ? {} : { token: rootToken }), parentId: null, policies: ['root'], displayName: 'root', ttl: 0, path: 'auth/token/root',
      });
      return { rootToken: token };
    },
    unsealed: async () => {
      await tokens.load();
      await policies.load();
      await audit.load();
      // <wire:load-on-unseal>
      await secrets.load();
      await auth.load();
      await ensureBuiltins();
      logger.info('unsealed');
    },
    sealing: async () => {
      secrets.unload();
      auth.unload();
      tokens.unload();
      policies.unload();
      await audit.unload();
      // <wire:unload-on-seal>
      logger.info('sealing');
    },
  });
  await seal.load();

  // Declared here but used by the hooks and sys paths above: they only run after createCore returns.
  const policies = new PolicyStore(new PrefixView(barrier, 'sys/policy/'));
  const authorizer: Authorizer = policies; // <wire:authorizer>
  const audit = new AuditBroker({ storage: barrier, logger, mountOf: mountResolver({ secrets, auth }) }); // <wire:audit>
  const wrapper = new ResponseWrapper({ tokens, storage: new PrefixView(barrier, 'sys/wrapping/') });
  const stages: ResponseStage[] = [
    // <wire:response-stages>
    wrapper.stage(), // keep last: it wraps what the stages before it made (leases included)
  ];
  const sealRef = seal;
  const pipeline = new Pipeline({
    isUnsealed: () => sealRef.state.kind === 'unsealed',
    secrets, auth, tokens, authorizer, audit, stages,
    isRootToken: (entry) => entry.policies.includes('root'),
  });

  return {
    barrier, seal, pipeline, tokens, secrets, auth,
    close: async () => {
      await sealRef.seal();
      await storage.close();
    },
  };
}
