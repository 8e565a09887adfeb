/** Limits that keep hostile or runaway configurations cheap to refuse. GitLab's values where it has one. */
export const LIMITS = {
  /** Largest accepted file, in bytes (GitLab: 1 MiB). */
  maxFileBytes: 1024 * 1024,
  /** Deepest accepted nesting of mappings and sequences (GitLab: 100). */
  maxDepth: 100,
  /** Values produced from one file after alias expansion; stops alias bombs early. */
  maxNodes: 200_000,
  /** Files included in one pipeline, and nesting of includes (GitLab: 150 and 100). */
  maxIncludes: 150,
  maxIncludeDepth: 100,
  /** Nesting of `extends` (GitLab: 11). */
  maxExtendsDepth: 11,
  /** Nesting of `!reference` tags (GitLab: 10). */
  maxReferenceDepth: 10,
  /** Entries in one job's `needs` (GitLab: 50). */
  maxNeeds: 50,
  /** Jobs created by one `parallel` (GitLab: 200). */
  maxParallel: 200,
  /** Errors reported for one pipeline; the rest are summarised. */
  maxErrors: 100,
  /** Milliseconds for one `include:remote` fetch. */
  remoteTimeoutMs: 10_000,
  /** Length of one regular expression in `rules:if` / `only` (characters). */
  maxRegexLength: 1_000,
  /** Length of a string matched by a regular expression; longer inputs are truncated-refused. */
  maxRegexInput: 10_000,
  /** Length of one `rules:if` expression (characters). */
  maxExpressionLength: 4_000,
} as const;
