import mysql from 'mysql2/promise';
import { invalid } from '../../../util/errors.js';
import { render } from '../sql.js';
import { fillUrl, scrub, type ConnectionDetails, type DbConnection, type DbPlugin, type Endpoint } from './types.js';

const CONNECT_TIMEOUT_MS = 10_000;
/** A statement waiting on a lock (or a stuck server) fails the request instead of holding it forever. */
const QUERY_TIMEOUT_MS = 30_000;
const timed = (sql: string): mysql.QueryOptions => ({ sql, timeout: QUERY_TIMEOUT_MS });

export const mysqlPlugin: DbPlugin = {
  name: 'mysql-database-plugin',
  dialect: 'mysql',
  defaultUsernameTemplate: 'v-{{.DisplayName | truncate 8}}-{{.RoleName | truncate 8}}-{{random 10}}',
  maxUsernameLength: 32,
  endpoint: (details) => parseDsn(fillUrl(details.connection_url, details), details),
  connect: (details) => new MysqlConnection(details),
};

/**
 * Vault's Go driver DSN (`user:pass@tcp(host:3306)/db?tls=...`) or a `mysql://` URL. Only TCP:
 * a unix socket path or another protocol is refused.
 */
function parseDsn(dsn: string, details: ConnectionDetails): Endpoint {
  if (dsn.startsWith('mysql://')) {
    let u: URL;
    try { u = new URL(dsn); } catch { throw invalid('connection_url is not a valid mysql:// URL'); }
    if (u.hostname === '') throw invalid('connection_url needs a host');
    return {
      host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? 3306 : Number(u.port), database: decodeURIComponent(u.pathname.replace(/^\//, '')),
      user: u.username === '' ? details.username : decodeURIComponent(u.username), password: u.password === '' ? details.password : decodeURIComponent(u.password),
      ssl: ['true', 'skip-verify', 'preferred'].includes(u.searchParams.get('tls') ?? ''),
    };
  }
  const at = dsn.lastIndexOf('@');
  const cred = at < 0 ? '' : dsn.slice(0, at);
  const rest = at < 0 ? dsn : dsn.slice(at + 1);
  const m = /^tcp\(([^)]*)\)\/([^?]*)(?:\?(.*))?$/.exec(rest);
  if (!m) throw invalid('connection_url must look like {{username}}:{{password}}@tcp(host:3306)/ or mysql://host:3306/');
  const [hostPart, params] = [m[1]!, new URLSearchParams(m[3] ?? '')];
  const colon = hostPart.lastIndexOf(':');
  const host = (colon < 0 ? hostPart : hostPart.slice(0, colon)).replace(/^\[|\]$/g, '');
  if (host === '') throw invalid('connection_url needs a host');
  const c = cred.indexOf(':');
  const user = c < 0 ? cred : cred.slice(0, c);
  const password = c < 0 ? '' : cred.slice(c + 1);
  return {
    host, port: colon < 0 ? 3306 : Number(hostPart.slice(colon + 1)), database: decodeURIComponent(m[2]!),
    user: user === '' ? details.username : decodeURIComponent(user), password: password === '' ? details.password : decodeURIComponent(password),
    ssl: ['true', 'skip-verify', 'preferred'].includes(params.get('tls') ?? ''),
  };
}

class MysqlConnection implements DbConnection {
  readonly #pool: mysql.Pool;
  readonly #endpoint: Endpoint;
  readonly #secrets: string[];

  constructor(details: ConnectionDetails) {
    this.#endpoint = mysqlPlugin.endpoint(details);
    this.#secrets = [details.password];
    this.#pool = mysql.createPool({
      ...this.#options(this.#endpoint.user, this.#endpoint.password),
      connectionLimit: details.max_open_connections > 0 ? details.max_open_connections : 4,
      maxIdle: details.max_idle_connections > 0 ? details.max_idle_connections : 2,
      idleTimeout: 10_000,
    });
  }

  #options(user: string, password: string): mysql.ConnectionOptions {
    const e = this.#endpoint;
    // multipleStatements stays off: one statement per call, whatever a value holds (T11).
    return { host: e.host, port: e.port, user, password, ...(e.database ? { database: e.database } : {}), connectTimeout: CONNECT_TIMEOUT_MS, multipleStatements: false, ...(e.ssl ? { ssl: {} } : {}) };
  }

  async verify(): Promise<void> {
    await this.#with(async (c) => { await c.query(timed('SELECT 1')); });
  }

  // MySQL commits DDL implicitly: statements run one by one on one connection.
  async run(statements: readonly string[], secrets: readonly string[] = []): Promise<void> {
    await this.#with(async (c) => { for (const s of statements) await c.query(timed(s)); }, secrets);
  }

  async dropUser(username: string): Promise<void> {
    await this.#with(async (c) => {
      const [sessions] = await c.query<mysql.RowDataPacket[]>(timed(render('SELECT ID FROM information_schema.PROCESSLIST WHERE USER = {{name}} AND ID <> CONNECTION_ID()', { name: username }, 'mysql')));
      for (const row of sessions) await c.query(timed('KILL ?'), [Number(row['ID'])]).catch(() => undefined);
      for (const host of await this.#hosts(c, username)) await c.query(timed(render('DROP USER IF EXISTS {{name}}@{{host}}', { name: username, host }, 'mysql')));
    });
  }

  async setPassword(username: string, password: string): Promise<void> {
    await this.#with(async (c) => {
      const hosts = await this.#hosts(c, username);
      if (hosts.length === 0) throw new Error(`user "${username}" does not exist`);
      for (const host of hosts) await c.query(timed(render('ALTER USER {{name}}@{{host}} IDENTIFIED BY {{password}}', { name: username, host, password }, 'mysql')));
    }, [password]);
  }

  async renewUser(): Promise<void> {
    // MySQL accounts have no expiry to move; the lease alone bounds them.
  }

  async tryLogin(username: string, password: string): Promise<void> {
    try {
      const c = await mysql.createConnection(this.#options(username, password));
      try { await c.query(timed('SELECT 1')); } finally { await c.end().catch(() => undefined); }
    } catch (e) {
      throw scrub(e, [password, ...this.#secrets]);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => undefined);
  }

  async #hosts(c: mysql.PoolConnection, username: string): Promise<string[]> {
    // Values go through the same escaping as templates (quote doubling), not the driver's backslash escaping.
    const [rows] = await c.query<mysql.RowDataPacket[]>(timed(render('SELECT Host FROM mysql.user WHERE User = {{name}}', { name: username }, 'mysql')));
    return rows.map((r) => String(r['Host']));
  }

  async #with<T>(fn: (c: mysql.PoolConnection) => Promise<T>, secrets: readonly string[] = []): Promise<T> {
    let c: mysql.PoolConnection | undefined;
    try {
      c = await this.#pool.getConnection();
      return await fn(c);
    } catch (e) {
      throw scrub(e, [...secrets, ...this.#secrets]);
    } finally {
      c?.release();
    }
  }
}
