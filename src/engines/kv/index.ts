import type { Backend, BackendFactory, MountEnv } from '../../core/framework.js';
import { invalid } from '../../util/errors.js';
import { configPaths } from './paths-config.js';
import { dataPaths } from './paths-data.js';
import { metadataPaths } from './paths-metadata.js';
import { subkeysPaths } from './paths-subkeys.js';
import { versionPaths } from './paths-versions.js';
import { KvStore } from './store.js';
import { afterReady, upgradeFromV1 } from './upgrade.js';
import { kvV1Backend } from './v1.js';

/**
 * The `kv` secrets engine. The mount option `version` picks the flavour: "2" is versioned
 * KV, "1" (or no version, as in Vault) is plain KV. `forced` serves Vault's type aliases
 * `kv-v1` and `kv-v2`.
 */
export function kvBackendFactory(forced?: '1' | '2'): BackendFactory {
  return (env: MountEnv): Backend => {
    const version = forced ?? env.mount.options['version'] ?? '1';
    if (version === '2') return kvV2Backend(env);
    if (version === '1' || version === '') return kvV1Backend(env);
    throw invalid(`kv version ${JSON.stringify(version)} is not supported; use "1" or "2"`);
  };
}

function kvV2Backend(env: MountEnv): Backend {
  const store = new KvStore(env.storage);
  // Runs once per mount instance, before the first request; a failure is retried by the next one.
  let upgrading: Promise<void> | undefined;
  const ready = (): Promise<void> => (upgrading ??= upgradeFromV1(env.storage, store).catch((e: unknown) => {
    upgrading = undefined;
    throw e;
  }));
  return {
    type: 'kv',
    skipsAclParameterChecks: true,
    paths: afterReady([
      ...configPaths(store),
      ...dataPaths(store),
      ...metadataPaths(store),
      ...versionPaths(store),
      ...subkeysPaths(store),
    ], ready),
  };
}
