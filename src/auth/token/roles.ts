import * as z from 'zod';
import { bool, duration, int, strings } from '../../core/fields.js';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import { parseCidr } from '../../core/tokens/cidr.js';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { invalid, notFound } from '../../util/errors.js';
import { leafListPath } from '../common/context.js';
import { nullsAbsent, sanitizePolicies, text } from './common.js';

export const ROLE_TOKEN_TYPES = ['service', 'batch', 'default-service', 'default-batch'] as const;

const roleSchema = z.object({
  name: z.string(),
  allowedPolicies: z.array(z.string()),
  disallowedPolicies: z.array(z.string()),
  allowedPoliciesGlob: z.array(z.string()),
  disallowedPoliciesGlob: z.array(z.string()),
  orphan: z.boolean(),
  renewable: z.boolean(),
  pathSuffix: z.string(),
  tokenType: z.enum(ROLE_TOKEN_TYPES),
  /** The deprecated un-prefixed fields are kept only to echo back what was written. */
  period: z.number(),
  tokenPeriod: z.number(),
  explicitMaxTtl: z.number(),
  tokenExplicitMaxTtl: z.number(),
  boundCidrs: z.array(z.string()),
  tokenBoundCidrs: z.array(z.string()),
  tokenNoDefaultPolicy: z.boolean(),
  tokenNumUses: z.number(),
  allowedEntityAliases: z.array(z.string()),
});
export type TokenRole = z.infer<typeof roleSchema>;

const ROLE_NAME = /^\w(?:[\w.-]*\w)?$/;
const PATH_SUFFIX = /^\w(?:[\w.-]*\w)?$/;

export async function readRole(storage: Storage, name: string): Promise<TokenRole | undefined> {
  if (!ROLE_NAME.test(name)) return undefined;
  const raw = await getJson(storage, `roles/${name}`);
  return raw === undefined ? undefined : roleSchema.parse(raw);
}

const roleFields = nullsAbsent(z.object({
  allowed_policies: strings().optional(),
  disallowed_policies: strings().optional(),
  allowed_policies_glob: strings().optional(),
  disallowed_policies_glob: strings().optional(),
  orphan: bool().optional(),
  renewable: bool().optional(),
  path_suffix: text().optional(),
  token_type: text().optional(),
  period: duration().optional(),
  token_period: duration().optional(),
  explicit_max_ttl: duration().optional(),
  token_explicit_max_ttl: duration().optional(),
  bound_cidrs: strings().optional(),
  token_bound_cidrs: strings().optional(),
  token_no_default_policy: bool().optional(),
  token_num_uses: int().optional(),
  allowed_entity_aliases: strings().optional(),
}));
type RoleFields = z.output<typeof roleFields>;

const lowerUnique = (list: readonly string[]): string[] => [...new Set(list.map((s) => s.trim().toLowerCase()).filter((s) => s !== ''))].sort();

function parseCidrs(list: readonly string[]): string[] {
  return list.map((c) => {
    const parsed = parseCidr(c);
    if (!parsed) throw invalid(`error parsing role fields: invalid CIDR ${JSON.stringify(c)}`);
    return parsed;
  });
}

function nameOf(ctx: { params: Readonly<Record<string, string>> }): string {
  const name = ctx.params['name'] ?? '';
  if (!ROLE_NAME.test(name)) throw invalid('role name must be letters, digits, "_", "-" or "." and start and end with a letter or digit');
  return name;
}

