import * as z from 'zod';
import { definePath, type PathSpec } from '../../core/framework.js';
import { ipAllowed } from '../../core/tokens/cidr.js';
import { getJson } from '../../storage/view.js';
import { invalid } from '../../util/errors.js';
import { lockoutAttempt, loginFrom, type LockoutLoginDeps } from '../common/context.js';
import { hmac, isExpired, secretIdSchema, type AppRoleStore } from './store.js';

export type AppRoleDeps = LockoutLoginDeps;

const BAD_CREDENTIALS = 'invalid role or secret ID';

/**
 * login {role_id, secret_id}: the role's and the secret ID's CIDR limits are checked before a use
 * is spent; a secret ID's last use deletes it. Failures count towards the lockout of the role_id
 * (Vault 1.13+: AppRole is one of the methods with user lockout).
 */
export function loginPaths(store: AppRoleStore, deps: AppRoleDeps): PathSpec[] {
  return [
    definePath({
      pattern: 'login',
      help: 'Logs in with a role_id and (when the role binds one) a secret_id; answers with a token.',
      unauthenticated: true,
      fields: z.object({ role_id: z.string().optional(), secret_id: z.string().optional() }),
      fieldHelp: { role_id: 'The role\'s role_id.', secret_id: 'A secret ID issued for the role.' },
      operations: {
        update: async (ctx) => {
          const roleId = (ctx.data.role_id ?? '').trim();
          if (roleId === '') throw invalid('missing role_id');
          const { fail, succeed } = await lockoutAttempt(deps.lockout, ctx.mount.accessor, roleId, BAD_CREDENTIALS);

          const role = await store.roleByRoleId(roleId);
          if (!role) return fail();
          const clientIp = ctx.request.clientIp;
          if (role.secretIdBoundCidrs.length > 0 && !ipAllowed(role.secretIdBoundCidrs, clientIp)) {
            throw invalid(`source address ${JSON.stringify(clientIp)} unauthorized by CIDR restrictions on the role`);
          }

          let metadata: Record<string, string> = {};
          let tokenBoundCidrs = role.token.boundCidrs;
          if (role.bindSecretId) {
            const secretId = (ctx.data.secret_id ?? '').trim();
            if (secretId === '') throw invalid('missing secret_id');
            if (secretId.length > 4096) return fail();
            const secretIdHmac = hmac(role.hmacKey, secretId);
            const key = store.secretKey(role, secretIdHmac);
            // Under the secret ID's lock: concurrent logins never spend the same use twice.
            const entry = await store.lock.run(`secret:${secretIdHmac}`, async () => {
              const parsed = secretIdSchema.safeParse(await getJson(store.storage, key));
              if (!parsed.success) return undefined;
              const e = parsed.data;
              if (isExpired(e)) {
                await store.deleteSecretId(role, secretIdHmac, e.accessor);
                return undefined;
              }
              if (e.cidrList.length > 0 && !ipAllowed(e.cidrList, clientIp)) {
                throw invalid(`source address ${JSON.stringify(clientIp)} unauthorized through CIDR restrictions on the secret ID`);
              }
              if (e.numUses === 1) await store.deleteSecretId(role, secretIdHmac, e.accessor);
              else if (e.numUses > 1) await store.putSecretId(role, secretIdHmac, { ...e, numUses: e.numUses - 1, lastUpdatedTime: Date.now() });
              return e;
            });
            if (!entry) return fail();
            metadata = { ...entry.metadata };
            if (entry.tokenBoundCidrs.length > 0) tokenBoundCidrs = entry.tokenBoundCidrs;
          }
          succeed();
          metadata['role_name'] = role.name;
          return deps.login.login(loginFrom(ctx, {
            alias: { name: role.roleId, metadata },
            token: { ...role.token, boundCidrs: tokenBoundCidrs },
            displayName: '',
            metadata,
            role: role.name,
          }));
        },
      },
    }),
    definePath({
      pattern: 'tidy/secret-id',
      help: 'Removes expired secret IDs and index entries left without a secret ID.',
      operations: {
        update: async () => {
          const result = await tidy(store);
          return { data: result, warnings: [`Tidy operation finished: ${result.secret_ids} secret IDs and ${result.accessors} accessors removed.`], status: 202 };
        },
      },
    }),
  ];
}

/** Deletes expired secret IDs and accessor entries that point at nothing. */
async function tidy(store: AppRoleStore, now = Date.now()): Promise<{ secret_ids: number; accessors: number }> {
  const s = store.storage;
  let secretIds = 0;
  let accessors = 0;
  for (const folder of await s.list('secret-id/')) {
    for (const key of await s.list(`secret-id/${folder}`)) {
      const full = `secret-id/${folder}${key}`;
      const parsed = secretIdSchema.safeParse(await getJson(s, full));
      if (!parsed.success || isExpired(parsed.data, now)) {
        await s.delete(full);
        secretIds++;
      }
    }
  }
  const roles = new Map<string, Awaited<ReturnType<AppRoleStore['readRole']>>>();
  for (const key of await s.list('accessor/')) {
    const ref = z.object({ secretIdHmac: z.string(), roleName: z.string() }).safeParse(await getJson(s, `accessor/${key}`));
    let live = false;
    if (ref.success) {
      if (!roles.has(ref.data.roleName)) roles.set(ref.data.roleName, await store.readRole(ref.data.roleName));
      const role = roles.get(ref.data.roleName);
      live = role !== undefined && (await store.readSecretId(role, ref.data.secretIdHmac)) !== undefined;
    }
    if (!live) {
      await s.delete(`accessor/${key}`);
      accessors++;
    }
  }
  return { secret_ids: secretIds, accessors };
}
