/**
 * A local ESLint rule: a file under `src/<part>/` may import another top-level part only when the
 * part map allows it (relative imports are resolved, so a folder that shares a part's name inside
 * another part is not mistaken for it). Options: `[{ parts: { part: [allowed...] | '*' } }]`.
 * Production code (every file of `src/` but `*.test.ts`) imports nothing outside `src/`: test
 * kits (`test/kits/`), the harness and the benchmarks are not built and are no part.
 */
import path from 'node:path';

function partOf(file, srcDir) {
  const rel = path.relative(srcDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const [first, ...rest] = rel.split(path.sep);
  return rest.length > 0 ? first : null;
}

export const partImports = {
  meta: {
    type: 'problem',
    docs: { description: 'keeps the import table of docs/architecture.md' },
    schema: [{ type: 'object', properties: { parts: { type: 'object' } }, additionalProperties: false }],
    messages: {
      refused:
        'src/{{from}} may import only {{allowed}} (docs/architecture.md), not src/{{to}}; move the code or pass it in',
      outsideSrc:
        'production code imports nothing outside src/ ({{target}} is test or tooling code, not built); move the code into src/ or import it from a test',
    },
  },
  create(context) {
    const parts = context.options[0]?.parts ?? {};
    const srcDir = path.join(context.cwd, 'src');
    const file = context.filename;
    const from = partOf(file, srcDir);
    const production = from !== null && !file.endsWith('.test.ts');
    const allowed = from === null ? '*' : parts[from];
    if (!production && (allowed === undefined || allowed === '*')) return {};
    function check(node) {
      const source = node.source;
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source.value);
      const rel = path.relative(srcDir, target);
      if (production && (rel.startsWith('..') || path.isAbsolute(rel))) {
        const shown = path.relative(context.cwd, target);
        context.report({ node: source, messageId: 'outsideSrc', data: { target: shown } });
        return;
      }
      if (allowed === undefined || allowed === '*') return;
      const to = partOf(target, srcDir);
      if (to === null || to === from || allowed.includes(to)) return;
      context.report({
        node: source,
        messageId: 'refused',
        data: { from, to, allowed: allowed.length > 0 ? allowed.join(', ') : 'nothing internal' },
      });
    }
    return {
      ImportDeclaration: check,
      ImportExpression: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
    };
  },
};
