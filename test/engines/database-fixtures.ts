import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';

/**
 * A dedicated database and admin user per test file, on the machine's PostgreSQL
 * (127.0.0.1:5432, postgres, trust) and MariaDB (127.0.0.1:3306, root, no password), removed
 * when the file ends. A server that is down skips the tests, except on CI, where it fails them.
 */

export const RUN = randomBytes(3).toString('hex');

export function skipUnless(reason: string | undefined): string | false {
  if (reason === undefined) return false;
  if (process.env['CI'] === 'true') throw new Error(`database tests need the local server: ${reason}`);
  return reason;
}

/** The local PostgreSQL as the storage tests use it (the `postgres` database, trust auth). */
export const PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Why the local PostgreSQL cannot be used (for skipUnless), or undefined when it answers. */
export async function pgUnreachable(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return undefined;
  } catch (e) {
    return `PostgreSQL at 127.0.0.1:5432 is not reachable (${(e as Error).message})`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export interface PgFixture {
  readonly database: string;
  readonly admin: string;
  readonly adminPassword: string;
  /** Runs as the postgres superuser inside the test database. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  roleExists(name: string): Promise<boolean>;
  /** Whether `password` is the role's password (its SCRAM verifier): the server trusts 127.0.0.1, so logins prove nothing. */
  passwordIs(role: string, password: string): Promise<boolean>;
}

export async function pgFixture(): Promise<PgFixture | { skip: string }> {
  const base = { host: '127.0.0.1', port: 5432, user: 'postgres', connectionTimeoutMillis: 3000, statement_timeout: 30_000, lock_timeout: 30_000, query_timeout: 35_000 };
  const root = new pg.Client({ ...base, database: 'postgres' });
  try { await root.connect(); } catch (e) { return { skip: `PostgreSQL at 127.0.0.1:5432 is not reachable (${(e as Error).message})` }; }
  const database = `coffer_t_${RUN}`;
  const admin = `coffer_admin_${RUN}`;
  const adminPassword = `Adm-${randomBytes(9).toString('hex')}`;
  await root.query(`CREATE ROLE "${admin}" LOGIN CREATEROLE PASSWORD '${adminPassword}'`);
  await root.query(`GRANT pg_signal_backend TO "${admin}"`);
  await root.query(`CREATE DATABASE "${database}" OWNER "${admin}"`);
  const db = new pg.Client({ ...base, database });
  await db.connect();
  await db.query(`SET ROLE "${admin}"`);
  await db.query('CREATE TABLE canary (id int)');
  await db.query('INSERT INTO canary VALUES (1)');
  await db.query('RESET ROLE');
  after(async () => {
    await db.end().catch(() => undefined);
    await root.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
    const roles = await root.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE strpos(rolname, $1) > 0', [RUN]);
    for (const { rolname } of roles.rows) await root.query(`DROP ROLE IF EXISTS "${rolname.replace(/"/g, '""')}"`).catch(() => undefined);
    await root.end();
  });
  return {
    database, admin, adminPassword,
    query: (sql, values) => db.query(sql, values),
    roleExists: async (name) => (await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1,
    passwordIs: async (role, password) => {
      const r = await db.query<{ rolpassword: string | null }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]);
      return scramMatches(r.rows[0]?.rolpassword ?? null, password);
    },
  };
}

async function scramMatches(verifier: string | null, password: string): Promise<boolean> {
  const m = verifier === null ? null : /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) return false;
  const { pbkdf2Sync, createHmac, createHash } = await import('node:crypto');
  const salted = pbkdf2Sync(password.normalize('NFKC'), Buffer.from(m[2]!, 'base64'), Number(m[1]), 32, 'sha256');
  const stored = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest('base64');
  return stored === m[3];
}

export interface MysqlFixture {
  readonly database: string;
  readonly admin: string;
  readonly adminPassword: string;
  query<T = mysql.RowDataPacket[]>(sql: string, values?: unknown[]): Promise<T>;
  userExists(name: string): Promise<boolean>;
  /** Connects as `user` with `password` (MariaDB checks it); resolves to the error message, or undefined on success. */
  login(user: string, password: string): Promise<string | undefined>;
}

export async function mysqlFixture(): Promise<MysqlFixture | { skip: string }> {
  let root: mysql.Connection;
  try {
    root = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', connectTimeout: 3000 });
  } catch (e) {
    return { skip: `MariaDB at 127.0.0.1:3306 is not reachable (${(e as Error).message})` };
  }
  const database = `coffer_t_${RUN}`;
  const admin = `coffer_admin_${RUN}`;
  const adminPassword = `Adm-${randomBytes(9).toString('hex')}`;
  await root.query(`CREATE DATABASE \`${database}\``);
  await root.query(`CREATE USER '${admin}'@'%' IDENTIFIED BY '${adminPassword}'`);
  await root.query(`GRANT ALL PRIVILEGES ON *.* TO '${admin}'@'%' WITH GRANT OPTION`);
  await root.query(`CREATE TABLE \`${database}\`.canary (id int)`);
  await root.query(`INSERT INTO \`${database}\`.canary VALUES (1)`);
  after(async () => {
    await root.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
    const [users] = await root.query<mysql.RowDataPacket[]>('SELECT User, Host FROM mysql.user WHERE LOCATE(?, User) > 0', [RUN]);
    for (const u of users) await root.query('DROP USER IF EXISTS ?@?', [u['User'], u['Host']]).catch(() => undefined);
    await root.end();
  });
  return {
    database, admin, adminPassword,
    query: async <T>(sql: string, values?: unknown[]) => (await root.query(sql, values))[0] as T,
    userExists: async (name) => ((await root.query<mysql.RowDataPacket[]>('SELECT 1 FROM mysql.user WHERE User = ?', [name]))[0]).length > 0,
    login: async (user, password) => {
      try {
        const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user, password, database, connectTimeout: 3000 });
        await c.query('SELECT id FROM canary');
        await c.end();
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
