import * as z from 'zod';
import { requestContext, type Authorizer, type ConditionOutcome, type IdentityView, type StanzaRef } from '../../core/acl/types.js';
import { definePath, type Caller, type HandlerContext, type PathSpec } from '../../core/framework.js';
import { duration } from '../../core/fields.js';
import { normalizePath } from '../../core/normalize.js';
import { OPERATIONS, type Operation } from '../../core/request.js';
import type { TokenStore } from '../../core/tokens/store.js';
import { parseCidr } from '../../core/tokens/cidr.js';
import { denied, invalid } from '../../util/errors.js';

export interface ExplainDeps {
  readonly authorizer: Authorizer;
  readonly tokens: Pick<TokenStore, 'lookup' | 'lookupByAccessor'>;
  readonly identity?: { viewFor(entityId: string): IdentityView | undefined };
}

const fields = z.object({
  path: z.string().optional(),
  operation: z.string().optional(),
  token: z.string().optional(),
  accessor: z.string().optional(),
  client_ip: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  wrap_ttl: duration().optional(),
});

const PATH = 'internal/acl-explain';

/**
 * sys/internal/acl-explain (Coffer's own): which stanza of which policy decides a request on a
 * path, and which conditions held or failed. Any token may ask about itself; asking about another
 * token (`token` or `accessor`) or from another address (`client_ip`) needs sudo on this path.
 * Unauthenticated at the ACL, like Vault's sys/internal/ui paths, so it needs no policy grant to
 * explain a token to itself; the handler checks the caller.
 */
export function explainPaths(deps: ExplainDeps): PathSpec[] {
  return [
    definePath({
      pattern: PATH,
      help: 'Explains which policy stanza and which condition decide an operation on a path, for the calling token or (with sudo) another one.',
      unauthenticated: true,
      fields,
      fieldHelp: {
        path: 'The request path to explain, e.g. secret/data/app.',
        operation: `One of ${OPERATIONS.join(', ')} (default read).`,
        token: 'Explain for this token instead of the caller (sudo).',
        accessor: 'Explain for the token with this accessor (sudo).',
        client_ip: 'Evaluate source_cidrs conditions for this address instead of the caller\'s (sudo).',
        data: 'Request parameters, for allowed/denied/required_parameters.',
        wrap_ttl: 'A response-wrapping TTL, for min/max_wrapping_ttl.',
      },
      operations: {
        update: (ctx) => explain(deps, ctx),
        read: (ctx) => explain(deps, ctx),
      },
    }),
  ];
}

async function explain(deps: ExplainDeps, ctx: HandlerContext<z.output<typeof fields>>) {
  const caller = ctx.caller;
  if (!caller) throw denied();
  const d = ctx.data;
  const rawPath = (d.path ?? '').replace(/^\/+/, '').replace(/^v1\//, '');
  if (rawPath === '') throw invalid('missing path');
  const operation = (d.operation ?? 'read').toLowerCase();
  if (!(OPERATIONS as readonly string[]).includes(operation)) throw invalid(`operation must be one of ${OPERATIONS.join(', ')}`);
  // As the HTTP layer does for LIST requests: the ACL sees a folder path.
  const path = normalizePath(operation === 'list' && !rawPath.endsWith('/') ? `${rawPath}/` : rawPath);
  const clientIp = d.client_ip ?? ctx.request.clientIp;
  if (d.client_ip !== undefined && !parseCidr(d.client_ip)) throw invalid('client_ip must be an IPv4 or IPv6 address');

  const other = Boolean(d.token || d.accessor || d.client_ip);
  if (other && !(await hasSudo(deps, caller, ctx.request.clientIp))) throw denied();
  let subject: { policies: readonly string[]; entityId: string; identity: IdentityView | undefined };
  if (d.token || d.accessor) {
    const entry = d.token ? await deps.tokens.lookup(d.token) : await deps.tokens.lookupByAccessor(d.accessor ?? '');
    if (!entry) throw invalid(d.token ? 'invalid token' : 'invalid accessor');
    subject = { policies: entry.policies, entityId: entry.entityId, identity: deps.identity?.viewFor(entry.entityId) };
  } else {
    subject = { policies: caller.policies, entityId: caller.entityId, identity: caller.identity };
  }

  const now = Date.now();
  const context = requestContext(clientIp, subject.identity, now);
  const acl = await deps.authorizer.aclFor(subject.policies, subject.identity);
  const request = { data: d.data ?? {}, wrapTtl: d.wrap_ttl, context };
  const e = acl.explain?.(path, operation as Operation, request);
  const identityPolicies = [...(subject.identity?.policies ?? [])];
  const base = {
    path, operation, client_ip: clientIp, time: new Date(now).toISOString(), entity_id: subject.entityId,
    policies: [...new Set([...subject.policies, ...identityPolicies])].sort(), token_policies: [...subject.policies], identity_policies: identityPolicies,
  };
  if (subject.identity?.disabled) {
    return { data: { ...base, allowed: false, root: false, capabilities: ['deny'], sudo: false, rule: null, match: null, decided_by: [], skipped: [], reason: "the token's entity is disabled" } };
  }
  if (!e) {
    const check = acl.check(path, operation as Operation, request);
    return { data: { ...base, allowed: check.allowed, root: acl.isRoot, capabilities: acl.capabilities(path, context), sudo: check.sudo, rule: null, match: null, decided_by: [], skipped: [], reason: '' } };
  }
  return {
    data: {
      ...base, allowed: e.allowed, root: e.root, capabilities: [...e.capabilities], sudo: e.sudo, rule: e.rule ?? null, match: e.match ?? null,
      decided_by: e.decidedBy.map(stanza), skipped: e.skipped.map((s) => ({ ...stanza(s), rule: s.rule, match: s.match })), reason: e.reason,
    },
  };
}

function stanza(s: StanzaRef): Record<string, unknown> {
  return {
    policy: s.policy, path: s.path, ...(s.rendered === undefined ? {} : { rendered: s.rendered }), capabilities: [...s.capabilities],
    conditions: s.conditions.map((c: ConditionOutcome) => ({ condition: c.condition, holds: c.holds, detail: c.detail })),
  };
}

async function hasSudo(deps: ExplainDeps, caller: Caller, clientIp: string): Promise<boolean> {
  if (caller.isRoot) return true;
  const acl = await deps.authorizer.aclFor(caller.policies, caller.identity);
  const caps = acl.capabilities(`sys/${PATH}`, requestContext(clientIp, caller.identity));
  return caps.includes('sudo') || caps.includes('root');
}
