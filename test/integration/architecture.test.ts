/**
 * docs/architecture.md stays true: its "May import" column is the lint rule's part map, and its
 * parts graph is the one generated from the code. The build carries no test code.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

import { describe, expect, it } from 'vitest';

// @ts-expect-error the lint config is a plain ES module without type declarations
import { PARTS } from '../../eslint.config.js';
// @ts-expect-error a plain ES module script without type declarations
import { currentGraph, DOC, partEdges, renderGraph } from '../../scripts/architecture.mjs';

type Parts = Record<string, string[] | '*'>;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Part → the parts its table row may import (`*` for "everything"). */
function tableRows(doc: string, parts: string[]): Map<string, string[] | '*'> {
  const rows = new Map<string, string[] | '*'>();
  for (const line of doc.split('\n')) {
    const m = /^\| `src\/([a-z]+)\/` \|.*\| ([^|]+) \|$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const cell = m[2];
    const named = [...cell.matchAll(/`([a-z]+)`/g)].map((x) => x[1] ?? '').filter((p) => parts.includes(p));
    rows.set(m[1], cell.trim() === 'everything' ? '*' : named);
  }
  return rows;
}

describe('docs/architecture.md', () => {
  it('lists, for every part, exactly what lint lets it import', async () => {
    const parts = PARTS as Parts;
    const rows = tableRows(await readFile(DOC as string, 'utf8'), Object.keys(parts));
    expect([...rows.keys()].sort()).toEqual(Object.keys(parts).sort());
    for (const [part, allowed] of Object.entries(parts)) {
      const row = rows.get(part);
      expect(allowed === '*' ? allowed : [...allowed].sort(), `src/${part}`).toEqual(
        row === '*' ? row : [...(row ?? [])].sort(),
      );
    }
  });

  it('has a rule for every top-level folder of src (lint checks no folder without one)', async () => {
    const folders = (await readdir(join(ROOT, 'src'), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(folders.sort()).toEqual(Object.keys(PARTS as Parts).sort());
  });

  it('draws the parts graph of the code as it is (regenerate with npm run docs:architecture)', async () => {
    const doc = await readFile(DOC as string, 'utf8');
    const edges = (await partEdges()) as [string, string][];
    expect(currentGraph(doc)).toBe(renderGraph(edges));
    for (const [from, to] of edges) {
      const allowed = (PARTS as Parts)[from];
      expect(allowed === '*' || allowed?.includes(to), `${from} → ${to}`).toBe(true);
    }
  });
});

/** The files `tsc -p tsconfig.build.json` compiles: its roots and everything they import. */
function buildProgramFiles(): { own: string[]; vitest: string[] } {
  const configPath = join(ROOT, 'tsconfig.build.json');
  const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const config = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT, undefined, configPath);
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const own = program
    .getSourceFiles()
    .filter((f) => !relative(ROOT, f.fileName).startsWith('..') && !f.fileName.includes('node_modules'));
  return {
    own: own.map((f) => relative(ROOT, f.fileName)),
    vitest: own.filter((f) => /from ['"]vitest['"]/.test(f.text)).map((f) => relative(ROOT, f.fileName)),
  };
}

describe('the build', () => {
  it('contains no test code: no *.test.ts, nothing from test/, nothing that loads vitest', () => {
    const { own, vitest } = buildProgramFiles();
    expect(own.length).toBeGreaterThan(100);
    expect(own.filter((f) => !f.startsWith(`src${sep}`))).toEqual([]);
    expect(own.filter((f) => /\.test\.ts$/.test(f))).toEqual([]);
    expect(vitest).toEqual([]);
  });

  it('has no production file under src that imports test/', async () => {
    const offenders: string[] = [];
    const srcDir = join(ROOT, 'src');
    for (const entry of await readdir(srcDir, { recursive: true })) {
      const file = join(srcDir, entry);
      if (!/\.tsx?$/.test(file) || /\.test\.ts$/.test(file)) continue;
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = relative(srcDir, resolve(dirname(file), m[1] ?? ''));
        if (target.startsWith('..')) offenders.push(`${relative(ROOT, file)} → ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('writes the code cache of `flotilla run` at build time, from a pipeline that reaches most of its code', async () => {
    const cache = join(ROOT, 'dist', 'bundle', '.code-cache', 'main-run.bin');
    expect(existsSync(cache), `${cache}: run \`npm run build\` first`).toBe(true);
    // The top level alone (a process that loaded the bundle and ran nothing) caches about 0.8 MB.
    expect((await stat(cache)).size).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('bundles (dist/bundle, what bin/flotilla.js runs) only compiled production modules and packages', async () => {
    const bundleDir = join(ROOT, 'dist', 'bundle');
    expect(existsSync(join(bundleDir, 'main.cjs')), 'dist/bundle/main.cjs: run `npm run build` first').toBe(
      true,
    );
    const files = [
      join(bundleDir, 'main.cjs'),
      ...(await readdir(join(bundleDir, 'esm'))).map((f) => join(bundleDir, 'esm', f)),
    ];
    const modules = new Set<string>();
    const offenders: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      // esbuild opens each module's code with a comment naming its file.
      for (const m of text.matchAll(/^\/\/ ((?:dist|src|test|harness|bench|node_modules|\.\.)\/\S+)$/gm))
        modules.add(m[1] ?? '');
      if (/test\/kits\/|harness\//.test(text))
        offenders.push(`${relative(ROOT, file)} names test/kits or harness`);
    }
    expect(modules.size).toBeGreaterThan(500);
    for (const m of modules) {
      if (/(^|\/)node_modules\//.test(m)) continue;
      const source = /^dist\/(.+)\.js$/.exec(m)?.[1];
      // Every compiled module is the build of a production source file that exists now (not a
      // leftover of an older build, not a test, not a test kit such as the fake provider).
      if (source === undefined || !existsSync(join(ROOT, 'src', `${source}.ts`)) || source.endsWith('.test'))
        offenders.push(m);
      if (/fake/i.test(m)) offenders.push(`${m} (a fake)`);
    }
    expect(offenders).toEqual([]);
  });
});
