import * as z from 'zod';
import { duration } from '../../core/fields.js';
import { definePath, type LeaseContext, type PathSpec, type SecretHandlers } from '../../core/framework.js';
import { invalid, notFound } from '../../util/errors.js';
import { connectionOf, errorText, execute, pluginFor, statements, type Env } from './engine.js';
import { formatExpiration } from './plugins/types.js';
import { checkName, listKeys, readConfig, readRole, readStatic, roleKey, staticKey, writeRole, type DbConfig, type DbRole } from './store.js';
import { renderUsernameTemplate } from './username.js';

const fields = z.object({
  db_name: z.string().optional(),
  creation_statements: statements().optional(),
  revocation_statements: statements().optional(),
  rollback_statements: statements().optional(),
  renew_statements: statements().optional(),
  default_ttl: duration().optional(),
  max_ttl: duration().optional(),
  credential_type: z.literal('password').optional(),
});

const FIELD_HELP = {
  db_name: 'The connection (config/:name) this role uses.',
  creation_statements: 'Statements that create the user: {{name}}, {{password}}, {{expiration}}.',
  revocation_statements: 'Statements that remove the user ({{name}}); default: end its sessions, revoke its grants, drop it.',
  rollback_statements: 'Statements run when creation fails.',
  renew_statements: 'Statements run on renewal ({{name}}, {{expiration}}).',
  default_ttl: 'Lease TTL of the credentials (default: the mount\'s).',
  max_ttl: 'Longest a lease may be renewed to (default: the mount\'s).',
};

/** What a dynamic credential's lease remembers (never the password). */
const internalSchema = z.object({ username: z.string(), role: z.string(), db_name: z.string() });

