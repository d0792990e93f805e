import type { Dialect } from '../sql.js';

/** What a database connection config holds (Vault's `connection_details`). */
export interface ConnectionDetails {
  readonly connection_url: string;
  readonly username: string;
  readonly password: string;
  readonly max_open_connections: number;
  readonly max_idle_connections: number;
  /** Seconds; 0 = no limit. */
  readonly max_connection_lifetime: number;
}

/** Where to connect, from the connection URL with the credentials filled in. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly ssl: boolean;
}

/** A pool of connections with the engine's root credentials. */
export interface DbConnection {
  /** Opens a connection and runs a trivial query. */
  verify(): Promise<void>;
  /**
   * Runs already rendered statements in order, in one transaction where the database has them.
   * `secrets` (the passwords in them) are removed from any error message.
   */
  run(statements: readonly string[], secrets?: readonly string[]): Promise<void>;
  /** The default revocation: ends the user's sessions, removes its grants, drops it. */
  dropUser(username: string): Promise<void>;
  /** The default password change (static roles, root rotation). */
  setPassword(username: string, password: string): Promise<void>;
  /** The default renewal (Postgres: VALID UNTIL); may do nothing. */
  renewUser(username: string, expiration: string): Promise<void>;
  /** Connects as `username` with `password` in a connection of its own: the rotation check. */
  tryLogin(username: string, password: string): Promise<void>;
  close(): Promise<void>;
}

export interface DbPlugin {
  readonly name: string;
  readonly dialect: Dialect;
  /** Vault's default username template for the plugin. */
  readonly defaultUsernameTemplate: string;
  readonly maxUsernameLength: number;
  /** Parses and validates the URL (with the credentials filled in); never echoes the password. */
  endpoint(details: ConnectionDetails): Endpoint;
  connect(details: ConnectionDetails): DbConnection;
}

/** Driver errors can quote SQL (MySQL does): remove every secret before a message leaves. */
export function scrub(error: unknown, secrets: readonly string[]): Error {
  let message = error instanceof Error ? error.message : String(error);
  for (const s of secrets) if (s.length >= 4) message = message.split(s).join('[redacted]');
  return new Error(message);
}

/** `{{username}}` and `{{password}}` in a connection URL, URL-encoded. */
export function fillUrl(url: string, details: Pick<ConnectionDetails, 'username' | 'password'>): string {
  return url.replaceAll('{{username}}', encodeURIComponent(details.username)).replaceAll('{{password}}', encodeURIComponent(details.password));
}

/** `2006-01-02 15:04:05-0700` in UTC, as Vault renders {{expiration}}. */
export function formatExpiration(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '+0000');
}
