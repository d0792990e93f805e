import * as z from 'zod';
import { bool, duration, int, strings } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import { invalid, notFound } from '../../util/errors.js';
import { connectionOf, errorText, execute, pluginFor, redactUrl, statements, type Env } from './engine.js';
import { checkUsernameTemplate } from './username.js';
import { checkName, configKey, listKeys, readConfig, writeConfig, type DbConfig } from './store.js';

const fields = z.object({
  plugin_name: z.string().optional(),
  plugin_version: z.string().optional(),
  connection_url: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  allowed_roles: strings().optional(),
  verify_connection: bool().optional(),
  root_rotation_statements: statements().optional(),
  password_policy: z.string().optional(),
  username_template: z.string().optional(),
  max_open_connections: int().optional(),
  max_idle_connections: int().optional(),
  max_connection_lifetime: duration().optional(),
});

const FIELD_HELP = {
  plugin_name: 'postgresql-database-plugin or mysql-database-plugin.',
  connection_url: 'postgresql://{{username}}:{{password}}@host:5432/db, or for MySQL {{username}}:{{password}}@tcp(host:3306)/.',
  username: 'The root user Coffer connects as.',
  password: 'The root password (write-only; rotate it with rotate-root).',
  allowed_roles: 'Roles that may use this connection; "*" for all.',
  verify_connection: 'Connect once before saving (default true).',
  root_rotation_statements: 'Statements that change the root password ({{username}}, {{password}}).',
  password_policy: 'The password policy for generated passwords (sys/policies/password).',
  username_template: 'How dynamic user names are made, e.g. v-{{.RoleName | truncate 8}}-{{random 20}}.',
  max_open_connections: 'Pool size (default 4).',
};

/** config/:name (connections), reset/:name, rotate-root/:name. */
export function configPaths(env: Env): PathSpec[] {
  const nameOf = (p: Readonly<Record<string, string>>): string => checkName(p['name'], 'connection');
  return [
    definePath({
      pattern: 'config',
      help: 'Lists the database connections.',
      operations: {
        list: async () => {
          const keys = await listKeys(env.storage, 'config/');
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      },
    }),
    definePath({
      pattern: 'config/:name',
      help: 'Configures a database connection: plugin, URL, root credentials, allowed roles, password policy, username template, pool limits.',
      fields,
      fieldHelp: FIELD_HELP,
      exists: async (ctx) => (await env.storage.get(configKey(nameOf(ctx.params)))) !== undefined,
      operations: {
        read: async (ctx) => {
          const c = await readConfig(env.storage, nameOf(ctx.params));
          if (!c) throw notFound();
          return { data: view(c) };
        },
        create: (ctx) => write(env, nameOf(ctx.params), ctx.data, undefined),
        update: async (ctx) => {
          const name = nameOf(ctx.params);
          return write(env, name, ctx.data, await readConfig(env.storage, name));
        },
        delete: async (ctx) => {
          const name = nameOf(ctx.params);
          await env.lock.run(`config/${name}`, async () => {
            await env.storage.delete(configKey(name));
            await env.pools.close(env.mount.uuid, name);
          });
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'reset/:name',
      help: 'Closes the connection pool and connects again with the stored configuration.',
      operations: {
        update: async (ctx) => {
          const name = nameOf(ctx.params);
          const c = await readConfig(env.storage, name);
          if (!c) throw invalid(`database connection "${name}" does not exist`);
          await env.pools.close(env.mount.uuid, name);
          await connectionOf(env, name, c).verify().catch((e: unknown) => { throw invalid(`error verifying the connection: ${errorText(e)}`); });
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'rotate-root/:name',
      help: 'Changes the root password to a new generated one; it is never shown.',
      operations: {
        update: async (ctx) => {
          const name = nameOf(ctx.params);
          await env.lock.run(`config/${name}`, () => rotateRoot(env, name));
          return { noContent: true };
        },
      },
    }),
  ];
}

async function write(env: Env, name: string, d: z.output<typeof fields>, existing: DbConfig | undefined): Promise<{ noContent: true }> {
  const pluginName = d.plugin_name ?? existing?.plugin_name ?? '';
  if (pluginName === '') throw invalid('empty plugin name');
  const plugin = pluginFor(pluginName);
  const prev = existing?.connection_details;
  const config: DbConfig = {
    plugin_name: pluginName,
    connection_details: {
      connection_url: d.connection_url ?? prev?.connection_url ?? '',
      username: d.username ?? prev?.username ?? '',
      password: d.password ?? prev?.password ?? '',
      max_open_connections: d.max_open_connections ?? prev?.max_open_connections ?? 4,
      max_idle_connections: d.max_idle_connections ?? prev?.max_idle_connections ?? 0,
      max_connection_lifetime: d.max_connection_lifetime ?? prev?.max_connection_lifetime ?? 0,
    },
    allowed_roles: d.allowed_roles ?? existing?.allowed_roles ?? [],
    root_rotation_statements: d.root_rotation_statements ?? existing?.root_rotation_statements ?? [],
    password_policy: d.password_policy ?? existing?.password_policy ?? '',
    username_template: d.username_template ?? existing?.username_template ?? '',
    verify_connection: d.verify_connection ?? true,
  };
  if (config.connection_details.connection_url === '') throw invalid('connection_url is required');
  if (config.connection_details.max_open_connections < 0 || config.connection_details.max_open_connections > 1000) throw invalid('max_open_connections must be from 0 to 1000');
  plugin.endpoint(config.connection_details); // validates the URL
  if (config.username_template !== '') checkUsernameTemplate(config.username_template);
  if (config.password_policy !== '') await env.generatePassword(config.password_policy);
  await env.lock.run(`config/${name}`, async () => {
    if (config.verify_connection) {
      const probe = plugin.connect(config.connection_details);
      try {
        await probe.verify();
      } catch (e) {
        throw invalid(`error creating database object: error verifying connection: ${errorText(e)}`);
      } finally {
        await probe.close();
      }
    }
    await writeConfig(env.storage, name, config);
    await env.pools.close(env.mount.uuid, name);
  });
  return { noContent: true };
}

async function rotateRoot(env: Env, name: string): Promise<void> {
  const config = await readConfig(env.storage, name);
  if (!config) throw invalid(`database connection "${name}" does not exist`);
  const username = config.connection_details.username;
  if (username === '') throw invalid('the connection has no username to rotate');
  const plugin = pluginFor(config.plugin_name);
  const password = await env.generatePassword(config.password_policy);
  const conn = connectionOf(env, name, config);
  try {
    if (config.root_rotation_statements.length > 0) await execute(conn, plugin, config.root_rotation_statements, { name: username, username, password });
    else await conn.setPassword(username, password);
  } catch (e) {
    throw invalid(`failed to rotate the root credentials: ${errorText(e)}`);
  }
  // The database has the new password: store it before anything else can fail.
  await writeConfig(env.storage, name, { ...config, connection_details: { ...config.connection_details, password } });
  await env.pools.close(env.mount.uuid, name);
}

function view(c: DbConfig): Record<string, unknown> {
  const d = c.connection_details;
  return {
    plugin_name: c.plugin_name,
    plugin_version: '',
    connection_details: {
      connection_url: redactUrl(d.connection_url), username: d.username,
      max_open_connections: d.max_open_connections, max_idle_connections: d.max_idle_connections, max_connection_lifetime: `${d.max_connection_lifetime}s`,
    },
    allowed_roles: c.allowed_roles,
    root_credentials_rotate_statements: c.root_rotation_statements,
    password_policy: c.password_policy,
    username_template: c.username_template,
    verify_connection: c.verify_connection,
  };
}
