import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { MountInfo } from '../../core/framework.js';
import type { Storage } from '../../storage/types.js';
import { invalid } from '../../util/errors.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import type { Logger } from '../../util/logger.js';
import { mysqlPlugin } from './plugins/mysql.js';
import { postgresPlugin } from './plugins/postgres.js';
import type { ConnectionDetails, DbConnection, DbPlugin } from './plugins/types.js';
import { render, splitStatements } from './sql.js';
import type { DbConfig } from './store.js';

const PLUGINS: ReadonlyMap<string, DbPlugin> = new Map([
  [postgresPlugin.name, postgresPlugin],
  [mysqlPlugin.name, mysqlPlugin],
  // Vault's MySQL flavours speak the same protocol.
  ['mysql-aurora-database-plugin', mysqlPlugin],
  ['mysql-rds-database-plugin', mysqlPlugin],
]);

export function pluginFor(name: string): DbPlugin {
  const plugin = PLUGINS.get(name);
  if (!plugin) throw invalid(`unknown plugin_name "${name}": use ${[...PLUGINS.keys()].join(' or ')}`);
  return plugin;
}

/** Connection pools of every database mount, by mount uuid and connection name; outlive backend instances. */
export class ConnectionPools {
  readonly #pools = new Map<string, { fingerprint: string; conn: DbConnection }>();

  get(mountUuid: string, name: string, config: DbConfig): DbConnection {
    const key = `${mountUuid}/${name}`;
    const fingerprint = createHash('sha256').update(JSON.stringify([config.plugin_name, config.connection_details])).digest('hex');
    const existing = this.#pools.get(key);
    if (existing?.fingerprint === fingerprint) return existing.conn;
    if (existing) void existing.conn.close();
    const conn = pluginFor(config.plugin_name).connect(config.connection_details);
    this.#pools.set(key, { fingerprint, conn });
    return conn;
  }

  async close(mountUuid: string, name?: string): Promise<void> {
    for (const [key, p] of this.#pools) {
      if (name === undefined ? key.startsWith(`${mountUuid}/`) : key === `${mountUuid}/${name}`) {
        this.#pools.delete(key);
        await p.conn.close();
      }
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(all.map((p) => p.conn.close()));
  }
}

/** What the paths and the secret handlers of one database mount share. */
export interface Env {
  readonly storage: Storage;
  readonly mount: MountInfo;
  readonly pools: ConnectionPools;
  /** Per connection or role: rotations, rotate-root and updates never interleave. */
  readonly lock: KeyedLock;
  readonly generatePassword: (policy?: string) => Promise<string>;
  readonly logger: Logger;
  /** Tells the rotation queue a static role's next rotation changed (null: gone). */
  readonly scheduleRotation: (role: string, at: number | null) => void;
}

export function connectionOf(env: Env, name: string, config: DbConfig): DbConnection {
  return env.pools.get(env.mount.uuid, name, config);
}

/** Splits and renders every statement first (so a bad value fails before anything runs), then runs them. */
export async function execute(conn: DbConnection, plugin: DbPlugin, statements: readonly string[], values: Readonly<Record<string, string>>): Promise<void> {
  const rendered = splitStatements(statements, plugin.dialect).map((s) => render(s, values, plugin.dialect));
  const secrets = values['password'] === undefined ? [] : [values['password']];
  await conn.run(rendered, secrets);
}

export function detailsOf(config: DbConfig): ConnectionDetails {
  return config.connection_details;
}

/**
 * Vault's statement lists: an array, or one string that is a JSON array, base64 of either, or
 * a single (semicolon-separated) statement text. Never split on commas (SQL has them).
 */
export const statements = () => z.unknown().transform((v, ctx) => {
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return (v as string[]).filter((s) => s.trim() !== '');
  if (typeof v !== 'string') {
    ctx.addIssue({ code: 'custom', message: 'must be a list of statements or a string' });
    return z.NEVER;
  }
  let text = v.trim();
  if (text === '') return [];
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0) {
    // Only when it decodes to readable text: a one-word statement ("ROLLBACK") is valid base64 too.
    const decoded = Buffer.from(text, 'base64').toString('utf8');
    if (!/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(decoded)) text = decoded.trim();
  }
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return (parsed as string[]).filter((s) => s.trim() !== '');
    } catch { /* a statement that starts with '[' */ }
  }
  return [text];
}).meta({ type: 'array', items: { type: 'string' } });

/** Removes the password from a URL that carries one literally (read responses never show it). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)([^@]*)@/i, (_m, head: string, pw: string) => (pw === '{{password}}' ? `${head}${pw}@` : `${head}*****@`))
    .replace(/^([^:/@]*:)([^@]*)@tcp\(/, (_m, head: string, pw: string) => (pw === '{{password}}' ? `${head}${pw}@tcp(` : `${head}*****@tcp(`));
}

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
