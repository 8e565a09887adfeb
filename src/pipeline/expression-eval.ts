import { ExpressionError, parseExpression, slashPattern, type Expr } from './expression.js';
import type { SafeRegex } from './re2.js';

type Value = string | null | boolean | SafeRegex;

/**
 * Evaluates a parsed expression against variables with GitLab's semantics: an undefined
 * variable is null; `$VAR` alone is true when defined and non-empty; `==` compares strings and
 * null (so `$EMPTY == null` is false); `=~` matches null as the empty string; `&&`/`||` return
 * an operand as Ruby does. The result is its truthiness.
 */
export function evaluateExpression(expr: Expr, vars: Record<string, string>): boolean {
  return truthy(evaluate(expr, vars));
}

/** Parses and evaluates in one step (throws ExpressionError on bad syntax). */
export function evaluateCondition(text: string, vars: Record<string, string>): boolean {
  return evaluateExpression(parseExpression(text), vars);
}

function truthy(value: Value): boolean {
  return value !== null && value !== false && value !== '';
}

function lookup(vars: Record<string, string>, name: string): string | null {
  return Object.prototype.hasOwnProperty.call(vars, name) ? (vars[name] ?? null) : null;
}

function evaluate(expr: Expr, vars: Record<string, string>): Value {
  switch (expr.t) {
    case 'var':
      return lookup(vars, expr.name);
    case 'str':
      return expr.value;
    case 'null':
      return null;
    case 'pattern':
      return expr.regex;
    case 'and': {
      const left = evaluate(expr.left, vars);
      return truthy(left) ? evaluate(expr.right, vars) : left;
    }
    case 'or': {
      const left = evaluate(expr.left, vars);
      return truthy(left) ? left : evaluate(expr.right, vars);
    }
    case 'cmp':
      return compare(expr, vars);
  }
}

function compare(expr: Expr & { t: 'cmp' }, vars: Record<string, string>): boolean {
  const left = evaluate(expr.left, vars);
  if (expr.op === '==' || expr.op === '!=') {
    const equal = asComparable(left) === asComparable(evaluate(expr.right, vars));
    return expr.op === '==' ? equal : !equal;
  }
  const regex = asRegex(evaluate(expr.right, vars));
  const text = typeof left === 'string' ? left : left === null ? '' : (asComparable(left) ?? '');
  const matched = regex !== null && regex.test(text);
  return expr.op === '=~' ? matched : !matched;
}

function asComparable(value: Value): string | null {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  return `/${value.source}/${value.flags}`;
}

/** A pattern operand: a literal, or a variable holding `/pattern/flags`. Bad patterns never match. */
function asRegex(value: Value): SafeRegex | null {
  if (value !== null && typeof value === 'object') return value;
  if (typeof value !== 'string') return null;
  try {
    return slashPattern(value);
  } catch (err) {
    if (err instanceof ExpressionError) return null;
    throw err;
  }
}
