import * as z from 'zod';
import { duration } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import { invalid, notFound } from '../../util/errors.js';
import { parseCron } from './cron.js';
import { statements, type Env } from './engine.js';
import { allowedConfig } from './paths-roles.js';
import { nextRotation, rotateStatic } from './rotation.js';
import { checkName, listKeys, readStatic, roleKey, staticKey, writeStatic, type StaticRole } from './store.js';

const fields = z.object({
  db_name: z.string().optional(),
  username: z.string().optional(),
  username_b: z.string().optional(),
  rotation_strategy: z.enum(['single', 'alternating']).optional(),
  rotation_period: duration().optional(),
  rotation_schedule: z.string().optional(),
  rotation_window: duration().optional(),
  rotation_statements: statements().optional(),
  credential_type: z.literal('password').optional(),
});

const FIELD_HELP = {
  db_name: 'The connection (config/:name) this role uses.',
  username: 'The database user whose password Coffer manages.',
  username_b: 'Alternating only: the second user (default: <username>_b).',
  rotation_strategy: '"single" (default) or "alternating" (two users, the idle one rotated, the previous one valid until the next rotation).',
  rotation_period: 'Seconds (or a duration, at least 5s) between rotations.',
  rotation_schedule: 'Instead of a period: a 5-field cron expression (UTC).',
  rotation_window: 'With a schedule: how long after the scheduled time a late rotation may still run (at least 1h).',
  rotation_statements: 'Statements that set the password ({{name}}, {{password}}); default: ALTER ROLE/USER.',
};
const MIN_PERIOD = 5;
const MIN_WINDOW = 3600;

