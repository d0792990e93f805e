import { Barrier } from '../barrier/index.js';
import { systemBackendFactory } from '../engines/sys/index.js';
import { keyPaths } from '../engines/sys/paths-keys.js';
import { sealPaths } from '../engines/sys/paths-seal.js';
import type { Storage } from '../storage/types.js';
import { PrefixView } from '../storage/view.js';
import type { Logger } from '../util/logger.js';
import { ROOT_ACL, type Acl, type Authorizer } from './acl/types.js';
import type { BackendFactory, PathSpec } from './framework.js';
import { MountTable, type MountRequest } from './mounts.js';
import { Pipeline, type AuditSink, type ResponseStage } from './pipeline.js';
import { SealController } from './seal.js';
import { TokenStore } from './tokens/store.js';

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
  // <wire:builtin-secret-mounts>
];
const BUILTIN_AUTH_MOUNTS: MountRequest[] = [
  { path: 'token/', type: 'token', description: 'token based credentials', builtin: true },
];

const DENY_ALL: Acl = { isRoot: false, check: () => ({ allowed: false, sudo: false, capabilities: ['deny'] }), capabilities: () => ['deny'] };

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
    // <wire:sys-paths>
  ];
  const secretFactories = new Map<string, BackendFactory>([
    ['system', systemBackendFactory(sysPaths)],
    // <wire:secret-factories>
  ]);
  const authFactories = new Map<string, BackendFactory>([
    ['token', () => ({ type: 'token', paths: [] })], // <wire:token-backend>
    // <wire:auth-factories>
  ]);
  const secrets = new MountTable('secret', barrier, secretFactories, systemTtl);
  const auth = new MountTable('auth', barrier, authFactories, systemTtl);

  const ensureBuiltins = async (): Promise<void> => {
    for (const m of BUILTIN_SECRET_MOUNTS) if (!secrets.get(m.path)) await secrets.mount(m);
    for (const m of BUILTIN_AUTH_MOUNTS) if (!auth.get(m.path)) await auth.mount(m);
  };

  seal = new SealController(storage, barrier, {
    initialize: async ({ rootToken }) => {
      await tokens.load();
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
      // <wire:unload-on-seal>
      logger.info('sealing');
    },
  });
  await seal.load();

  const authorizer: Authorizer = { aclFor: async (names) => (names.includes('root') ? ROOT_ACL : DENY_ALL) }; // <wire:authorizer>
  const audit: AuditSink = { logRequest: async () => {}, logResponse: async () => {} }; // <wire:audit>
  const stages: ResponseStage[] = [
    // <wire:response-stages>
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
