import { randomBytes, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { bool, duration, int, strings } from '../../core/fields.js';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import { invalid, notFound } from '../../util/errors.js';
import { leafListPath, nameParam } from '../common/context.js';
import {
  DEFAULT_TOKEN_PARAMS, TOKEN_FIELD_HELP, applyTokenFields, legacyFieldShape, legacyTokenData, tokenFieldShape, tokenParamsData,
} from '../common/token-params.js';
import { MAX_HMAC_INPUT, cidrList, type AppRole, type AppRoleStore } from './store.js';

const roleFields = z.object({
  bind_secret_id: bool().optional(),
  secret_id_bound_cidrs: strings().optional(),
  /** Vault's deprecated name for secret_id_bound_cidrs. */
  bound_cidr_list: strings().optional(),
  secret_id_num_uses: int().optional(),
  secret_id_ttl: duration().optional(),
  role_id: z.string().optional(),
  local_secret_ids: bool().optional(),
  /** hvac's name for local_secret_ids. */
  enable_local_secret_ids: bool().optional(),
  ...tokenFieldShape,
  policies: legacyFieldShape.policies,
  period: legacyFieldShape.period,
});
type RoleFields = z.output<typeof roleFields>;

export const roleName = (ctx: Pick<HandlerContext, 'params'>): string => {
  const name = nameParam(ctx, 'role_name', 'role_name');
  if (name.length > MAX_HMAC_INPUT) throw invalid(`role_name is longer than maximum of ${MAX_HMAC_INPUT} bytes`);
  return name;
};

export async function requireRole(store: AppRoleStore, ctx: Pick<HandlerContext, 'params'>): Promise<AppRole> {
  const name = roleName(ctx);
  const role = await store.readRole(name);
  if (!role) throw invalid(`role "${name}" does not exist`);
  return role;
}

function roleData(role: AppRole): Record<string, unknown> {
  return {
    bind_secret_id: role.bindSecretId,
    secret_id_bound_cidrs: [...role.secretIdBoundCidrs],
    secret_id_num_uses: role.secretIdNumUses,
    secret_id_ttl: role.secretIdTtl,
    local_secret_ids: role.localSecretIds,
    ...tokenParamsData(role.token),
    ...legacyTokenData(role.token, role.legacy, ['period', 'policies']),
  };
}

async function writeRole(store: AppRoleStore, ctx: HandlerContext<RoleFields>): Promise<CoreResponse> {
  const name = roleName(ctx);
  return store.lock.run(`role:${name}`, async () => {
    const d = ctx.data;
    const existing = await store.readRole(name);
    const creating = !existing;
    const role: AppRole = existing ?? {
      name, roleId: '', hmacKey: randomBytes(32).toString('hex'), bindSecretId: true, secretIdNumUses: 0, secretIdTtl: 0,
      secretIdBoundCidrs: [], localSecretIds: false, token: DEFAULT_TOKEN_PARAMS, legacy: {},
    };
    const applied = applyTokenFields(role, d);
    role.token = applied.token;
    role.legacy = applied.legacy;
    const warnings = [...applied.warnings];

    const local = d.local_secret_ids ?? d.enable_local_secret_ids;
    if (local !== undefined) {
      if (!creating) throw invalid('local_secret_ids can only be modified during role creation');
      role.localSecretIds = local;
    }
    const previousRoleId = role.roleId;
    if (d.role_id !== undefined) role.roleId = d.role_id.trim();
    else if (creating) role.roleId = randomUUID();
    if (role.roleId === '') throw invalid('invalid role_id supplied, or failed to generate a role_id');
    if (role.roleId.length > MAX_HMAC_INPUT) throw invalid(`role_id is longer than maximum of ${MAX_HMAC_INPUT} bytes`);

    if (d.bind_secret_id !== undefined) role.bindSecretId = d.bind_secret_id;
    const cidrs = d.secret_id_bound_cidrs ?? d.bound_cidr_list;
    if (cidrs !== undefined) role.secretIdBoundCidrs = cidrList(cidrs, 'secret_id_bound_cidrs');
    if (d.secret_id_num_uses !== undefined) {
      if (d.secret_id_num_uses < 0) throw invalid('secret_id_num_uses cannot be negative');
      role.secretIdNumUses = d.secret_id_num_uses;
    }
    if (d.secret_id_ttl !== undefined) role.secretIdTtl = d.secret_id_ttl;

    if (!role.bindSecretId && role.secretIdBoundCidrs.length === 0 && role.token.boundCidrs.length === 0) {
      throw invalid('at least one constraint should be enabled on the role');
    }
    if (role.token.period > ctx.mount.maxLeaseTtl) {
      throw invalid(`period of ${role.token.period}s is greater than the backend's maximum lease TTL of ${ctx.mount.maxLeaseTtl}s`);
    }
    if (role.token.maxTtl > ctx.mount.maxLeaseTtl) {
      warnings.push("token_max_ttl is greater than the backend mount's maximum TTL value; issued tokens' max TTL value will be truncated");
    }
    await store.writeRole(role, previousRoleId);
    return warnings.length > 0 ? { warnings } : { noContent: true };
  });
}

/** role, role/:role_name, role/:role_name/role-id. */
export function rolePaths(store: AppRoleStore): PathSpec[] {
  return [
    leafListPath('role', 'role/', 'Lists the roles.'),
    definePath({
      pattern: 'role/:role_name',
      help: 'Creates, reads, updates or deletes a role: how its secret IDs are issued and what tokens its logins get.',
      fields: roleFields,
      exists: async (ctx) => (await store.readRole(roleName(ctx))) !== undefined,
      fieldHelp: {
        role_name: 'Name of the role (case-insensitive).',
        bind_secret_id: 'Logins must present a secret ID (default true).',
        secret_id_bound_cidrs: 'Logins are accepted only from these CIDRs.',
        secret_id_num_uses: 'Uses of each secret ID (0 = unlimited).',
        secret_id_ttl: 'Lifetime of each secret ID (0 = no expiry, capped by the mount max TTL).',
        role_id: 'A custom role_id (a UUID is generated otherwise).',
        ...TOKEN_FIELD_HELP,
      },
      operations: {
        read: async (ctx) => {
          const role = await store.readRole(roleName(ctx));
          if (!role) throw notFound();
          return { data: roleData(role) };
        },
        create: (ctx) => writeRole(store, ctx),
        update: (ctx) => writeRole(store, ctx),
        delete: async (ctx) => {
          const name = roleName(ctx);
          await store.lock.run(`role:${name}`, async () => {
            const role = await store.readRole(name);
            if (role) await store.deleteRole(role);
          });
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'role/:role_name/role-id',
      help: 'Reads a role\'s role_id, or sets a custom one.',
      fields: z.object({ role_id: z.string().optional() }),
      fieldHelp: { role_name: 'Name of the role.', role_id: 'The new role_id.' },
      operations: {
        read: async (ctx) => {
          const role = await store.readRole(roleName(ctx));
          if (!role) throw notFound();
          return { data: { role_id: role.roleId } };
        },
        update: async (ctx) => {
          const name = roleName(ctx);
          return store.lock.run(`role:${name}`, async () => {
            const role = await store.readRole(name);
            if (!role) throw invalid(`role "${name}" does not exist`);
            const roleId = (ctx.data.role_id ?? '').trim();
            if (roleId === '') throw invalid('missing role_id');
            if (roleId.length > MAX_HMAC_INPUT) throw invalid(`role_id is longer than maximum of ${MAX_HMAC_INPUT} bytes`);
            await store.writeRole({ ...role, roleId }, role.roleId);
            return { noContent: true };
          });
        },
      },
    }),
  ];
}
