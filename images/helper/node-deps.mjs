// Prints the node_modules folders (relative to the project) that the helper's packages need:
// the given package names and everything they depend on, resolved as Node resolves them.
import { existsSync, readFileSync } from 'node:fs';
import process from 'node:process';
import { basename, dirname, join, relative } from 'node:path';

const root = process.cwd();
const seen = new Set();

function find(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    // As Node resolves: no `node_modules/node_modules` (a stray link there must not be followed).
    const candidate = join(dir, 'node_modules', name);
    if (basename(dir) !== 'node_modules' && existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return null;
  }
}

function visit(name, from) {
  const dir = find(name, from);
  if (dir === null) throw new Error(`package ${name} not found from ${from}`);
  if (seen.has(dir)) return;
  seen.add(dir);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir);
}

for (const name of process.argv.slice(2)) visit(name, root);
process.stdout.write(
  [...seen]
    .map((d) => relative(root, d))
    .sort()
    .join('\n') + '\n',
);
