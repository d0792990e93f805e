import pg from 'pg';
import { invalid } from '../../../util/errors.js';
import { pgIdent } from '../sql.js';
import { fillUrl, scrub, type ConnectionDetails, type DbConnection, type DbPlugin, type Endpoint } from './types.js';

const CONNECT_TIMEOUT_MS = 10_000;
/** A statement waiting on a lock (or a stuck server) fails the request instead of holding it forever. */
const STATEMENT_TIMEOUT_MS = 30_000;
const pgLiteral = (v: string): string => (v.includes('\\') ? `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'` : `'${v.replace(/'/g, "''")}'`);

/** Extended protocol: the server refuses more than one statement per call (defence in depth for T11). */
const one = (text: string): pg.QueryConfig => ({ text, queryMode: 'extended' } as pg.QueryConfig);

export const postgresPlugin: DbPlugin = {
  name: 'postgresql-database-plugin',
  dialect: 'postgres',
  defaultUsernameTemplate: 'v-{{.DisplayName | truncate 8}}-{{.RoleName | truncate 8}}-{{random 20}}-{{unix_time}}',
  maxUsernameLength: 63,
  endpoint: (details) => parseUrl(fillUrl(details.connection_url, details), details),
  connect: (details) => new PostgresConnection(details),
};

function parseUrl(url: string, details: ConnectionDetails): Endpoint {
  let u: URL;
  try { u = new URL(url); } catch { throw invalid('connection_url must be a URL such as postgresql://{{username}}:{{password}}@host:5432/db'); }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw invalid('connection_url must start with postgresql://');
  if (u.hostname === '') throw invalid('connection_url needs a host');
  const sslmode = u.searchParams.get('sslmode') ?? 'disable';
  if (!['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'].includes(sslmode)) throw invalid('connection_url: unknown sslmode');
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? 5432 : Number(u.port),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
    user: u.username === '' ? details.username : decodeURIComponent(u.username),
    password: u.password === '' ? details.password : decodeURIComponent(u.password),
    ssl: sslmode === 'require' || sslmode === 'verify-ca' || sslmode === 'verify-full',
  };
}

/**
 * One transaction, retried a few times when Postgres reports a concurrent change to the same
 * catalog row ("tuple concurrently updated": two GRANTs on one table at once), a serialization
 * failure or a deadlock. The transaction rolled back, so running it again is safe.
 */
async function transaction(c: pg.PoolClient, body: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await c.query('BEGIN');
    try {
      await body();
      await c.query('COMMIT');
      return;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      const code = (e as { code?: unknown }).code;
      const retriable = code === '40001' || code === '40P01' || (e instanceof Error && e.message.includes('tuple concurrently updated'));
      if (!retriable || attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * attempt));
    }
  }
}

class PostgresConnection implements DbConnection {
  readonly #pool: pg.Pool;
  readonly #endpoint: Endpoint;
  readonly #secrets: string[];

  constructor(details: ConnectionDetails) {
    this.#endpoint = postgresPlugin.endpoint(details);
    this.#secrets = [details.password];
    this.#pool = new pg.Pool({
      ...this.#config(this.#endpoint.user, this.#endpoint.password),
      max: details.max_open_connections > 0 ? details.max_open_connections : 4,
      idleTimeoutMillis: 10_000,
      ...(details.max_connection_lifetime > 0 ? { maxLifetimeSeconds: details.max_connection_lifetime } : {}),
    });
    // An idle client whose server went away must not crash the process.
    this.#pool.on('error', () => undefined);
  }

  #config(user: string, password: string): pg.ClientConfig {
    const e = this.#endpoint;
    return { host: e.host, port: e.port, database: e.database, user, password, ssl: e.ssl ? { rejectUnauthorized: true } : false, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, statement_timeout: STATEMENT_TIMEOUT_MS, lock_timeout: STATEMENT_TIMEOUT_MS, query_timeout: STATEMENT_TIMEOUT_MS + 5_000 };
  }

  async verify(): Promise<void> {
    await this.#withClient(async (c) => { await c.query('SELECT 1'); });
  }

  async run(statements: readonly string[], extraSecrets: readonly string[] = []): Promise<void> {
    await this.#withClient((c) => transaction(c, async () => { for (const s of statements) await c.query(one(s)); }), extraSecrets);
  }

  async dropUser(username: string): Promise<void> {
    await this.#withClient(async (c) => {
      const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username]);
      if (exists.rowCount === 0) return;
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()', [username]);
      const schemas = await c.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'");
      const who = pgIdent(username);
      await transaction(c, async () => {
        for (const { nspname } of schemas.rows) {
          const s = pgIdent(nspname);
          for (const kind of ['TABLES', 'SEQUENCES', 'FUNCTIONS']) await c.query(one(`REVOKE ALL PRIVILEGES ON ALL ${kind} IN SCHEMA ${s} FROM ${who}`));
          await c.query(one(`REVOKE USAGE ON SCHEMA ${s} FROM ${who}`));
        }
        await c.query(one(`REVOKE ALL PRIVILEGES ON DATABASE ${pgIdent(this.#endpoint.database)} FROM ${who}`));
        await c.query(one(`DROP ROLE IF EXISTS ${who}`));
      });
    });
  }

  async setPassword(username: string, password: string): Promise<void> {
    await this.#withClient(async (c) => { await c.query(one(`ALTER ROLE ${pgIdent(username)} WITH PASSWORD ${pgLiteral(password)}`)); }, [password]);
  }

  async renewUser(username: string, expiration: string): Promise<void> {
    await this.#withClient(async (c) => { await c.query(one(`ALTER ROLE ${pgIdent(username)} VALID UNTIL ${pgLiteral(expiration)}`)); });
  }

  async tryLogin(username: string, password: string): Promise<void> {
    const client = new pg.Client(this.#config(username, password));
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (e) {
      throw scrub(e, [password, ...this.#secrets]);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => undefined);
  }

  async #withClient<T>(fn: (c: pg.PoolClient) => Promise<T>, extraSecrets: readonly string[] = []): Promise<T> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.#pool.connect();
      return await fn(client);
    } catch (e) {
      throw scrub(e, [...extraSecrets, ...this.#secrets]);
    } finally {
      client?.release();
    }
  }
}
