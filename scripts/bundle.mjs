/**
 * Bundles the compiled CLI into a few ES modules, so that starting `flotilla` reads a handful of
 * files instead of ~900 (kysely alone is ~265 modules; resolving and reading them was most of
 * `flotilla run`'s start). Code that only some commands need (docker, autoscaler, PostgreSQL)
 * stays in lazily loaded chunks. Packages with native addons stay external and load from
 * node_modules.
 *
 *   node scripts/bundle.mjs ENTRY.js OUTDIR    # writes OUTDIR/<entry name>.mjs and its chunks
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';

import { build } from 'esbuild';

const [entry, outdir] = process.argv.slice(2);
if (!entry || !outdir) {
  process.stderr.write('usage: node scripts/bundle.mjs ENTRY.js OUTDIR\n');
  process.exit(2);
}

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [entry],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  // Native addons (and the packages that load them) cannot be bundled.
  external: ['better-sqlite3', 'dockerode', 'ssh2', 'cpu-features', 'pg-native'],
  // CommonJS packages inside an ES module bundle call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __flotillaRequire } from 'node:module'; const require = __flotillaRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
process.stdout.write(
  `bundled ${path.relative(process.cwd(), entry)} into ${path.relative(process.cwd(), outdir)}\n`,
);
