/** Where things are, from the compiled bench (`bench/node_modules/.out/bench/lib/`) or its source. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.split(path.sep).includes('.out');

/** The repository root. */
export const ROOT = compiled ? path.resolve(here, '../../../../..') : path.resolve(here, '../..');
/** The compiled bench folder. */
export const OUT = path.join(ROOT, 'bench', 'node_modules', '.out', 'bench');
/**
 * The `flotilla` CLI compiled from this checkout's sources with the bench, bundled as `npm run build`
 * bundles it; `FLOTILLA_BENCH_CLI` names another build's `cli.mjs` (A/B runs against older code).
 */
export const CLI = process.env['FLOTILLA_BENCH_CLI'] ?? path.join(OUT, '..', 'bundle', 'cli.mjs');
/** The peer is installed here, outside the project's dependencies. */
export const PEER_DIR = path.join(ROOT, 'bench', 'node_modules', '.peer');
export const PEER_BIN = path.join(PEER_DIR, 'node_modules', 'gitlab-ci-local', 'src', 'index.js');
export const RESULTS_FILE = path.join(ROOT, 'bench', 'results', 'latest.json');
export const WORKLOADS = path.join(ROOT, 'bench', 'workloads');
