/**
 * docs/architecture.md stays true: its "May import" column is the lint rule's part map, and its
 * parts graph is the one generated from the code.
 */
import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

// @ts-expect-error the lint config is a plain ES module without type declarations
import { PARTS } from '../../eslint.config.js';
// @ts-expect-error a plain ES module script without type declarations
import { currentGraph, DOC, partEdges, renderGraph } from '../../scripts/architecture.mjs';

type Parts = Record<string, string[] | '*'>;

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
