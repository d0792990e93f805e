#!/usr/bin/env node
// The published entry point: the CLI as `npm run build` (run by `npm ci` through `prepare`) leaves
// it — compiled by tsc, then bundled into one file by scripts/bundle-cli.mjs for a fast cold start.
import '../dist/cli/bundle.js';
