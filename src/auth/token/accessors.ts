import { definePath, type PathSpec } from '../../core/framework.js';
import { notFound } from '../../util/errors.js';
import type { TokenBackendDeps } from './common.js';

/** LIST auth/token/accessors (sudo) and auth/token/tidy. */
export function accessorPaths(deps: TokenBackendDeps): PathSpec[] {
  let tidying = false;
  return [
    definePath({
      pattern: 'accessors',
      help: 'Lists the accessors of all tokens. Needs sudo: listing every token is a denial-of-service risk.',
      sudo: true,
      operations: {
        list: async () => {
          const keys = await deps.tokens.listAccessors();
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      },
    }),
    definePath({
      pattern: 'tidy',
      help: 'Removes index entries left without a token and revokes expired tokens and children of vanished parents.',
      operations: {
        update: async () => {
          if (tidying) return { warnings: ['Tidy operation already in progress.'] };
          tidying = true;
          try {
            const r = await deps.tokens.tidy();
            // 202 as in Vault; Coffer tidies before answering, so the counts are final.
            return {
              status: 202,
              warnings: [`Tidy operation completed: ${r.accessors} dangling accessor entries and ${r.parentIndex} parent index entries removed, ${r.revoked} tokens revoked.`],
            };
          } finally {
            tidying = false;
          }
        },
      },
    }),
  ];
}
