import * as z from 'zod';
import { int } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import { invalid, notFound } from '../../util/errors.js';
import { subkeysOf } from './merge-patch.js';
import { isLive, secretPath, versionView, type KvStore } from './store.js';

const fields = z.object({ version: int().optional(), depth: int().optional() });

/** `subkeys/:path`: the shape of a secret (its keys, nested) with every value replaced by null. */
export function subkeysPaths(store: KvStore): PathSpec[] {
  return [
    definePath({
      pattern: 'subkeys/:path*',
      help: 'Reads the keys of a secret version, nested, with every value replaced by null.',
      fields,
      fieldHelp: {
        version: 'The version to read (default: the latest).',
        depth: 'How deep to descend (0 = no limit); deeper objects are shown as null.',
      },
      operations: {
        read: async (ctx) => {
          const depth = ctx.data.depth ?? 0;
          if (depth < 0) throw invalid('depth: must not be negative');
          const path = secretPath(ctx.params['path']);
          if (path === undefined) throw notFound();
          const meta = await store.meta(path);
          if (!meta) throw notFound();
          const requested = ctx.data.version ?? 0;
          const version = requested > 0 ? requested : meta.current_version;
          const vm = meta.versions[version];
          if (!vm) throw notFound();
          const metadata = versionView(meta, version, vm);
          if (!isLive(vm)) return { status: 404, data: { subkeys: null, metadata } };
          const data = await store.versionData(path, version);
          if (!data) throw notFound();
          return { data: { subkeys: subkeysOf(data, depth), metadata } };
        },
      },
    }),
  ];
}
