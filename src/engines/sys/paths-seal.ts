import { definePath, type PathSpec } from '../../core/framework.js';

/** sys/seal: needs sudo (root), as in Vault. Sealed before the reply, so a status read after it says sealed. */
export function sealPaths(seal: () => Promise<void>): PathSpec[] {
  return [
    definePath({
      pattern: 'seal',
      help: 'Seals the server: keys are dropped from memory until a quorum of unseal keys is given again.',
      sudo: true,
      operations: {
        update: async () => {
          await seal();
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'step-down',
      help: 'Asks the active node to step down. Without HA there is no other node, so it is a no-op (204), as in Vault.',
      sudo: true,
      operations: { update: async () => ({ noContent: true }) },
    }),
  ];
}
