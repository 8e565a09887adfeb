import type { ZodError } from 'zod';

/**
 * A schema's refusal as one indented line per key: `  path.to.key: what is wrong (got "value")`.
 * The value is shown when `input` holds a string or number at that path; a token-like key's
 * value is never shown.
 */
export function configIssueLines(err: ZodError, input?: unknown): string[] {
  return err.issues.map((issue) => {
    const key = issue.path.join('.') || '(table)';
    const value = valueAt(input, issue.path);
    const shown =
      value === undefined || /token|secret|key|password/i.test(key) ? '' : ` (got ${JSON.stringify(value)})`;
    return `  ${key}: ${issue.message}${shown}`;
  });
}

function valueAt(input: unknown, path: ReadonlyArray<string | number>): string | number | undefined {
  let at: unknown = input;
  for (const part of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[part];
  }
  return typeof at === 'string' || typeof at === 'number' ? at : undefined;
}
