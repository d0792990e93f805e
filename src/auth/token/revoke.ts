import { definePath, type PathSpec } from '../../core/framework.js';
import type { TokenEntry } from '../../core/tokens/entry.js';
import { invalid } from '../../util/errors.js';
import { accessorField, callerOf, hasSudo, requiredAccessor, requiredToken, tokenField, type TokenBackendDeps } from './common.js';

function notBatch(entry: TokenEntry): void {
  // A batch token is not stored, so there is nothing to revoke: it dies with its parent or TTL.
  if (entry.type === 'batch') throw invalid('batch tokens cannot be revoked');
}

/** auth/token/revoke, revoke-self, revoke-accessor and revoke-orphan. */
export function revokePaths(deps: TokenBackendDeps): PathSpec[] {
  const { tokens } = deps;
  /** Revokes a token with all of its children; an unknown token is already gone, so not an error. */
  const revokeWithChildren = async (token: string): Promise<{ noContent: true }> => {
    const entry = await tokens.lookup(token);
    if (entry) {
      notBatch(entry);
      await tokens.revokeTree(entry.id);
    }
    return { noContent: true };
  };
  return [
    definePath({
      pattern: 'revoke',
      help: 'Revokes a token and all of its children (and their cubbyholes and leases).',
      fields: tokenField,
      fieldHelp: { token: 'The token to revoke.' },
      operations: {
        update: async (ctx) => revokeWithChildren(requiredToken(ctx.data)),
      },
    }),
    definePath({
      pattern: 'revoke-self',
      help: 'Revokes the caller\'s own token and all of its children.',
      operations: {
        update: async (ctx) => revokeWithChildren(callerOf(ctx).token),
      },
    }),
    definePath({
      pattern: 'revoke-accessor',
      help: 'Revokes the token with this accessor and all of its children.',
      fields: accessorField,
      fieldHelp: { accessor: 'Accessor of the token to revoke.' },
      operations: {
        update: async (ctx) => {
          const tainted = await tokens.lookupByAccessor(requiredAccessor(ctx.data), { tainted: true });
          if (!tainted) return { warnings: ['No token found with this accessor'] };
          const entry = await tokens.lookupById(tainted.id);
          if (!entry) throw invalid('token not found');
          await tokens.revokeTree(entry.id);
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'revoke-orphan',
      help: 'Revokes a token but not its children, which become orphans (root or sudo).',
      fields: tokenField,
      fieldHelp: { token: 'The token to revoke.' },
      operations: {
        update: async (ctx) => {
          const token = requiredToken(ctx.data);
          if (!(await hasSudo(deps, ctx))) throw invalid('root or sudo privileges required to revoke and orphan');
          const entry = await tokens.lookup(token);
          if (!entry) throw invalid('token to revoke not found');
          notBatch(entry);
          await tokens.revokeOrphan(entry.id);
          return { noContent: true };
        },
      },
    }),
  ];
}
