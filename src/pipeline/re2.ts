import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';

import { LIMITS } from './limits.js';
import { literalPattern, testLiteral } from './literal-regex.js';

/**
 * RE2 regular expressions for `rules:if`, `only`/`except` refs, `spec:inputs` regexes and
 * `coverage`, matched by re2js (a port of RE2's Go implementation): the syntax GitLab's RE2
 * accepts, matched in time linear in the input, so no hostile pattern can hang the coordinator.
 */
export interface SafeRegex {
  readonly source: string;
  readonly flags: string;
  test(text: string): boolean;
}

/** A pattern RE2 refuses; the message says why and quotes the offending part. */
export class RegexSyntaxError extends Error {
  constructor(
    message: string,
    readonly pattern: string,
  ) {
    super(message);
    this.name = 'RegexSyntaxError';
  }
}

const FLAGS = 'imsU';
const CACHE_LIMIT = 500;
const DFA_AFTER = 8;
const cache = new Map<string, SafeRegex>();

/**
 * Compiles `source` with GitLab's `/pattern/flags` flags (`i`, `m`, `s`, `U`), given to RE2 as a
 * leading `(?flags)` group exactly as GitLab does. Compiled patterns are kept in a small
 * least-recently-used cache: pipelines repeat the same few patterns on every job.
 */
export function compileRegex(source: string, flags = ''): SafeRegex {
  const key = `${flags}/${source}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const regex = compileUncached(source, flags);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value ?? '');
  cache.set(key, regex);
  return regex;
}

function compileUncached(source: string, flags: string): SafeRegex {
  if (source.length > LIMITS.maxRegexLength)
    throw new RegexSyntaxError(`pattern too large (over ${LIMITS.maxRegexLength} characters)`, source);
  const bad = [...flags].filter((f) => !FLAGS.includes(f));
  if (bad.length > 0) throw new RegexSyntaxError(`unknown flags: ${bad.join('')}`, source);
  const literal = literalPattern(source, flags);
  if (literal) {
    let re2: SafeRegex | null = null;
    return {
      source,
      flags,
      test: (text) => testLiteral(literal, text) ?? (re2 ??= compileRe2(source, flags)).test(text),
    };
  }
  return compileRe2(source, flags);
}

function compileRe2(source: string, flags: string): SafeRegex {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(flags ? `(?${flags})${source}` : source);
  } catch (err) {
    if (err instanceof RE2JSSyntaxException) {
      const part = err.getPattern();
      throw new RegexSyntaxError(part ? `${err.getDescription()}: ${part}` : err.getDescription(), source);
    }
    if (err instanceof RE2JSException) throw new RegexSyntaxError(err.message, source);
    throw err;
  }
  // re2js's test() builds a DFA on first use: worth it for a pattern tested often (coverage scans
  // every log line), not for the one or two tests most rules:if patterns get. Those go through
  // the matcher, which needs no DFA.
  let uses = 0;
  return {
    source,
    flags,
    test: (text) => (uses++ < DFA_AFTER ? compiled.matcher(text).find() : compiled.test(text)),
  };
}
