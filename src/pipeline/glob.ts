import { compileRegex, type SafeRegex } from './re2.js';

/**
 * Glob patterns as GitLab matches paths, compiled to the linear-time RE2 matcher so that no
 * pattern can hang. `rules:changes` and `rules:exists` use Ruby's `File.fnmatch?` with
 * FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB (`pathname`): `*`, `?` and `[...]` stay within one
 * path segment and match leading dots, `**` crosses directories only as a whole segment
 * followed by a slash (elsewhere it is a `*`), `{a,b}` alternates, `\` escapes. `include:local` wildcards also let a
 * `**` that is not followed by `/` cross directories (`configs/**.yml`), as GitLab documents.
 *
 * No npm glob library has Ruby's fnmatch rules (they treat `docs/**` as every path below
 * `docs/`), so this small translation stays ours; its table test is glob.test.ts.
 */
export interface GlobOptions {
  pathname?: boolean;
}

export function compileGlob(glob: string, options: GlobOptions = {}): SafeRegex {
  return compileRegex(`^${globSource(glob.replace(/^\.?\//, ''), options.pathname ?? false)}$`);
}

function globSource(glob: string, pathname: boolean): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] ?? '';
    const segmentStart = i === 0 || glob[i - 1] === '/';
    if (ch === '*' && glob[i + 1] === '*') {
      let end = i;
      while (glob[end] === '*') end += 1;
      if (segmentStart && glob[end] === '/') {
        out += '(?:.*/)?';
        i = end;
      } else {
        out += pathname ? '[^/]*' : '.*';
        i = end - 1;
      }
    } else if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '\\' && i + 1 < glob.length) {
      out += literal(glob[i + 1] ?? '');
      i += 1;
    } else if (ch === '{') {
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
        out += charClass(glob.slice(i + 1, end));
        i = end;
      }
    } else out += literal(ch);
  }
  return out + ')'.repeat(depth);
}

/** `[abc]`, `[a-z]`, `[!a]` / `[^a]`; a negated class never matches `/`. */
function charClass(body: string): string {
  const negated = body.startsWith('!') || body.startsWith('^');
  const items = (negated ? body.slice(1) : body).replace(/[\\\]^[]/g, (c) => `\\${c}`);
  return negated ? `[^/${items}]` : `[${items}]`;
}

/** RE2 takes a backslash before ASCII punctuation only; everything else is itself. */
function literal(ch: string): string {
  return /^[!-.:-@[-^`{-~]$/.test(ch) ? `\\${ch}` : ch;
}

/** Whether any of `paths` matches any of `globs`, with `rules:changes` / `rules:exists` rules. */
export function anyPathMatches(globs: string[], paths: string[]): boolean {
  const compiled = globs.map((g) => compileGlob(g, { pathname: true }));
  return paths.some((p) => compiled.some((g) => g.test(p)));
}
