import * as z from 'zod';
import { requestContext, type Authorizer, type IdentityView } from '../../core/acl/types.js';
import type { PolicyStore } from '../../core/acl/policy-store.js';
import { strings } from '../../core/fields.js';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import type { TokenStore } from '../../core/tokens/store.js';
import { invalid, notFound } from '../../util/errors.js';

export interface PolicyPathDeps {
  readonly policies: Pick<PolicyStore, 'get' | 'put' | 'delete' | 'list'> & Authorizer;
  readonly tokens: Pick<TokenStore, 'lookup' | 'lookupByAccessor'>;
  /** The identity behind a token's entity: its policies count, and conditions are evaluated now. */
  readonly identity?: { viewFor(entityId: string): IdentityView | undefined };
}

const legacyFields = z.object({ policy: z.string().optional(), rules: z.string().optional() });
const aclFields = z.object({ policy: z.string().optional() });
const capabilityFields = z.object({ token: z.string().optional(), accessor: z.string().optional(), path: strings().optional(), paths: strings().optional() });
type CapabilityFields = z.output<typeof capabilityFields>;

/**
 * The two policy APIs Vault has: the legacy `sys/policy` (text in `rules`) that hvac and node-vault
 * use, and `sys/policies/acl` (text in `policy`) that the Vault CLI, Go client and Terraform use.
 * Plus `sys/capabilities*`, which answer what a token may do on a path.
 */
export function policyPaths(deps: PolicyPathDeps): PathSpec[] {
  const { policies } = deps;
  const listing = async (legacy: boolean): Promise<CoreResponse> => {
    const keys = await policies.list();
    return { data: legacy ? { keys, policies: keys } : { keys } };
  };
  const read = (textKey: 'rules' | 'policy') => async (ctx: HandlerContext): Promise<CoreResponse> => {
    const found = await policies.get(ctx.params['name'] ?? '');
    if (!found) throw notFound();
    return { data: { name: found.name, [textKey]: found.text } };
  };
  const remove = async (ctx: HandlerContext): Promise<CoreResponse> => {
    await policies.delete(ctx.params['name'] ?? '');
    return { noContent: true };
  };

  return [
    definePath({
      pattern: 'policy',
      help: 'Lists the ACL policies (legacy API: `keys` and `policies`).',
      operations: { read: () => listing(true), list: () => listing(true) },
    }),
    definePath({
      pattern: 'policy/:name*',
      help: 'Reads (`rules`), writes (`policy`, or the deprecated `rules`) or deletes an ACL policy (legacy API).',
      fields: legacyFields,
      fieldHelp: { policy: 'The policy text, HCL or JSON (base64 accepted).', rules: 'Deprecated: the policy text, as `policy`.' },
      operations: {
        read: read('rules'),
        update: async (ctx) => {
          const warnings: string[] = [];
          let text = ctx.data.policy ?? '';
          if (text === '' && ctx.data.rules !== undefined) {
            text = ctx.data.rules;
            warnings.push("'rules' is deprecated, please use 'policy' instead");
          }
          await policies.put(ctx.params['name'] ?? '', fromBase64(text));
          return warnings.length > 0 ? { warnings } : { noContent: true };
        },
        delete: remove,
      },
    }),
    definePath({
      pattern: 'policies/acl',
      help: 'Lists the ACL policies.',
      operations: { list: () => listing(false) },
    }),
    definePath({
      pattern: 'policies/acl/:name*',
      help: 'Reads, writes or deletes an ACL policy; the text is in `policy`.',
      fields: aclFields,
      fieldHelp: { policy: 'The policy text, HCL or JSON (base64 accepted).' },
      operations: {
        read: read('policy'),
        update: async (ctx) => {
          await policies.put(ctx.params['name'] ?? '', fromBase64(ctx.data.policy ?? ''));
          return { noContent: true };
        },
        delete: remove,
      },
    }),
    definePath({
      pattern: 'capabilities',
      help: "A token's capabilities on one or more paths (`token`, `paths`).",
      fields: capabilityFields,
      fieldHelp: { token: 'The token to ask about.', paths: 'Paths (a list or comma-separated).', path: 'Deprecated: as `paths`.' },
      operations: {
        update: async (ctx) => {
          if (!ctx.data.token) throw invalid('missing token');
          const entry = await deps.tokens.lookup(ctx.data.token);
          if (!entry) throw invalid('invalid token');
          return capabilities(policies, entry.policies, ctx.data, deps.identity?.viewFor(entry.entityId), ctx.request.clientIp);
        },
      },
    }),
    definePath({
      pattern: 'capabilities-accessor',
      help: "The capabilities, on one or more paths, of the token with a given accessor (`accessor`, `paths`).",
      fields: capabilityFields,
      fieldHelp: { accessor: 'The accessor of the token to ask about.', paths: 'Paths (a list or comma-separated).', path: 'Deprecated: as `paths`.' },
      operations: {
        update: async (ctx) => {
          if (!ctx.data.accessor) throw invalid('missing accessor');
          const entry = await deps.tokens.lookupByAccessor(ctx.data.accessor);
          if (!entry) throw invalid('invalid accessor');
          return capabilities(policies, entry.policies, ctx.data, deps.identity?.viewFor(entry.entityId), ctx.request.clientIp);
        },
      },
    }),
    definePath({
      pattern: 'capabilities-self',
      help: "The calling token's capabilities on one or more paths (`paths`).",
      fields: capabilityFields,
      fieldHelp: { paths: 'Paths (a list or comma-separated).', path: 'Deprecated: as `paths`.' },
      operations: {
        update: async (ctx) => {
          if (!ctx.caller) throw invalid('missing token');
          return capabilities(policies, ctx.caller.policies, ctx.data, ctx.caller.identity, ctx.request.clientIp);
        },
      },
    }),
  ];
}

/**
 * `{"<path>": [...]}` per path, and `capabilities` too when one path was asked (as Vault). What
 * applies now: identity policies included, conditions evaluated against this request's address
 * and the current time; a disabled entity's token has none.
 */
async function capabilities(authorizer: Authorizer, policyNames: readonly string[], data: CapabilityFields, identity: IdentityView | undefined, clientIp: string): Promise<CoreResponse> {
  const paths = data.paths && data.paths.length > 0 ? data.paths : data.path ?? [];
  if (paths.length === 0) throw invalid('paths must be supplied');
  const acl = await authorizer.aclFor(policyNames, identity);
  const context = requestContext(clientIp, identity);
  const of = (p: string): string[] => (identity?.disabled ? ['deny'] : acl.capabilities(p, context));
  // fromEntries defines own properties, so a path named "__proto__" is only a key.
  const out = Object.fromEntries(paths.map((p) => [p, of(p)] as const)) as Record<string, unknown>;
  if (paths.length === 1) out['capabilities'] = of(paths[0]!);
  return { data: out };
}

/** Vault accepts policy text base64-encoded (Go's StdEncoding, which skips line breaks). */
function fromBase64(text: string): string {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact === '' || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return text;
  return Buffer.from(compact, 'base64').toString('utf8');
}
