import * as z from 'zod';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { invalid } from '../../util/errors.js';

/** Records of the database engine, inside its mount's barrier view. Passwords live only here. */

export const configSchema = z.object({
  plugin_name: z.string(),
  connection_details: z.object({
    connection_url: z.string(),
    username: z.string(),
    password: z.string(),
    max_open_connections: z.number(),
    max_idle_connections: z.number(),
    max_connection_lifetime: z.number(),
  }),
  allowed_roles: z.array(z.string()),
  root_rotation_statements: z.array(z.string()),
  password_policy: z.string(),
  username_template: z.string(),
  verify_connection: z.boolean(),
});
export type DbConfig = z.infer<typeof configSchema>;

export const roleSchema = z.object({
  db_name: z.string(),
  creation_statements: z.array(z.string()),
  revocation_statements: z.array(z.string()),
  rollback_statements: z.array(z.string()),
  renew_statements: z.array(z.string()),
  default_ttl: z.number(),
  max_ttl: z.number(),
});
export type DbRole = z.infer<typeof roleSchema>;

const credential = z.object({ username: z.string(), password: z.string(), rotated_at: z.number() });
export type StaticCredential = z.infer<typeof credential>;

export const staticRoleSchema = z.object({
  db_name: z.string(),
  username: z.string(),
  /** The second account of the alternating strategy. */
  username_b: z.string(),
  rotation_strategy: z.enum(['single', 'alternating']),
  /** Seconds; 0 when a schedule is used. */
  rotation_period: z.number(),
  rotation_schedule: z.string(),
  /** Seconds after a scheduled time in which a late rotation may still happen; 0 = any time. */
  rotation_window: z.number(),
  rotation_statements: z.array(z.string()),
  state: z.object({
    current: credential.nullable(),
    /** Alternating: the other account, valid until the next rotation. */
    previous: credential.nullable(),
    /**
     * A rotation under way: `pending` once its password is chosen (and perhaps set), `tested`
     * once a login with it worked. Kept on failure, with the error, and retried with the same
     * password so a crash in between never loses a password that the database already has.
     */
    pending: credential.extend({ stage: z.enum(['pending', 'tested']), attempts: z.number(), error: z.string().nullable() }).nullable(),
    last_vault_rotation: z.number().nullable(),
    next_rotation: z.number().nullable(),
  }),
});
export type StaticRole = z.infer<typeof staticRoleSchema>;

/** Vault's name rule for connections and roles (word characters, '-', '.'). */
export function checkName(name: string | undefined, what: string): string {
  if (name === undefined || !/^\w(?:[\w.-]{0,126}\w)?$/.test(name)) throw invalid(`invalid ${what} name`);
  return name;
}

async function read<T>(storage: Storage, key: string, schema: z.ZodType<T>): Promise<T | undefined> {
  const raw = await getJson(storage, key);
  return raw === undefined ? undefined : schema.parse(raw);
}

export const configKey = (name: string): string => `config/${name}`;
export const roleKey = (name: string): string => `role/${name}`;
export const staticKey = (name: string): string => `static-role/${name}`;

export const readConfig = (s: Storage, name: string): Promise<DbConfig | undefined> => read(s, configKey(name), configSchema);
export const readRole = (s: Storage, name: string): Promise<DbRole | undefined> => read(s, roleKey(name), roleSchema);
export const readStatic = (s: Storage, name: string): Promise<StaticRole | undefined> => read(s, staticKey(name), staticRoleSchema);
export const writeConfig = (s: Storage, name: string, c: DbConfig): Promise<void> => putJson(s, configKey(name), c);
export const writeRole = (s: Storage, name: string, r: DbRole): Promise<void> => putJson(s, roleKey(name), r);
export const writeStatic = (s: Storage, name: string, r: StaticRole): Promise<void> => putJson(s, staticKey(name), r);

export async function listKeys(s: Storage, folder: string): Promise<string[]> {
  return (await s.list(folder)).filter((k) => !k.endsWith('/'));
}
