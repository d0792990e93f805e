// Bundles the compiled CLI (dist/cli/main.js and everything it imports: the SDK, commander, zod)
// into one file, dist/cli/bundle.js, which bin/coffer.js loads. One file instead of ~150 ESM
// modules takes about half of a client command's cold start (docs/benchmarks.md). The server is
// left out: `coffer server` still imports dist/server/start.js on demand, unbundled, with its
// native modules. Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

/** The server entry stays a separate, lazily imported module; seen from dist/cli/ it is ../server/start.js. */
const serverStaysOutside = {
  name: 'server-stays-outside',
  setup(b) {
    b.onResolve({ filter: /\/server\/start\.js$/ }, () => ({ path: '../server/start.js', external: true }));
  },
};

await build({
  entryPoints: [`${dist}cli/main.js`],
  outfile: `${dist}cli/bundle.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // commander is CommonJS and requires Node's built-ins; an ES module has no `require` of its own.
  banner: { js: "import { createRequire as __cofferRequire } from 'node:module'; const require = __cofferRequire(import.meta.url);" },
  plugins: [serverStaysOutside],
  legalComments: 'none',
  logLevel: 'warning',
});
