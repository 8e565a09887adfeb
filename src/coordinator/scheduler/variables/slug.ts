/** GitLab's `CI_COMMIT_REF_SLUG` rule: lowercase, non [a-z0-9] → '-', at most 63 chars, no edge dashes. */
export function slugify(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
}

/** Matches a ref against a protected-branch pattern with `*` wildcards. */
export function matchesWildcard(pattern: string, value: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
  return re.test(value);
}
