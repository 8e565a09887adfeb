/**
 * How GitLab's YAML loader (Ruby's Psych, YAML 1.1 with its own rules) reads an unquoted scalar.
 *
 * Psych does not use the YAML 1.1 type regexps as written: a float needs a dot (`1e3` and `e01` are
 * strings, `1.0e+3` is a float), integers may carry `,` and `_`, a leading `0` means octal (`0o17` is
 * a string), `1:20` is base 60 (scaled as if it had three parts), and `y`/`n` are strings while
 * `yes`/`no`/`on`/`off` are booleans. Quoted and block scalars are always strings.
 *
 * Differences kept on purpose: timestamps and dates stay strings (GitLab refuses them as an
 * unspecified class), `:name` symbols stay strings with their colon.
 */

export type PsychScalar = string | number | boolean | null;

/** A resolved scalar, and whether Ruby would hold it as a Float (its `to_s` differs from JS). */
interface Token {
  value: PsychScalar;
  float: boolean;
}

const STRINGY = /^[^\d.:-]?[\p{Alphabetic}_ \t\r\n\f\v!@#$%^&*(){}<>|/\\~;=]+/u;
const TIME =
  /^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|[ \t\r\n\f\v]+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:[ \t\r\n\f\v]*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$/;
const DATE = /^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$/;
const SEXAGESIMAL_INT = /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$/;
const SEXAGESIMAL_FLOAT = /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$/;
const FLOAT = /^[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?$/;
const INTEGER =
  /^(?:[-+]?0b[_,]*[01][01_,]*|[-+]?0[_,]*[0-7][0-7_,]*|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[_,]*[0-9a-fA-F][0-9a-fA-F_,]*)$/;

const str = (value: string): Token => ({ value, float: false });
const int = (value: number): Token => ({ value, float: false });
const flt = (value: number): Token => ({ value, float: true });

/** The value Psych gives an unquoted, untagged scalar. */
export function psychPlainScalar(text: string): PsychScalar {
  return tokenize(text).value;
}

/**
 * The value Psych gives a tagged scalar (`!!str 1`, `!!int "12"`, `!!float 1`): `!!str` keeps the
 * text, `!!float` makes a float of what the plain rules give, any other tag uses the plain rules.
 */
export function psychTaggedScalar(tag: string, text: string): PsychScalar {
  if (tag === 'tag:yaml.org,2002:str') return text;
  if (tag === 'tag:yaml.org,2002:binary') return Buffer.from(text, 'base64').toString('utf8');
  const { value } = tokenize(text);
  if (tag !== 'tag:yaml.org,2002:float' || typeof value === 'number') return value;
  const n = typeof value === 'string' ? Number(value) : NaN;
  return Number.isNaN(n) ? text : n;
}

/** A mapping key as GitLab names it (Ruby's `to_s` of what Psych read: `1.0:` is job "1.0"). */
export function psychKeyText(text: string): string {
  const token = tokenize(text);
  if (token.value === null) return '';
  if (typeof token.value === 'number' && token.float) return rubyFloatText(token.value);
  return String(token.value);
}

function tokenize(text: string): Token {
  if (text === '') return { value: null, float: false };
  if (STRINGY.test(text) || text.includes('\n')) return { value: wordValue(text), float: false };
  if (TIME.test(text) || DATE.test(text)) return str(text);
  if (/^\+?\.inf$/i.test(text)) return flt(Infinity);
  if (/^-\.inf$/i.test(text)) return flt(-Infinity);
  if (/^\.nan$/i.test(text)) return flt(NaN);
  if (/^:./.test(text)) return str(text);
  if (SEXAGESIMAL_INT.test(text)) return int(base60(text, rubyToI));
  if (SEXAGESIMAL_FLOAT.test(text)) return flt(base60(text, rubyToF));
  if (FLOAT.test(text)) return floatToken(text);
  if (INTEGER.test(text)) return int(parseRubyInteger(text.replace(/[,_]/g, '')));
  return str(text);
}

/** Words: only short ones starting with y/t/o/n/f/~ can be booleans or null. */
function wordValue(text: string): PsychScalar {
  if ([...text].length > 5 || /^[^ytonf~]/i.test(text)) return text;
  if (text === '~' || /^null$/i.test(text)) return null;
  if (/^(yes|true|on)$/i.test(text)) return true;
  if (/^(no|false|off)$/i.test(text)) return false;
  return text;
}

function floatToken(text: string): Token {
  if (/^[-+]?\.$/.test(text)) return str(text);
  const n = Number(text.replace(/[,_]/g, '').replace(/\.([Ee]|$)/, '$1'));
  return Number.isNaN(n) ? str(text) : flt(n);
}

/** Psych weighs the parts as hours, minutes, seconds even when there are only two. */
function base60(text: string, part: (s: string) => number): number {
  return text.split(':').reduce((sum, piece, i) => sum + part(piece) * 60 ** Math.abs(i - 2), 0);
}

function rubyToI(s: string): number {
  const n = Number.parseInt(s.replace(/_/g, ''), 10);
  return Number.isNaN(n) ? 0 : n;
}

function rubyToF(s: string): number {
  const n = Number.parseFloat(s.replace(/_/g, ''));
  return Number.isNaN(n) ? 0 : n;
}

/** Ruby's `Integer()`: `0b` binary, `0x` hex, a leading `0` octal, else decimal. */
function parseRubyInteger(s: string): number {
  const negative = s.startsWith('-');
  const body = s.replace(/^[-+]/, '');
  let n: number;
  if (/^0b/i.test(body)) n = Number.parseInt(body.slice(2), 2);
  else if (/^0x/i.test(body)) n = Number.parseInt(body.slice(2), 16);
  else if (body.length > 1 && body.startsWith('0')) n = Number.parseInt(body.slice(1), 8);
  else n = Number.parseInt(body, 10);
  return negative ? 0 - n : n;
}

/** Ruby's `Float#to_s`: `1.0`, `1.0e+16`, `1.5e-05`, `Infinity`, `NaN`. */
export function rubyFloatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const exponent = Math.floor(Math.log10(Math.abs(n)));
  if (exponent >= -4 && exponent < 16) {
    const fixed = String(n);
    return fixed.includes('.') || fixed.includes('e') ? fixed : `${fixed}.0`;
  }
  const [mantissa = '', exp = '0'] = n.toExponential().split('e');
  const digits = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  const sign = exp.startsWith('-') ? '-' : '+';
  return `${digits}e${sign}${exp.replace(/^[-+]/, '').padStart(2, '0')}`;
}
