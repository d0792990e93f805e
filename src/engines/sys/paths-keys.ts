import type { Barrier } from '../../barrier/index.js';
import { definePath, type PathSpec } from '../../core/framework.js';

/** sys/rotate and sys/key-status: the barrier's keyring terms. */
export function keyPaths(barrier: Pick<Barrier, 'rotate' | 'keyStatus'>): PathSpec[] {
  return [
    definePath({
      pattern: 'rotate',
      help: 'Adds a new barrier key term; older terms stay for reading existing data.',
      sudo: true,
      operations: {
        update: async () => {
          await barrier.rotate();
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'key-status',
      help: 'The active barrier key term, when it was installed and how many encryptions it has done.',
      operations: {
        read: async () => {
          const s = barrier.keyStatus();
          return { data: { term: s.term, install_time: s.installTime.toISOString(), encryptions: s.encryptions } };
        },
      },
    }),
  ];
}
