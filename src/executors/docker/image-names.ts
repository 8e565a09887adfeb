/**
 * Image reference helpers: the registry an image comes from, the host names GitLab derives for a
 * service (`postgres:16` → `postgres`; `tutum/wordpress` → `tutum-wordpress`, `tutum__wordpress`),
 * and allow-list matching.
 */

/** `name` without its tag or digest: `a/b:1@sha256:..` → `a/b`. */
export function withoutTag(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** The registry host of an image (`docker.io` for Docker Hub names). */
export function registryOf(image: string): string {
  const first = image.split('/')[0] ?? '';
  const hasRegistry =
    image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return hasRegistry ? first : 'docker.io';
}

/** GitLab's derived service host names: the name without tag and registry port, `/` → `__` and `-`. */
export function serviceHostnames(image: string): string[] {
  const name = withoutTag(image);
  const [first, ...rest] = name.split('/');
  const host =
    rest.length > 0 && first !== undefined && first.includes(':') ? first.replace(/:\d+$/, '') : first;
  const path = [host, ...rest].join('/');
  return [...new Set([path.replace(/\//g, '__'), path.replace(/\//g, '-')])];
}

/** The `alias` field of an image or service: one or more names separated by commas or spaces. */
export function aliasList(alias: string | null | undefined): string[] {
  return (alias ?? '').split(/[\s,]+/).filter((a) => a !== '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** A glob as gitlab-runner's allow lists use it: `*` within one path part, `**` across parts. */
export function imageGlob(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? '';
    if (ch === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (ch === '*') source += '[^/]*';
    else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`);
}

/** Whether `image` is allowed by `patterns` (an empty list allows every image). */
export function imageAllowed(image: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  const candidates = withoutTag(image) === image ? [image, `${image}:latest`] : [image];
  return patterns.some((p) => candidates.some((c) => imageGlob(p).test(c)));
}
