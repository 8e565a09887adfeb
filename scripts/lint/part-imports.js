/**
 * A local ESLint rule: a file under `src/<part>/` may import another top-level part only when the
 * part map allows it (relative imports are resolved, so a folder that shares a part's name inside
 * another part is not mistaken for it). Options: `[{ parts: { part: [allowed...] | '*' } }]`.
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
    },
  },
  create(context) {
    const parts = context.options[0]?.parts ?? {};
    const srcDir = path.join(context.cwd, 'src');
    const file = context.filename;
    const from = partOf(file, srcDir);
    const allowed = from === null ? '*' : parts[from];
    if (allowed === undefined || allowed === '*') return {};
    function check(node) {
      const source = node.source;
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const to = partOf(path.resolve(path.dirname(file), source.value), srcDir);
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
