import * as z from 'zod';
import { bool, int } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import { parseDurationSeconds } from '../../util/duration.js';
import { invalid } from '../../util/errors.js';
import { goDuration, type KvStore } from './store.js';

/** A duration that may be negative ("-1s" or -1 disables delete_version_after for every key). */
const signedDuration = () => z.unknown().transform((v, ctx) => {
  const negative = (typeof v === 'number' && v < 0) || (typeof v === 'string' && v.trim().startsWith('-'));
  const magnitude = parseDurationSeconds(typeof v === 'number' ? Math.abs(v) : typeof v === 'string' ? v.trim().replace(/^-/, '') : v);
  if (magnitude === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as "30m" or a number of seconds' });
    return z.NEVER;
  }
  return negative ? -Math.max(magnitude, 1) : magnitude;
});

const fields = z.object({
  max_versions: int().optional(),
  cas_required: bool().optional(),
  delete_version_after: signedDuration().optional(),
});

/** `config`: engine-wide settings that apply to every secret of the mount. */
export function configPaths(store: KvStore): PathSpec[] {
  return [
    definePath({
      pattern: 'config',
      help: 'Engine settings applied to every secret: max_versions, cas_required, delete_version_after.',
      fields,
      fieldHelp: {
        max_versions: 'Versions to keep per secret (0 = 10); a secret\'s own larger setting wins.',
        cas_required: 'If true, every write must carry options.cas.',
        delete_version_after: 'Each new version is deleted this long after it is written; 0 clears, a negative value disables it for every secret.',
      },
      operations: {
        read: async () => {
          const c = await store.config();
          return { data: { cas_required: c.cas_required, delete_version_after: goDuration(c.delete_version_after), max_versions: c.max_versions } };
        },
        update: async (ctx) => {
          const d = ctx.data;
          if (d.max_versions === undefined && d.cas_required === undefined && d.delete_version_after === undefined) return { noContent: true };
          if (d.max_versions !== undefined && d.max_versions < 0) throw invalid('max_versions: must not be negative');
          // A NUL never occurs in a secret path, so this lock key cannot collide with one.
          return store.lock.run('\u0000config', async () => {
            const current = await store.config();
            await store.commit([store.configOp({
              max_versions: d.max_versions ?? current.max_versions,
              cas_required: d.cas_required ?? current.cas_required,
              delete_version_after: d.delete_version_after ?? current.delete_version_after,
            })]);
            return { noContent: true };
          });
        },
      },
    }),
  ];
}