/** Create or update (only the fields sent change on update), with Vault's checks. */
async function writeRole(ctx: HandlerContext<RoleFields>): Promise<{ noContent: true } | { warnings: string[] }> {
  const name = nameOf(ctx);
  const d = ctx.data;
  const warnings: string[] = [];
  const role: TokenRole = (await readRole(ctx.storage, name)) ?? {
    name, allowedPolicies: [], disallowedPolicies: [], allowedPoliciesGlob: [], disallowedPoliciesGlob: [], orphan: false,
    renewable: true, pathSuffix: '', tokenType: 'default-service', period: 0, tokenPeriod: 0, explicitMaxTtl: 0,
    tokenExplicitMaxTtl: 0, boundCidrs: [], tokenBoundCidrs: [], tokenNoDefaultPolicy: false, tokenNumUses: 0, allowedEntityAliases: [],
  };

  if (d.orphan !== undefined) role.orphan = d.orphan;
  if (d.renewable !== undefined) role.renewable = d.renewable;
  if (d.path_suffix !== undefined) {
    if (d.path_suffix !== '' && (!PATH_SUFFIX.test(d.path_suffix) || d.path_suffix.includes('..'))) {
      throw invalid('given role path suffix contains invalid characters; must be letters, digits, "_", "-" or "." without ".."');
    }
    role.pathSuffix = d.path_suffix;
  }
  if (d.allowed_policies !== undefined) role.allowedPolicies = sanitizePolicies(d.allowed_policies, false);
  if (d.disallowed_policies !== undefined) role.disallowedPolicies = lowerUnique(d.disallowed_policies);
  if (d.allowed_policies_glob !== undefined) role.allowedPoliciesGlob = sanitizePolicies(d.allowed_policies_glob, false);
  if (d.disallowed_policies_glob !== undefined) role.disallowedPoliciesGlob = lowerUnique(d.disallowed_policies_glob);
  if (d.allowed_entity_aliases !== undefined) role.allowedEntityAliases = lowerUnique(d.allowed_entity_aliases);
  if (d.token_no_default_policy !== undefined) role.tokenNoDefaultPolicy = d.token_no_default_policy;
  if (d.token_num_uses !== undefined) {
    if (d.token_num_uses < 0) throw invalid('error parsing role fields: token_num_uses cannot be negative');
    role.tokenNumUses = d.token_num_uses;
  }
  if (d.token_type !== undefined) {
    const t = d.token_type === '' ? 'default-service' : d.token_type;
    if (!(ROLE_TOKEN_TYPES as readonly string[]).includes(t)) throw invalid(`invalid 'token_type' value ${JSON.stringify(d.token_type)}`);
    role.tokenType = t as TokenRole['tokenType'];
  }

  // The token_* names win over the deprecated ones, as in Vault; both sent → a warning.
  const both = (field: string): void => { warnings.push(`Both 'token_${field}' and deprecated '${field}' value supplied, ignoring the deprecated value`); };
  if (d.token_period !== undefined) {
    if (d.period !== undefined) both('period');
    role.tokenPeriod = d.token_period;
    role.period = 0;
  } else if (d.period !== undefined) {
    role.period = role.tokenPeriod = d.period;
  }
  if (d.token_bound_cidrs !== undefined) {
    if (d.bound_cidrs !== undefined) both('bound_cidrs');
    role.tokenBoundCidrs = parseCidrs(d.token_bound_cidrs);
    role.boundCidrs = [];
  } else if (d.bound_cidrs !== undefined) {
    role.boundCidrs = role.tokenBoundCidrs = parseCidrs(d.bound_cidrs);
  }
  if (d.token_explicit_max_ttl !== undefined) {
    if (d.explicit_max_ttl !== undefined) both('explicit_max_ttl');
    role.tokenExplicitMaxTtl = d.token_explicit_max_ttl;
    role.explicitMaxTtl = 0;
  } else if (d.explicit_max_ttl !== undefined) {
    role.explicitMaxTtl = role.tokenExplicitMaxTtl = d.explicit_max_ttl;
  }
  if (role.tokenExplicitMaxTtl > ctx.mount.maxLeaseTtl) {
    warnings.push(`Given explicit max TTL of ${role.tokenExplicitMaxTtl} is greater than system/mount allowed value of ${ctx.mount.maxLeaseTtl} seconds; until this is fixed attempting to create tokens against this role will result in an error`);
  }

  if (role.tokenType === 'batch') {
    if (!role.orphan) throw invalid("'token_type' cannot be 'batch' when role is set to generate non-orphan tokens");
    if (role.tokenPeriod !== 0) throw invalid("'token_type' cannot be 'batch' when role is set to generate periodic tokens");
    if (role.renewable) throw invalid("'token_type' cannot be 'batch' when role is set to generate renewable tokens");
    if (role.tokenExplicitMaxTtl !== 0) throw invalid("'token_type' cannot be 'batch' when role is set to generate tokens with an explicit max TTL");
  }

  await putJson(ctx.storage, `roles/${name}`, role);
  return warnings.length > 0 ? { warnings } : { noContent: true };
}

function roleData(role: TokenRole): Record<string, unknown> {
  const data: Record<string, unknown> = {
    name: role.name,
    allowed_policies: role.allowedPolicies,
    disallowed_policies: role.disallowedPolicies,
    allowed_policies_glob: role.allowedPoliciesGlob,
    disallowed_policies_glob: role.disallowedPoliciesGlob,
    allowed_entity_aliases: role.allowedEntityAliases,
    orphan: role.orphan,
    renewable: role.renewable,
    path_suffix: role.pathSuffix,
    token_type: role.tokenType,
    period: role.period,
    token_period: role.tokenPeriod,
    explicit_max_ttl: role.explicitMaxTtl,
    token_explicit_max_ttl: role.tokenExplicitMaxTtl,
    token_no_default_policy: role.tokenNoDefaultPolicy,
  };
  if (role.tokenBoundCidrs.length > 0) data['token_bound_cidrs'] = role.tokenBoundCidrs;
  if (role.boundCidrs.length > 0) data['bound_cidrs'] = role.boundCidrs;
  if (role.tokenNumUses > 0) data['token_num_uses'] = role.tokenNumUses;
  return data;
}

export function rolePaths(): PathSpec[] {
  return [
    leafListPath('roles', 'roles/', 'Lists the token roles.'),
    definePath({
      pattern: 'roles/:name',
      help: 'Creates, reads, updates or deletes a token role: the policies, type and TTL rules of tokens made with create/:role.',
      fields: roleFields,
      exists: async (ctx) => (await readRole(ctx.storage, ctx.params['name'] ?? '')) !== undefined,
      fieldHelp: {
        allowed_policies: 'Policies tokens of this role may have (instead of a subset of the caller\'s).',
        disallowed_policies: 'Policies tokens of this role may never have.',
        orphan: 'Tokens of this role have no parent.',
        renewable: 'Tokens of this role can be renewed (default true).',
        path_suffix: 'Appended to the token path, for revoke-prefix.',
        token_type: 'service, batch, default-service or default-batch.',
        token_period: 'Tokens of this role are periodic with this period.',
        token_explicit_max_ttl: 'A hard cap on the lifetime of tokens of this role.',
        token_bound_cidrs: 'Tokens of this role work only from these CIDRs.',
        token_num_uses: 'Maximum uses of tokens of this role (0 = unlimited).',
        allowed_entity_aliases: 'Entity aliases (globs allowed) that create/:role may name.',
      },
      operations: {
        read: async (ctx) => {
          const role = await readRole(ctx.storage, nameOf(ctx));
          if (!role) throw notFound();
          return { data: roleData(role) };
        },
        create: writeRole,
        update: writeRole,
        delete: async (ctx) => {
          await ctx.storage.delete(`roles/${nameOf(ctx)}`);
          return { noContent: true };
        },
      },
    }),
  ];
}
