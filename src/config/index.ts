/**
 * Coffer's server config: Vault-shaped HCL or JSON (see docs/configuration.md).
 *
 *   const config = await loadConfigFile('/etc/coffer/coffer.hcl');
 *
 * `parseConfig` is asynchronous (it checks that TLS certificate and key files are readable).
 * Every problem is a `ConfigError` whose message names the file, the line when known, and the key.
 */
import { tryParseDuration } from '../util/duration.js';
import { ConfigError } from './schema.js';

export { loadConfigFile, parseConfig } from './load.js';
export {
  ConfigError,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_LEASE_TTL_SECONDS,
  DEFAULT_LISTENER_ADDRESS,
  DEFAULT_POSTGRESQL_MAX_PARALLEL,
  DEFAULT_POSTGRESQL_TABLE,
} from './schema.js';
export type { ListenerConfig, LogLevel, ServerConfig, StorageConfig, TelemetryConfig, TlsConfig } from './schema.js';

/**
 * A Vault duration in whole seconds: a bare integer (or string of digits) is seconds, `"7d"` is
 * days, anything else is a Go duration (`"30s"`, `"5m"`, `"1h30m"`, `"768h"`, `"250ms"`; sub-second
 * parts rounded). Throws `ConfigError` on anything else, including negative values.
 */
export function parseDuration(input: string | number): number {
  const result = tryParseDuration(input);
  if ('problem' in result) throw new ConfigError(result.problem);
  return result.seconds;
}
