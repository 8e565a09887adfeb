/**
 * Artifact path patterns, matched like gitlab-runner's doublestar globs: `*` and `?` stay within a
 * path segment, `**` spans segments, and a pattern naming a directory selects everything under it.
 */

function escapeRegExp(ch: string): string {
  return /[.+^${}()|\\]/.test(ch) ? '\\' + ch : ch;
}

function normalize(pattern: string): string {
  return pattern
    .replace(/\\/g, '/')
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '');
}

export function globToRegExp(pattern: string): RegExp {
  const p = normalize(pattern);
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i] ?? '';
    if (ch === '*' && p[i + 1] === '*') {
      const slash = p[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      const end = p.indexOf(']', i + 1);
      if (end === -1) out += '\\[';
      else {
        out += '[' + p.slice(i + 1, end).replace(/^!/, '^') + ']';
        i = end;
      }
    } else out += escapeRegExp(ch);
  }
  return new RegExp(`^${out}$`);
}

/** True when `path` (relative, `/`-separated) or one of its parent directories matches a pattern. */
export function matchesAny(path: string, patterns: readonly RegExp[]): boolean {
  const parts = path.split('/');
  for (let n = parts.length; n > 0; n--) {
    const prefix = parts.slice(0, n).join('/');
    if (patterns.some((re) => re.test(prefix))) return true;
  }
  return false;
}
