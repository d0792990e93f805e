import * as z from 'zod';
import { definePath, type PathSpec } from '../../core/framework.js';
import { putJson } from '../../storage/view.js';
import { invalid } from '../../util/errors.js';
import { lockoutAttempt, loginFrom, type LockoutLoginDeps } from '../common/context.js';
import { MAX_PASSWORD_BYTES, PasswordVerifier, hashPassword, needsRehash } from './password.js';
import { readUser, type UserEntry } from './users.js';

export type UserpassDeps = LockoutLoginDeps;

/** The one answer for every bad credential: unknown user, wrong password, damaged hash. */
const BAD_CREDENTIALS = 'invalid username or password';

/**
 * login/:username. Unknown users and wrong passwords take the same path (a dummy argon2id hash
 * is verified for unknown users) and get the same 400 body; both count towards the lockout.
 */
export function loginPaths(deps: UserpassDeps, verifier: PasswordVerifier): PathSpec[] {
  return [
    definePath({
      pattern: 'login/:username',
      help: 'Logs in with a username and password; answers with a token.',
      unauthenticated: true,
      fields: z.object({ password: z.string().optional() }),
      fieldHelp: { username: 'Name of the user.', password: 'The user\'s password.' },
      operations: {
        update: async (ctx) => {
          const name = (ctx.params['username'] ?? '').toLowerCase();
          const password = ctx.data.password ?? '';
          if (password === '') throw invalid('missing password');
          const { fail, succeed } = await lockoutAttempt(deps.lockout, ctx.mount.accessor, name, BAD_CREDENTIALS);

          // Oversized names and passwords still cost a verification, so they look like any other failure.
          const plausible = name.length > 0 && name.length <= 512 && Buffer.byteLength(password, 'utf8') <= MAX_PASSWORD_BYTES;
          const user = plausible && !name.includes('/') ? await readUser(ctx.storage, name) : undefined;
          const ok = await verifier.verify(user?.passwordHash, plausible ? password : '');
          if (!ok || !user) return fail();
          succeed();
          if (needsRehash(user.passwordHash)) {
            await putJson(ctx.storage, `user/${name}`, { ...user, passwordHash: await hashPassword(password) } satisfies UserEntry);
          }
          return deps.login.login(loginFrom(ctx, {
            alias: { name, metadata: {} },
            token: user.token,
            displayName: name,
            metadata: { username: name },
          }));
        },
      },
    }),
  ];
}
