import { compileRegex, type SafeRegex } from './re2.js';

/**
 * Glob patterns as GitLab matches `changes`, `exists` and `include:local` paths (fnmatch with
 * pathname, dotmatch and extglob braces): `*` and `?` stay within one path segment, `**` crosses
 * them, `{a,b}` alternates. Compiled to the linear-time matcher, so no pattern can hang.
 */
export function compileGlob(glob: string): SafeRegex {
  return compileRegex(`^${globSource(glob.replace(/^\.?\//, ''))}$`);
}

function globSource(glob: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] ?? '';
    if (ch === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '{') {
      out += '(?:';
      depth += 1;
    } else if (ch === '}' && depth > 0) {
      out += ')';
      depth -= 1;
    } else if (ch === ',' && depth > 0) out += '|';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        out += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else out += /[A-Za-z0-9_/-]/.test(ch) ? ch : `\\${ch}`;
  }
  return out + ')'.repeat(depth);
}

/** Whether any of `paths` matches any of `globs`. */
export function anyPathMatches(globs: string[], paths: string[]): boolean {
  const compiled = globs.map(compileGlob);
  return paths.some((p) => compiled.some((g) => g.test(p)));
}