/** static-roles/:name, static-creds/:name, rotate-role/:name. */
export function staticPaths(env: Env): PathSpec[] {
  const nameOf = (p: Readonly<Record<string, string>>): string => checkName(p['name'], 'static role');
  return [
    definePath({
      pattern: 'static-roles',
      help: 'Lists the static roles.',
      operations: {
        list: async () => {
          const keys = await listKeys(env.storage, 'static-role/');
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      },
    }),
    definePath({
      pattern: 'static-roles/:name',
      help: 'A static role: a database user whose password Coffer rotates on a period or a cron schedule, single or alternating.',
      fields,
      fieldHelp: FIELD_HELP,
      exists: async (ctx) => (await env.storage.get(staticKey(nameOf(ctx.params)))) !== undefined,
      operations: {
        read: async (ctx) => {
          const role = await readStatic(env.storage, nameOf(ctx.params));
          if (!role) throw notFound();
          return { data: roleView(role) };
        },
        create: async (ctx) => {
          const name = nameOf(ctx.params);
          if (await env.storage.get(roleKey(name))) throw invalid('Role and Static Role names must be unique');
          const role = build(ctx.data, undefined);
          await allowedConfig(env, role.db_name, name);
          await env.lock.run(`static/${name}`, () => writeStatic(env.storage, name, role));
          try {
            // As Vault: the password is rotated at once, so Coffer knows it from the start.
            await rotateStatic(env, name);
          } catch (e) {
            await env.storage.delete(staticKey(name));
            env.scheduleRotation(name, null);
            throw e;
          }
          return { noContent: true };
        },
        update: async (ctx) => {
          const name = nameOf(ctx.params);
          await env.lock.run(`static/${name}`, async () => {
            const existing = await readStatic(env.storage, name);
            if (!existing) throw notFound();
            const role = build(ctx.data, existing);
            await allowedConfig(env, role.db_name, name);
            const last = role.state.last_vault_rotation;
            const timingChanged = role.rotation_period !== existing.rotation_period || role.rotation_schedule !== existing.rotation_schedule;
            const next = timingChanged && last !== null && role.state.pending === null ? nextRotation(role, last) : role.state.next_rotation;
            const updated: StaticRole = { ...role, state: { ...role.state, next_rotation: next } };
            await writeStatic(env.storage, name, updated);
            env.scheduleRotation(name, next);
          });
          return { noContent: true };
        },
        delete: async (ctx) => {
          const name = nameOf(ctx.params);
          await env.lock.run(`static/${name}`, () => env.storage.delete(staticKey(name)));
          env.scheduleRotation(name, null);
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'static-creds/:name',
      help: 'The current credentials of a static role (and, alternating, the previous ones, valid until the next rotation).',
      operations: {
        read: async (ctx) => {
          const role = await readStatic(env.storage, nameOf(ctx.params));
          if (!role || !role.state.current) throw notFound();
          return { data: credsView(role) };
        },
      },
    }),
    definePath({
      pattern: 'rotate-role/:name',
      help: 'Rotates a static role\'s password now.',
      operations: {
        update: async (ctx) => {
          await rotateStatic(env, nameOf(ctx.params));
          return { noContent: true };
        },
      },
    }),
  ];
}

function build(d: z.output<typeof fields>, existing: StaticRole | undefined): StaticRole {
  const username = d.username ?? existing?.username ?? '';
  if (username === '') throw invalid('username is a required field to create a static account');
  if (existing && username !== existing.username) throw invalid('cannot update static account username');
  const strategy = d.rotation_strategy ?? existing?.rotation_strategy ?? 'single';
  if (existing && strategy !== existing.rotation_strategy) throw invalid('cannot change the rotation_strategy of a static role');
  const usernameB = strategy === 'alternating' ? d.username_b ?? existing?.username_b ?? `${username}_b` : '';
  if (strategy === 'alternating' && usernameB === username) throw invalid('username_b must differ from username');
  let period = d.rotation_period ?? existing?.rotation_period ?? 0;
  let schedule = d.rotation_schedule ?? existing?.rotation_schedule ?? '';
  // Setting one of the two replaces the other.
  if (d.rotation_period !== undefined && d.rotation_schedule === undefined) schedule = '';
  if (d.rotation_schedule !== undefined && d.rotation_period === undefined) period = 0;
  if (period > 0 && schedule !== '') throw invalid('mutually exclusive fields rotation_period and rotation_schedule were both specified; only one of them can be provided');
  if (period === 0 && schedule === '') throw invalid('one of rotation_schedule or rotation_period must be provided to create a static account');
  if (period > 0 && period < MIN_PERIOD) throw invalid(`rotation_period must be ${MIN_PERIOD} seconds or more`);
  if (schedule !== '') parseCron(schedule);
  const window = schedule === '' ? 0 : d.rotation_window ?? existing?.rotation_window ?? 0;
  if (d.rotation_window !== undefined && d.rotation_window > 0 && schedule === '') throw invalid('rotation_window is invalid with use of rotation_period');
  if (window > 0 && window < MIN_WINDOW) throw invalid(`rotation_window must be ${MIN_WINDOW} seconds or more`);
  const dbName = d.db_name ?? existing?.db_name ?? '';
  if (dbName === '') throw invalid('database name is a required field');
  return {
    db_name: dbName, username, username_b: usernameB, rotation_strategy: strategy,
    rotation_period: period, rotation_schedule: schedule, rotation_window: window,
    rotation_statements: d.rotation_statements ?? existing?.rotation_statements ?? [],
    state: existing?.state ?? { current: null, previous: null, pending: null, last_vault_rotation: null, next_rotation: null },
  };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function timing(role: StaticRole): Record<string, unknown> {
  return role.rotation_schedule !== ''
    ? { rotation_schedule: role.rotation_schedule, rotation_window: role.rotation_window }
    : { rotation_period: role.rotation_period };
}

/** Coffer's additions: where a rotation stands, and its error while it keeps failing. */
function pendingView(role: StaticRole): Record<string, unknown> {
  const p = role.state.pending;
  return p === null ? {} : { rotation_stage: p.stage, last_rotation_error: p.error, rotation_attempts: p.attempts };
}

function roleView(role: StaticRole): Record<string, unknown> {
  return {
    db_name: role.db_name, username: role.username, rotation_statements: role.rotation_statements, credential_type: 'password',
    rotation_strategy: role.rotation_strategy, ...(role.rotation_strategy === 'alternating' ? { username_b: role.username_b } : {}),
    ...timing(role),
    ...(role.state.last_vault_rotation === null ? {} : { last_vault_rotation: iso(role.state.last_vault_rotation) }),
    next_vault_rotation: iso(role.state.next_rotation),
    ...pendingView(role),
  };
}

function credsView(role: StaticRole): Record<string, unknown> {
  const { current, previous } = role.state;
  const ttl = role.state.next_rotation === null ? 0 : Math.max(0, Math.round((role.state.next_rotation - Date.now()) / 1000));
  return {
    username: current!.username,
    password: current!.password,
    last_vault_rotation: iso(role.state.last_vault_rotation),
    ttl,
    ...timing(role),
    rotation_strategy: role.rotation_strategy,
    ...(role.rotation_strategy === 'alternating' ? {
      current: { username: current!.username, password: current!.password },
      previous: previous === null ? null : { username: previous.username, password: previous.password },
    } : {}),
    ...pendingView(role),
  };
}
