import * as z from 'zod';
import { strings } from '../../core/fields.js';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { invalid, notFound } from '../../util/errors.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import { leafListPath, nameParam } from '../common/context.js';
import {
  DEFAULT_TOKEN_PARAMS, TOKEN_FIELD_HELP, applyTokenFields, legacyFieldShape, legacyTokenData, legacyTokenSchema, parsePolicyList,
  tokenFieldShape, tokenParamsData, tokenParamsSchema,
} from '../common/token-params.js';
import { MAX_PASSWORD_BYTES, hashPassword } from './password.js';

export const userSchema = z.object({
  passwordHash: z.string(),
  token: tokenParamsSchema,
  legacy: legacyTokenSchema,
});
export type UserEntry = z.infer<typeof userSchema>;

export async function readUser(storage: Storage, name: string): Promise<UserEntry | undefined> {
  const raw = await getJson(storage, `user/${name}`);
  return raw === undefined ? undefined : userSchema.parse(raw);
}

const userFields = z.object({
  password: z.string().optional(),
  ...tokenFieldShape,
  policies: legacyFieldShape.policies,
  ttl: legacyFieldShape.ttl,
  max_ttl: legacyFieldShape.max_ttl,
  bound_cidrs: legacyFieldShape.bound_cidrs,
});
type UserFields = z.output<typeof userFields>;

const passwordFields = z.object({ password: z.string().optional() });
const policyFields = z.object({ policies: strings().optional(), token_policies: strings().optional() });

function checkPassword(password: string | undefined): string {
  if (password === undefined || password === '') throw invalid('missing password');
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) throw invalid(`password must be at most ${MAX_PASSWORD_BYTES} bytes`);
  return password;
}

const userName = (ctx: Pick<HandlerContext, 'params'>): string => nameParam(ctx, 'username', 'username');

/** users, users/:username, users/:username/password, users/:username/policies. */
export function userPaths(): PathSpec[] {
  // Read-modify-write of one user at a time (a password change and a policy change never undo each other).
  const lock = new KeyedLock();

  /** Changes an existing user under its lock; a missing user is Vault's 400. */
  const changeUser = (ctx: Pick<HandlerContext, 'params' | 'storage'>, change: (user: UserEntry) => Promise<UserEntry> | UserEntry): Promise<CoreResponse> => {
    const name = userName(ctx);
    return lock.run(name, async () => {
      const user = await readUser(ctx.storage, name);
      if (!user) throw invalid('username does not exist');
      await putJson(ctx.storage, `user/${name}`, await change(user));
      return { noContent: true };
    });
  };

  const write = (ctx: HandlerContext<UserFields>): Promise<CoreResponse> => {
    const name = userName(ctx);
    return lock.run(name, async () => {
      const existing = await readUser(ctx.storage, name);
      const d = ctx.data;
      // The password is checked (and hashed) before anything is stored.
      const passwordHash = d.password !== undefined || !existing ? await hashPassword(checkPassword(d.password)) : existing.passwordHash;
      const applied = applyTokenFields(existing ?? { token: DEFAULT_TOKEN_PARAMS, legacy: {} }, d);
      await putJson(ctx.storage, `user/${name}`, { passwordHash, token: applied.token, legacy: applied.legacy } satisfies UserEntry);
      return applied.warnings.length > 0 ? { warnings: applied.warnings } : { noContent: true };
    });
  };

  return [
    leafListPath('users', 'user/', 'Lists the users.'),
    definePath({
      pattern: 'users/:username',
      help: 'Creates (a password is required), reads, updates or deletes a user and the settings of the tokens its logins get.',
      fields: userFields,
      fieldHelp: { username: 'Name of the user (case-insensitive).', password: 'The user\'s password (stored as an argon2id hash).', ...TOKEN_FIELD_HELP },
      exists: async (ctx) => (await readUser(ctx.storage, userName(ctx))) !== undefined,
      operations: {
        read: async (ctx) => {
          const user = await readUser(ctx.storage, userName(ctx));
          if (!user) throw notFound();
          return { data: { ...tokenParamsData(user.token), ...legacyTokenData(user.token, user.legacy, ['policies', 'ttl', 'maxTtl', 'boundCidrs']) } };
        },
        create: write,
        update: write,
        delete: async (ctx) => {
          await ctx.storage.delete(`user/${userName(ctx)}`);
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'users/:username/password',
      help: 'Sets a user\'s password.',
      fields: passwordFields,
      fieldHelp: { username: 'Name of the user.', password: 'The new password.' },
      operations: {
        update: (ctx) => changeUser(ctx, async (user) => ({ ...user, passwordHash: await hashPassword(checkPassword(ctx.data.password)) })),
      },
    }),
    definePath({
      pattern: 'users/:username/policies',
      help: 'Sets the policies of a user\'s tokens.',
      fields: policyFields,
      fieldHelp: { username: 'Name of the user.', token_policies: 'Policies of the tokens its logins get.', policies: 'Deprecated: use token_policies.' },
      operations: {
        update: (ctx) => changeUser(ctx, (user) => {
          const { policies, token_policies: tokenPolicies } = ctx.data;
          if (policies === undefined && tokenPolicies === undefined) throw invalid('missing token_policies');
          return {
            ...user,
            token: { ...user.token, policies: tokenPolicies !== undefined ? [...new Set(tokenPolicies)] : parsePolicyList(policies ?? []) },
            legacy: { ...user.legacy, policies: policies !== undefined ? parsePolicyList(policies) : undefined },
          };
        }),
      },
    }),
  ];
}