export function rolePaths(env: Env): PathSpec[] {
  const nameOf = (p: Readonly<Record<string, string>>): string => checkName(p['name'], 'role');
  return [
    definePath({
      pattern: 'roles',
      help: 'Lists the dynamic roles.',
      operations: {
        list: async () => {
          const keys = await listKeys(env.storage, 'role/');
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      },
    }),
    definePath({
      pattern: 'roles/:name',
      help: 'A dynamic role: the statements that create, revoke, renew and roll back a user, and the lease TTLs.',
      fields,
      fieldHelp: FIELD_HELP,
      exists: async (ctx) => (await env.storage.get(roleKey(nameOf(ctx.params)))) !== undefined,
      operations: {
        read: async (ctx) => {
          const role = await readRole(env.storage, nameOf(ctx.params));
          if (!role) throw notFound();
          return { data: { ...role, credential_type: 'password' } };
        },
        create: (ctx) => writeRoleFrom(env, nameOf(ctx.params), ctx.data, undefined),
        update: async (ctx) => {
          const name = nameOf(ctx.params);
          return writeRoleFrom(env, name, ctx.data, await readRole(env.storage, name));
        },
        delete: async (ctx) => {
          await env.storage.delete(roleKey(nameOf(ctx.params)));
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'creds/:name',
      help: 'Creates a database user for the role and returns its username and password under a lease.',
      operations: {
        read: async (ctx) => {
          const name = nameOf(ctx.params);
          const role = await readRole(env.storage, name);
          if (!role) throw invalid(`unknown role: ${name}`);
          const config = await allowedConfig(env, role.db_name, name);
          const plugin = pluginFor(config.plugin_name);
          const maxTtl = role.max_ttl > 0 ? Math.min(role.max_ttl, env.mount.maxLeaseTtl) : env.mount.maxLeaseTtl;
          const ttl = Math.min(role.default_ttl > 0 ? role.default_ttl : env.mount.defaultLeaseTtl, maxTtl);
          const template = config.username_template || plugin.defaultUsernameTemplate;
          let username = renderUsernameTemplate(template, { DisplayName: ctx.caller?.displayName ?? 'token', RoleName: name });
          if (config.username_template === '') username = username.slice(0, plugin.maxUsernameLength);
          if (username.length === 0 || username.length > plugin.maxUsernameLength) throw invalid(`the username template made a name of ${username.length} characters; ${plugin.maxUsernameLength} is the most`);
          const password = await env.generatePassword(config.password_policy);
          const values = { name: username, username, password, expiration: formatExpiration(Date.now() + ttl * 1000) };
          const conn = connectionOf(env, role.db_name, config);
          try {
            await execute(conn, plugin, role.creation_statements, values);
          } catch (e) {
            if (role.rollback_statements.length > 0) await execute(conn, plugin, role.rollback_statements, values).catch(() => undefined);
            throw invalid(`failed to create the database user: ${errorText(e)}`);
          }
          return {
            data: { username, password },
            lease: { ttl, renewable: true, maxTtl: role.max_ttl, internal: { username, role: name, db_name: role.db_name } },
          };
        },
      },
    }),
  ];
}

async function writeRoleFrom(env: Env, name: string, d: z.output<typeof fields>, existing: DbRole | undefined): Promise<{ noContent: true }> {
  if (await env.storage.get(staticKey(name))) throw invalid('Role and Static Role names must be unique');
  const role: DbRole = {
    db_name: d.db_name ?? existing?.db_name ?? '',
    creation_statements: d.creation_statements ?? existing?.creation_statements ?? [],
    revocation_statements: d.revocation_statements ?? existing?.revocation_statements ?? [],
    rollback_statements: d.rollback_statements ?? existing?.rollback_statements ?? [],
    renew_statements: d.renew_statements ?? existing?.renew_statements ?? [],
    default_ttl: d.default_ttl ?? existing?.default_ttl ?? 0,
    max_ttl: d.max_ttl ?? existing?.max_ttl ?? 0,
  };
  if (role.db_name === '') throw invalid('database name is required');
  if (role.creation_statements.length === 0) throw invalid('creation_statements are required');
  if (role.max_ttl > 0 && role.default_ttl > role.max_ttl) throw invalid('default_ttl cannot be greater than max_ttl');
  await writeRole(env.storage, name, role);
  return { noContent: true };
}

/** The role's connection, if it exists and lets the role use it. */
export async function allowedConfig(env: Env, dbName: string, roleName: string): Promise<DbConfig> {
  const config = await readConfig(env.storage, dbName);
  if (!config) throw invalid(`database connection "${dbName}" does not exist`);
  if (!config.allowed_roles.includes('*') && !config.allowed_roles.includes(roleName)) throw invalid(`"${roleName}" is not an allowed role`);
  return config;
}

/** Renewal and revocation of the users `creds/:name` made; the role is read at that time, as Vault. */
export function credentialHandlers(env: Env): SecretHandlers {
  const target = async (ctx: LeaseContext) => {
    const internal = internalSchema.parse(ctx.internal);
    const config = await readConfig(env.storage, internal.db_name);
    if (!config) throw new Error(`database connection "${internal.db_name}" does not exist`);
    // A static role of the same name never owns a dynamic user; only the dynamic role's statements apply.
    const role = (await readStatic(env.storage, internal.role)) ? undefined : await readRole(env.storage, internal.role);
    return { internal, config, role, plugin: pluginFor(config.plugin_name), conn: connectionOf(env, internal.db_name, config) };
  };
  return {
    revoke: async (ctx) => {
      const { internal, role, plugin, conn } = await target(ctx);
      if (role && role.revocation_statements.length > 0) await execute(conn, plugin, role.revocation_statements, { name: internal.username, username: internal.username });
      else await conn.dropUser(internal.username);
    },
    renew: async (ctx) => {
      const { internal, role, plugin, conn } = await target(ctx);
      const expiration = formatExpiration(ctx.expireTime);
      try {
        if (role && role.renew_statements.length > 0) await execute(conn, plugin, role.renew_statements, { name: internal.username, username: internal.username, expiration });
        else await conn.renewUser(internal.username, expiration);
      } catch (e) {
        throw invalid(`failed to renew the database user: ${errorText(e)}`);
      }
    },
  };
}
