/**
 * A parser for RE2 regular expression syntax (what GitLab uses for `rules:if`, `only`/`except`
 * refs). Constructs RE2 refuses (backreferences, lookaround, atomic groups, possessive
 * quantifiers) are errors here too. The result is matched by re2-vm.ts in linear time, so no
 * pattern can backtrack catastrophically.
 */

export type CharTest = (c: number) => boolean;

export type RegexNode =
  | { t: 'char'; test: CharTest }
  | { t: 'assert'; kind: 'bol' | 'eol' | 'bot' | 'eot' | 'word' | 'nonword' }
  | { t: 'cat'; items: RegexNode[] }
  | { t: 'alt'; items: RegexNode[] }
  | { t: 'rep'; node: RegexNode; min: number; max: number };

export class RegexSyntaxError extends Error {}

export interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

const MAX_REPEAT = 1000;
const DIGIT: CharTest = (c) => c >= 48 && c <= 57;
const WORD: CharTest = (c) => DIGIT(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const SPACE: CharTest = (c) => c === 32 || (c >= 9 && c <= 13 && c !== 11);
const POSIX: Record<string, CharTest> = {
  alpha: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  digit: DIGIT,
  alnum: (c) => DIGIT(c) || POSIX['alpha']!(c),
  upper: (c) => c >= 65 && c <= 90,
  lower: (c) => c >= 97 && c <= 122,
  space: (c) => c === 32 || (c >= 9 && c <= 13),
  blank: (c) => c === 32 || c === 9,
  punct: (c) =>
    (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126),
  word: WORD,
  xdigit: (c) => DIGIT(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
  cntrl: (c) => c < 32 || c === 127,
  print: (c) => c >= 32 && c <= 126,
  graph: (c) => c >= 33 && c <= 126,
  ascii: (c) => c <= 127,
};

function not(test: CharTest): CharTest {
  return (c) => !test(c);
}

function folded(test: CharTest): CharTest {
  return (c) => {
    if (test(c)) return true;
    const s = String.fromCodePoint(c);
    return test(s.toLowerCase().codePointAt(0) ?? c) || test(s.toUpperCase().codePointAt(0) ?? c);
  };
}

/** Parses `source` with the given flags into a tree; throws RegexSyntaxError with RE2-like wording. */
export function parseRegex(source: string, flags: Flags): RegexNode {
  const p = new Parser(
    [...source].map((ch) => ch.codePointAt(0) ?? 0),
    flags,
  );
  const node = p.alternation();
  if (!p.done()) throw new RegexSyntaxError('unexpected ): unmatched parenthesis');
  return node;
}

class Parser {
  #pos = 0;
  #flags: Flags;
  readonly #src: number[];

  constructor(src: number[], flags: Flags) {
    this.#src = src;
    this.#flags = { ...flags };
  }

  done(): boolean {
    return this.#pos >= this.#src.length;
  }

  #peek(offset = 0): string {
    const c = this.#src[this.#pos + offset];
    return c === undefined ? '' : String.fromCodePoint(c);
  }

  #next(): string {
    const ch = this.#peek();
    if (ch === '') throw new RegexSyntaxError('unexpected end of pattern');
    this.#pos += 1;
    return ch;
  }

  alternation(): RegexNode {
    const items = [this.#concat()];
    while (this.#peek() === '|') {
      this.#pos += 1;
      items.push(this.#concat());
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  #concat(): RegexNode {
    const items: RegexNode[] = [];
    while (!this.done() && this.#peek() !== '|' && this.#peek() !== ')') {
      const atom = this.#atom();
      if (atom) items.push(this.#repeat(atom));
    }
    return { t: 'cat', items };
  }

  #repeat(atom: RegexNode): RegexNode {
    let node = atom;
    let count = 0;
    for (;;) {
      const bounds = this.#quantifier();
      if (!bounds) return node;
      if (++count > 1) throw new RegexSyntaxError(`bad repetition operator: ${this.#peek(-1)}`);
      if (this.#peek() === '?') this.#pos += 1;
      if (this.#peek() === '+' || this.#peek() === '*')
        throw new RegexSyntaxError('bad repetition operator: possessive quantifiers are not supported');
      node = { t: 'rep', node, min: bounds[0], max: bounds[1] };
      if (this.#peek() !== '*' && this.#peek() !== '+' && this.#peek() !== '?' && this.#peek() !== '{')
        return node;
    }
  }

  #quantifier(): [number, number] | null {
    const ch = this.#peek();
    if (ch === '*' || ch === '+' || ch === '?') {
      this.#pos += 1;
      return ch === '*' ? [0, -1] : ch === '+' ? [1, -1] : [0, 1];
    }
    if (ch !== '{') return null;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.#rest());
    if (!m) return null;
    this.#pos += m[0].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max !== -1 && max < min))
      throw new RegexSyntaxError(`bad repetition operator: ${m[0]}`);
    return [min, max];
  }

  #rest(): string {
    return String.fromCodePoint(...this.#src.slice(this.#pos, this.#pos + 32));
  }

  #atom(): RegexNode | null {
    const ch = this.#next();
    if (ch === '*' || ch === '+' || ch === '?')
      throw new RegexSyntaxError(`missing argument to repetition operator: ${ch}`);
    if (ch === '(') return this.#group();
    if (ch === '[') return this.#charNode(this.#klass());
    if (ch === '.') return this.#charNode(this.#flags.s ? () => true : (c) => c !== 10, false);
    if (ch === '^') return { t: 'assert', kind: this.#flags.m ? 'bol' : 'bot' };
    if (ch === '$') return { t: 'assert', kind: this.#flags.m ? 'eol' : 'eot' };
    if (ch === '\\') return this.#escapeAtom();
    const code = ch.codePointAt(0) ?? 0;
    return this.#charNode((c) => c === code);
  }

  #charNode(test: CharTest, fold = true): RegexNode {
    return { t: 'char', test: fold && this.#flags.i ? folded(test) : test };
  }

  #group(): RegexNode | null {
    if (this.#peek() !== '?') return this.#groupBody();
    this.#pos += 1;
    const rest = this.#rest();
    if (/^(=|!|<=|<!)/.test(rest))
      throw new RegexSyntaxError(
        'invalid or unsupported Perl syntax: lookaround assertions are not supported',
      );
    if (rest.startsWith('>'))
      throw new RegexSyntaxError('invalid or unsupported Perl syntax: atomic groups are not supported');
    const named = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
    if (named) {
      this.#pos += named[0].length;
      return this.#groupBody();
    }
    return this.#flagGroup();
  }

  #groupBody(): RegexNode {
    const saved = { ...this.#flags };
    const node = this.alternation();
    this.#flags = saved;
    if (this.#next() !== ')') throw new RegexSyntaxError('missing closing )');
    return node;
  }

  /** `(?i)`, `(?i-s:...)`, `(?:...)`. */
  #flagGroup(): RegexNode | null {
    const m = /^([ims]*)(?:-([ims]+))?([:)])/.exec(this.#rest());
    if (!m) throw new RegexSyntaxError('invalid or unsupported Perl syntax: (?');
    this.#pos += m[0].length;
    const saved = { ...this.#flags };
    for (const f of m[1] ?? '') this.#flags[f as keyof Flags] = true;
    for (const f of m[2] ?? '') this.#flags[f as keyof Flags] = false;
    if (m[3] === ')') return null;
    const node = this.alternation();
    this.#flags = saved;
    if (this.#next() !== ')') throw new RegexSyntaxError('missing closing )');
    return node;
  }

  #escapeAtom(): RegexNode {
    const ch = this.#peek();
    const asserts: Record<string, 'bot' | 'eot' | 'word' | 'nonword'> = {
      A: 'bot',
      z: 'eot',
      b: 'word',
      B: 'nonword',
    };
    const kind = asserts[ch];
    if (kind) {
      this.#pos += 1;
      return { t: 'assert', kind };
    }
    return this.#charNode(this.#escapeTest());
  }

  /** An escape that stands for characters: `\d`, `\x{41}`, `\.`, `\pL`... */
  #escapeTest(): CharTest {
    const ch = this.#next();
    const classes: Record<string, CharTest> = {
      d: DIGIT,
      D: not(DIGIT),
      w: WORD,
      W: not(WORD),
      s: SPACE,
      S: not(SPACE),
    };
    if (classes[ch]) return classes[ch];
    const controls: Record<string, number> = { n: 10, t: 9, r: 13, f: 12, v: 11, a: 7 };
    if (controls[ch] !== undefined) return (c) => c === controls[ch];
    if (/[1-9]/.test(ch))
      throw new RegexSyntaxError(`invalid escape sequence: \\${ch} (backreferences are not supported)`);
    if (ch === 'x') return this.#hexEscape();
    if (ch === 'p' || ch === 'P') return this.#unicodeClass(ch === 'P');
    if (ch === '0') return (c) => c === 0;
    if (/[A-Za-z0-9]/.test(ch)) throw new RegexSyntaxError(`invalid escape sequence: \\${ch}`);
    const code = ch.codePointAt(0) ?? 0;
    return (c) => c === code;
  }

  #hexEscape(): CharTest {
    const m = /^(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2}))/.exec(this.#rest());
    if (!m) throw new RegexSyntaxError('invalid escape sequence: \\x');
    this.#pos += m[0].length;
    const code = parseInt(m[1] ?? m[2] ?? '0', 16);
    return (c) => c === code;
  }

  #unicodeClass(negate: boolean): CharTest {
    const m = /^(?:\{(\^?[A-Za-z_]+)\}|([A-Za-z]))/.exec(this.#rest());
    if (!m) throw new RegexSyntaxError('invalid character class range: \\p');
    this.#pos += m[0].length;
    let name = m[1] ?? m[2] ?? '';
    const inner = name.startsWith('^');
    if (inner) name = name.slice(1);
    let re: RegExp;
    try {
      re = new RegExp(`^\\p{${name}}$`, 'u');
    } catch {
      throw new RegexSyntaxError(`invalid character class range: \\p{${name}}`);
    }
    const test: CharTest = (c) => re.test(String.fromCodePoint(c));
    return negate !== inner ? not(test) : test;
  }

  #klass(): CharTest {
    const negate = this.#peek() === '^';
    if (negate) this.#pos += 1;
    const tests: CharTest[] = [];
    let first = true;
    while (first || this.#peek() !== ']') {
      if (this.done()) throw new RegexSyntaxError('missing closing ]');
      tests.push(this.#classItem());
      first = false;
    }
    this.#pos += 1;
    const any: CharTest = (c) => tests.some((t) => t(c));
    return negate ? not(this.#flags.i ? folded(any) : any) : any;
  }

  #classItem(): CharTest {
    const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.#rest());
    if (posix) {
      const test = POSIX[posix[2] ?? ''];
      if (!test) throw new RegexSyntaxError(`invalid character class range: [:${posix[2]}:]`);
      this.#pos += posix[0].length;
      return posix[1] ? not(test) : test;
    }
    const lo = this.#classChar();
    if (typeof lo === 'function') return lo;
    if (this.#peek() !== '-' || this.#peek(1) === ']' || this.#peek(1) === '') return (c) => c === lo;
    this.#pos += 1;
    const hi = this.#classChar();
    if (typeof hi === 'function' || hi < lo) throw new RegexSyntaxError('invalid character class range');
    return (c) => c >= lo && c <= hi;
  }

  /** One class member: a code point, or a test for escapes like `\d`. */
  #classChar(): number | CharTest {
    const ch = this.#next();
    if (ch !== '\\') return ch.codePointAt(0) ?? 0;
    const esc = this.#peek();
    if (esc === 'b') {
      this.#pos += 1;
      return 8;
    }
    return this.#escapeTest();
  }
}
