/**
 * Summarizes V8 CPU profiles (`.cpuprofile`, from `main.js --cpu-prof DIR`): the functions with the
 * most self time, and the project's own functions (under src/) with the most inclusive time.
 * `node bench/node_modules/.out/bench/profile-summary.js FILE_OR_DIR [top]`
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

export interface Row {
  key: string;
  percent: number;
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const file = f.url.replace(/^file:\/\//, '');
  const at = file.includes('/src/')
    ? `src/${file.split('/src/').pop()}`
    : file.split('/').slice(-2).join('/');
  return `${f.functionName || '(anonymous)'} ${at}${f.url ? `:${f.lineNumber + 1}` : ''}`;
}

/** Self and inclusive shares (percent of samples) per function. */
export function summarize(p: Profile, top: number): { self: Row[]; inclusiveSrc: Row[]; seconds: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const id of p.samples) {
    const n = byId.get(id);
    if (!n) continue;
    self.set(label(n), (self.get(label(n)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur);
      if (node?.callFrame.url.includes('/src/')) seen.add(label(node));
    }
    for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + 1);
  }
  const rows = (m: Map<string, number>): Row[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, v]) => ({ key, percent: Math.round((v / p.samples.length) * 1000) / 10 }));
  return { self: rows(self), inclusiveSrc: rows(inclusive), seconds: (p.endTime - p.startTime) / 1e6 };
}

async function main(): Promise<void> {
  const target = process.argv[2];
  if (!target) throw new Error('usage: profile-summary.js FILE_OR_DIR [top]');
  const top = Number(process.argv[3] ?? 25);
  const files = (await stat(target)).isDirectory()
    ? (await readdir(target)).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(target, f))
    : [target];
  for (const file of files) {
    const s = summarize(JSON.parse(await readFile(file, 'utf8')) as Profile, top);
    console.log(`\n${file} (${s.seconds.toFixed(1)} s profiled)\n  self time:`);
    for (const r of s.self) console.log(`    ${r.percent.toFixed(1).padStart(5)}%  ${r.key}`);
    console.log('  inclusive time, src/ functions:');
    for (const r of s.inclusiveSrc) console.log(`    ${r.percent.toFixed(1).padStart(5)}%  ${r.key}`);
  }
}

if (process.argv[1]?.endsWith('profile-summary.js')) void main();
