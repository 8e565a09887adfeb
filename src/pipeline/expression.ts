import { LIMITS } from './limits.js';
import { compileRegex, RegexSyntaxError, type SafeRegex } from './re2.js';

/**
 * The `rules:if` / `only:variables` expression language, as GitLab defines it:
 * `$VAR`/`${VAR}`, '..'/".." strings, `null`, `/pattern/flags` (RE2), `==` `!=` `=~` `!~`,
 * `&&` binding tighter than `||`, parentheses. A real lexer and a recursive-descent parser;
 * anything else is an ExpressionError.
 */
export type Expr =
  | { t: 'var'; name: string }
  | { t: 'str'; value: string }
  | { t: 'null' }
  | { t: 'pattern'; regex: SafeRegex }
  | { t: 'cmp'; op: '==' | '!=' | '=~' | '!~'; left: Expr; right: Expr }
  | { t: 'and' | 'or'; left: Expr; right: Expr };

type Token =
  | { k: 'var'; name: string }
  | { k: 'str'; value: string }
  | { k: 'null' }
  | { k: 'pattern'; source: string; flags: string }
  | { k: 'op'; op: '==' | '!=' | '=~' | '!~' | '&&' | '||' | '(' | ')' };

export class ExpressionError extends Error {}

const LEXEMES: [RegExp, (m: RegExpExecArray) => Token][] = [
  [/^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/, (m) => ({ k: 'var', name: m[1] ?? '' })],
  [/^\$([A-Za-z0-9_]+)/, (m) => ({ k: 'var', name: m[1] ?? '' })],
  [/^"([^"]*)"/, (m) => ({ k: 'str', value: m[1] ?? '' })],
  [/^'([^']*)'/, (m) => ({ k: 'str', value: m[1] ?? '' })],
  [/^null(?![A-Za-z0-9_])/, () => ({ k: 'null' })],
  [/^\/((?:\\.|[^\\/])+)\/([A-Za-z]*)/, (m) => ({ k: 'pattern', source: m[1] ?? '', flags: m[2] ?? '' })],
  [/^(==|!=|=~|!~|&&|\|\||\(|\))/, (m) => ({ k: 'op', op: m[1] as '==' }) as Token],
];

/** Splits an expression into tokens. */
export function tokenize(text: string): Token[] {
  if (text.length > LIMITS.maxExpressionLength) throw new ExpressionError('expression is too long');
  const tokens: Token[] = [];
  let rest = text.trimStart();
  while (rest.length > 0) {
    const lexeme = LEXEMES.map(([re, make]) => [re.exec(rest), make] as const).find(([m]) => m !== null);
    if (!lexeme?.[0]) throw new ExpressionError(`invalid expression syntax near: ${rest.slice(0, 20)}`);
    tokens.push(lexeme[1](lexeme[0]));
    rest = rest.slice(lexeme[0][0].length).trimStart();
  }
  return tokens;
}

/** Parses an expression; throws ExpressionError for any syntax problem, including bad regexes. */
export function parseExpression(text: string): Expr {
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new ExpressionError('invalid expression syntax: empty expression');
  const state = { tokens, pos: 0 };
  const expr = parseOr(state);
  if (state.pos < tokens.length) throw new ExpressionError('invalid expression syntax: unexpected token');
  return expr;
}

interface State {
  tokens: Token[];
  pos: number;
}

function isOp(state: State, op: string): boolean {
  const tok = state.tokens[state.pos];
  return tok?.k === 'op' && tok.op === op;
}

function parseOr(state: State): Expr {
  let left = parseAnd(state);
  while (isOp(state, '||')) {
    state.pos += 1;
    left = { t: 'or', left, right: parseAnd(state) };
  }
  return left;
}

function parseAnd(state: State): Expr {
  let left = parseComparison(state);
  while (isOp(state, '&&')) {
    state.pos += 1;
    left = { t: 'and', left, right: parseComparison(state) };
  }
  return left;
}

function parseComparison(state: State): Expr {
  const left = parsePrimary(state);
  const tok = state.tokens[state.pos];
  if (tok?.k !== 'op' || !['==', '!=', '=~', '!~'].includes(tok.op)) return left;
  state.pos += 1;
  const op = tok.op as '==' | '!=' | '=~' | '!~';
  const right = parsePrimary(state);
  if ((op === '=~' || op === '!~') && right.t !== 'pattern' && right.t !== 'var') {
    throw new ExpressionError(
      `invalid expression syntax: the right side of ${op} must be a /pattern/ or a variable`,
    );
  }
  return { t: 'cmp', op, left, right };
}

function parsePrimary(state: State): Expr {
  const tok = state.tokens[state.pos];
  state.pos += 1;
  if (!tok) throw new ExpressionError('invalid expression syntax: unexpected end of expression');
  if (tok.k === 'var') return { t: 'var', name: tok.name };
  if (tok.k === 'str') return { t: 'str', value: tok.value };
  if (tok.k === 'null') return { t: 'null' };
  if (tok.k === 'pattern') return { t: 'pattern', regex: patternRegex(tok.source, tok.flags) };
  if (tok.op !== '(') throw new ExpressionError(`invalid expression syntax: unexpected ${tok.op}`);
  const inner = parseOr(state);
  if (!isOp(state, ')')) throw new ExpressionError('invalid expression syntax: missing )');
  state.pos += 1;
  return inner;
}

function patternRegex(source: string, flags: string): SafeRegex {
  try {
    return compileRegex(source.replace(/\\\//g, '/'), flags);
  } catch (err) {
    if (err instanceof RegexSyntaxError)
      throw new ExpressionError(`invalid regular expression /${source}/: ${err.message}`);
    throw err;
  }
}

/** `/pattern/flags` text (a variable's value or an `only` ref) → a regex; null when not in that form. */
export function slashPattern(text: string): SafeRegex | null {
  const m = /^\/(.+)\/([A-Za-z]*)$/s.exec(text);
  return m ? patternRegex(m[1] ?? '', m[2] ?? '') : null;
}
