import type { Backend, BackendFactory } from '../../core/framework.js';
import type { Scheduler } from '../../core/scheduler.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import type { Logger } from '../../util/logger.js';
import { ConnectionPools, type Env } from './engine.js';
import { configPaths } from './paths-config.js';
import { credentialHandlers, rolePaths } from './paths-roles.js';
import { staticPaths } from './paths-static.js';
import { RotationQueue } from './rotation.js';

export interface DatabaseDeps {
  readonly generatePassword: (policy?: string) => Promise<string>;
  readonly scheduler: Pick<Scheduler, 'register' | 'unregister'>;
  readonly logger: Logger;
}

export interface DatabaseEngine {
  readonly factory: BackendFactory;
  /** Closes every connection pool (on seal). */
  closeAll(): Promise<void>;
}

/** How often each database mount looks for static roles that are due (Vault ticks every 5 s). */
const ROTATION_TICK_MS = 1000;

/**
 * The database secrets engine (`database`): dynamic users under leases, static roles with
 * scheduled rotation (single or alternating), for PostgreSQL (`pg`) and MySQL/MariaDB
 * (`mysql2`). Pools and locks live here, beside the factory, so they outlive backend instances
 * (a tune or an unseal makes new ones).
 */
export function createDatabaseEngine(deps: DatabaseDeps): DatabaseEngine {
  const pools = new ConnectionPools();
  const locks = new Map<string, KeyedLock>();
  const factory: BackendFactory = ({ mount, storage }): Backend => {
    const lock = locks.get(mount.uuid) ?? new KeyedLock();
    locks.set(mount.uuid, lock);
    const queue = new RotationQueue(() => env);
    const env: Env = {
      storage, mount, pools, lock, logger: deps.logger, generatePassword: deps.generatePassword,
      scheduleRotation: (role, at) => queue.set(role, at),
    };
    const jobName = `database-rotations/${mount.uuid}`;
    deps.scheduler.register({ name: jobName, intervalMs: ROTATION_TICK_MS, run: () => queue.tick() });
    return {
      type: 'database',
      paths: [...configPaths(env), ...rolePaths(env), ...staticPaths(env)],
      secrets: credentialHandlers(env),
      cleanup: async () => {
        deps.scheduler.unregister(jobName);
        locks.delete(mount.uuid);
        await pools.close(mount.uuid);
      },
    };
  };
  return { factory, closeAll: () => pools.closeAll() };
}
