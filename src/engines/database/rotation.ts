import { invalid } from '../../util/errors.js';
import { nextCronTime, parseCron } from './cron.js';
import { connectionOf, errorText, execute, pluginFor, type Env } from './engine.js';
import { listKeys, readStatic, writeStatic, type StaticRole } from './store.js';
import { allowedConfig } from './paths-roles.js';

const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 10 * 60_000;

/** When a static role rotates next after a rotation at `from` (Unix ms). */
export function nextRotation(role: Pick<StaticRole, 'rotation_period' | 'rotation_schedule'>, from: number): number | null {
  if (role.rotation_period > 0) return from + role.rotation_period * 1000;
  if (role.rotation_schedule !== '') return nextCronTime(parseCron(role.rotation_schedule), from) ?? null;
  return null;
}

/**
 * Rotates a static role's password, staged: a new password is recorded as `pending` before the
 * database sees it, set with the rotation statements, then (alternating) checked by logging in
 * with it (`tested`), and only then made `current`. A failure leaves `current` as it was and
 * the pending password with its error, retried with the same password.
 *
 * - single: one account; its old password stops working (Vault's behaviour).
 * - alternating: two accounts; the idle one is rotated, so `previous` keeps working until the
 *   next rotation (the AWS Secrets Manager alternating-users strategy).
 */
export async function rotateStatic(env: Env, name: string, options: { scheduled?: boolean } = {}): Promise<StaticRole> {
  return env.lock.run(`static/${name}`, async () => {
    const role = await readStatic(env.storage, name);
    if (!role) throw invalid(`unknown static role: ${name}`);
    const now = Date.now();
    const s = role.state;
    if (options.scheduled) {
      if (s.next_rotation === null || s.next_rotation > now) return role;
      // A scheduled rotation missed by more than its window waits for the next slot (as Vault).
      if (role.rotation_schedule !== '' && role.rotation_window > 0 && s.pending === null && now > s.next_rotation + role.rotation_window * 1000) {
        const skipped: StaticRole = { ...role, state: { ...s, next_rotation: nextRotation(role, now) } };
        await writeStatic(env.storage, name, skipped);
        env.scheduleRotation(name, skipped.state.next_rotation);
        env.logger.warn({ role: name }, 'static role rotation window missed; waiting for the next scheduled time');
        return skipped;
      }
    }
    const target = role.rotation_strategy === 'alternating' && s.current !== null
      ? (s.current.username === role.username ? role.username_b : role.username)
      : role.username;
    const config = await allowedConfig(env, role.db_name, name);
    const plugin = pluginFor(config.plugin_name);
    const conn = connectionOf(env, role.db_name, config);

    // 1. pending: chosen and recorded before the database sees it (reused by a retry).
    let pending = s.pending !== null && s.pending.username === target ? s.pending : null;
    if (pending === null) {
      pending = { username: target, password: await env.generatePassword(config.password_policy), rotated_at: now, stage: 'pending', attempts: 0, error: null };
      await writeStatic(env.storage, name, { ...role, state: { ...s, pending } });
    }
    const fail = async (message: string): Promise<never> => {
      const attempts = (pending?.attempts ?? 0) + 1;
      const retryAt = Date.now() + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempts - 1, 16));
      const state = { ...s, pending: { ...pending!, attempts, error: message }, next_rotation: retryAt };
      await writeStatic(env.storage, name, { ...role, state });
      env.scheduleRotation(name, retryAt);
      env.logger.warn({ role: name, attempts, error: message }, 'static role rotation failed; the current credential is unchanged');
      throw invalid(`failed to rotate the static role "${name}": ${message}`);
    };

    // 2. set it in the database (skipped when an earlier attempt already got it tested).
    if (pending.stage === 'pending') {
      try {
        const values = { name: target, username: target, password: pending.password };
        if (role.rotation_statements.length > 0) await execute(conn, plugin, role.rotation_statements, values);
        else await conn.setPassword(target, pending.password);
      } catch (e) {
        return fail(errorText(e));
      }
      // 3. tested: for alternating, a login with the new password must work before the switch.
      if (role.rotation_strategy === 'alternating') {
        try {
          await conn.tryLogin(target, pending.password);
        } catch (e) {
          return fail(`the new password was set but logging in with it failed: ${errorText(e)}`);
        }
        pending = { ...pending, stage: 'tested' };
        await writeStatic(env.storage, name, { ...role, state: { ...s, pending } });
      }
    }

    // 4. current: the switch.
    const rotatedAt = Date.now();
    const next: StaticRole = {
      ...role,
      state: {
        current: { username: target, password: pending.password, rotated_at: rotatedAt },
        previous: role.rotation_strategy === 'alternating' ? s.current : null,
        pending: null,
        last_vault_rotation: rotatedAt,
        next_rotation: following(role, s.next_rotation, rotatedAt, options.scheduled ?? false),
      },
    };
    await writeStatic(env.storage, name, next);
    env.scheduleRotation(name, next.state.next_rotation);
    return next;
  });
}

/**
 * After a scheduled period rotation the next one is one period after the slot it served, so
 * rotations do not drift; a slot missed entirely (the server was down longer) is not repeated.
 */
function following(role: StaticRole, slot: number | null, rotatedAt: number, scheduled: boolean): number | null {
  if (scheduled && slot !== null && role.rotation_period > 0) {
    const next = slot + role.rotation_period * 1000;
    return next > rotatedAt ? next : rotatedAt + role.rotation_period * 1000;
  }
  return nextRotation(role, rotatedAt);
}

/**
 * The scheduled side: a per-mount job ticks every second and rotates the roles that are due.
 * Each role's next time is in its record, so a restart neither skips nor repeats a rotation.
 */
export class RotationQueue {
  readonly #env: () => Env;
  readonly #due = new Map<string, number>();
  #loaded = false;

  constructor(env: () => Env) {
    this.#env = env;
  }

  set(role: string, at: number | null): void {
    if (at === null) this.#due.delete(role);
    else this.#due.set(role, at);
  }

  async tick(): Promise<void> {
    const env = this.#env();
    if (!this.#loaded) {
      for (const name of await listKeys(env.storage, 'static-role/')) {
        const role = await readStatic(env.storage, name);
        if (role?.state.next_rotation != null) this.#due.set(name, role.state.next_rotation);
      }
      this.#loaded = true;
    }
    const now = Date.now();
    for (const [name, at] of [...this.#due]) {
      if (at > now) continue;
      this.#due.delete(name);
      try {
        await rotateStatic(env, name, { scheduled: true });
      } catch (e) {
        // Recorded on the role (and rescheduled) by rotateStatic; a vanished role is just dropped.
        env.logger.debug({ role: name, error: errorText(e) }, 'scheduled rotation did not complete');
      }
    }
  }
}
