/**
 * The bundle's find-my-way (scripts/router-patches.mjs: no `new Function` per route) routes as the
 * package does: the same handler, the same params (names, values, order) or the same miss for
 * every path of a route table with shared static prefixes, parameters (up to six in one route),
 * regex parameters, wildcards and constraints (version, host).
 */
import { createRequire } from 'node:module';
import { runInThisContext } from 'node:vm';

import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

// @ts-expect-error -- a build script (ES module without types)
import { routerPatches } from '../../scripts/router-patches.mjs';

type Handler = (req: unknown, res: unknown, params: Record<string, string>, store: unknown) => unknown;
interface Router {
  on(method: string, path: string, opts: object, handler: Handler, store?: unknown): void;
  find(
    method: string,
    path: string,
    constraints?: Record<string, string>,
  ): { handler: Handler; params: Record<string, string>; store: unknown } | null;
}
type RouterFactory = (opts?: object) => Router;

/** find-my-way bundled into one CommonJS function, with or without the patches. */
async function loadRouter(
  patched: boolean,
): Promise<{ factory: RouterFactory; warnings: number; newFunctions: number }> {
  const out = await build({
    stdin: { contents: "module.exports = require('find-my-way');", resolveDir: process.cwd() },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    write: false,
    plugins: patched ? [routerPatches as Plugin] : [],
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]?.text ?? '';
  const fn = runInThisContext(`(function (module, exports, require) {${code}\n})`) as (
    m: { exports: unknown },
    e: unknown,
    r: NodeRequire,
  ) => void;
  const mod = { exports: {} as unknown };
  fn(mod, mod.exports, createRequire(import.meta.url));
  const newFunctions = code.split('new Function(').length - 1;
  return { factory: mod.exports as RouterFactory, warnings: out.warnings.length, newFunctions };
}

const ROUTES: [string, string, object][] = [
  ['GET', '/', {}],
  ['GET', '/api/v4/projects', {}],
  ['GET', '/api/v4/projects/:id', {}],
  ['GET', '/api/v4/projects/:id/pipelines', {}],
  ['GET', '/api/v4/projects/:id/pipelines/:pipelineId/jobs', {}],
  ['GET', '/api/v4/projects/:id/jobs/:jobId/trace', {}],
  ['GET', '/api/v4/projects/:id/jobs/:jobId/artifacts/:ref/raw/*', {}],
  ['GET', '/api/v4/projects/:id/repository/files/:file/raw', {}],
  ['GET', '/api/v4/projects/:id/repository/commits/:sha(^[0-9a-f]{7,40}$)', {}],
  ['GET', '/api/v4/a/:p1/b/:p2/c/:p3/d/:p4/e/:p5/f/:p6', {}],
  ['GET', '/api/v4/runners/:id', {}],
  ['GET', '/api/v4/runners/all', {}],
  ['POST', '/api/v4/jobs/request', {}],
  ['PUT', '/api/v4/jobs/:id', {}],
  ['PATCH', '/api/v4/jobs/:id/trace', {}],
  ['GET', '/api/v4/version', { constraints: { version: '1.2.0' } }],
  ['GET', '/api/v4/version', { constraints: { version: '2.0.0' } }],
  ['GET', '/api/v4/version', {}],
  ['GET', '/hosted', { constraints: { host: 'a.example' } }],
  ['GET', '/hosted', { constraints: { host: 'b.example' } }],
  ['GET', '/static/*', {}],
  ['GET', '/-/ui/app.js', {}],
  ['GET', '/-/ui/app.css', {}],
  ['GET', '/root/:project.git/info/refs', {}],
  ['POST', '/root/:project.git/git-upload-pack', {}],
];

const LOOKUPS: [string, string, Record<string, string>?][] = [
  ['GET', '/'],
  ['GET', '/api'],
  ['GET', '/api/v4/project'],
  ['GET', '/api/v4/projects'],
  ['GET', '/api/v4/projects/'],
  ['GET', '/api/v4/projects/12'],
  ['GET', '/api/v4/projects/root%2Fdemo'],
  ['GET', '/api/v4/projects/12/pipelines'],
  ['GET', '/api/v4/projects/12/pipelinesX'],
  ['GET', '/api/v4/projects/12/pipelines/7/jobs'],
  ['GET', '/api/v4/projects/12/pipelines/7/job'],
  ['GET', '/api/v4/projects/12/jobs/3/trace'],
  ['GET', '/api/v4/projects/12/jobs/3/artifacts/main/raw/out/a.txt'],
  ['GET', '/api/v4/projects/12/repository/files/README.md/raw'],
  ['GET', '/api/v4/projects/12/repository/commits/abcdef1'],
  ['GET', '/api/v4/projects/12/repository/commits/nothex'],
  ['GET', '/api/v4/a/1/b/2/c/3/d/4/e/5/f/6'],
  ['GET', '/api/v4/a/1/b/2/c/3/d/4/e/5/f'],
  ['GET', '/api/v4/runners/all'],
  ['GET', '/api/v4/runners/al'],
  ['GET', '/api/v4/runners/alls'],
  ['GET', '/api/v4/runners/9'],
  ['POST', '/api/v4/jobs/request'],
  ['POST', '/api/v4/jobs/reques'],
  ['PUT', '/api/v4/jobs/5'],
  ['PATCH', '/api/v4/jobs/5/trace'],
  ['PATCH', '/api/v4/jobs/5/trac'],
  ['GET', '/api/v4/version'],
  ['GET', '/api/v4/version', { version: '1.x' }],
  ['GET', '/api/v4/version', { version: '2.0.0' }],
  ['GET', '/api/v4/version', { version: '3.x' }],
  ['GET', '/hosted', { host: 'a.example' }],
  ['GET', '/hosted', { host: 'b.example' }],
  ['GET', '/hosted', { host: 'c.example' }],
  ['GET', '/hosted'],
  ['GET', '/static/x/y.png'],
  ['GET', '/-/ui/app.js'],
  ['GET', '/-/ui/app.css'],
  ['GET', '/-/ui/app.cs'],
  ['GET', '/-/ui/app.jsx'],
  ['GET', '/root/demo.git/info/refs'],
  ['POST', '/root/demo.git/git-upload-pack'],
  ['DELETE', '/api/v4/jobs/5'],
];

/** What the router answers for each lookup: the route's index, and its params with their order. */
function answers(factory: RouterFactory): unknown[] {
  const router = factory();
  ROUTES.forEach(([method, path, opts], i) => router.on(method, path, opts, () => i, i));
  return LOOKUPS.map(([method, path, constraints]) => {
    const found = router.find(method, path, constraints);
    return found === null ? null : { route: found.store, params: Object.entries(found.params) };
  });
}

describe("the bundle's find-my-way replacements", () => {
  it('apply to the installed find-my-way and route every path as the package does', async () => {
    const original = await loadRouter(false);
    const patched = await loadRouter(true);
    expect(patched.warnings).toBe(0);
    // The prefix matcher, the params builder and the eager constraint matcher are gone.
    expect(original.newFunctions - patched.newFunctions).toBe(2);
    const expected = answers(original.factory);
    expect(expected.filter((a) => a !== null).length).toBeGreaterThan(20);
    expect(answers(patched.factory)).toEqual(expected);
  });
});
