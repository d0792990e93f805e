import type { Backend, BackendFactory, MountEnv } from '../../core/framework.js';
import { KeyStore } from './keys.js';
import { cryptoPaths } from './paths-crypto.js';
import { keyPaths } from './paths-keys.js';
import { miscPaths } from './paths-misc.js';
import { signPaths } from './paths-sign.js';

export { KeyStore } from './keys.js';

export interface TransitOptions {
  /** The clock for creation times and auto-rotation (tests, and the scheduler later). */
  readonly now?: () => number;
}

/**
 * The `transit` secrets engine: encryption as a service, wire-compatible with Vault's. Key
 * material stays in the mount's storage view (inside the barrier) and never leaves Coffer
 * unless a key is made exportable.
 */
export function createTransitBackendFactory(options: TransitOptions = {}): BackendFactory {
  return (env: MountEnv): Backend => {
    const store = new KeyStore(env.storage, options.now ? { now: options.now } : {});
    return {
      type: 'transit',
      paths: [
        ...keyPaths(store, env.storage),
        ...cryptoPaths(store, env.storage),
        ...signPaths(store),
        ...miscPaths(store, env.storage),
      ],
    };
  };
}

export const transitBackendFactory: BackendFactory = createTransitBackendFactory();
