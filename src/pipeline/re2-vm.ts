import { LIMITS } from './limits.js';
import { parseRegex, RegexSyntaxError, type CharTest, type Flags, type RegexNode } from './re2-syntax.js';

/**
 * Compiles RE2 syntax to a Thompson NFA and runs it as a set simulation (Pike VM without
 * captures): time is linear in the input for every pattern, so no hostile pattern can hang.
 */
type Inst =
  | { op: 'char'; test: CharTest; next: number }
  | { op: 'split'; a: number; b: number }
  | { op: 'jmp'; to: number }
  | { op: 'assert'; kind: 'bol' | 'eol' | 'bot' | 'eot' | 'word' | 'nonword'; next: number }
  | { op: 'match' };

const MAX_PROGRAM = 20_000;

/** A regular expression with RE2 semantics that reports whether it matches anywhere in a text. */
export interface SafeRegex {
  readonly source: string;
  readonly flags: string;
  test(text: string): boolean;
}

export { RegexSyntaxError };

/** Compiles `source`; flags `i`, `m`, `s` as RE2 has them (`U` only changes greediness: ignored for matching). */
export function compileRegex(source: string, flags = ''): SafeRegex {
  if (source.length > LIMITS.maxRegexLength)
    throw new RegexSyntaxError(`pattern too large (over ${LIMITS.maxRegexLength} characters)`);
  const bad = [...flags].filter((f) => !'imsU'.includes(f));
  if (bad.length > 0) throw new RegexSyntaxError(`unknown flags: ${bad.join('')}`);
  const parsed = parseRegex(source, {
    i: flags.includes('i'),
    m: flags.includes('m'),
    s: flags.includes('s'),
  } satisfies Flags);
  const program: Inst[] = [];
  emit(program, parsed);
  program.push({ op: 'match' });
  return { source, flags, test: (text) => run(program, text) };
}

function push(program: Inst[], inst: Inst): number {
  if (program.length >= MAX_PROGRAM) throw new RegexSyntaxError('pattern too large - compile failed');
  program.push(inst);
  return program.length - 1;
}

function emit(program: Inst[], node: RegexNode): void {
  switch (node.t) {
    case 'char':
      push(program, { op: 'char', test: node.test, next: program.length + 1 });
      return;
    case 'assert':
      push(program, { op: 'assert', kind: node.kind, next: program.length + 1 });
      return;
    case 'cat':
      for (const item of node.items) emit(program, item);
      return;
    case 'alt':
      emitAlt(program, node.items);
      return;
    case 'rep':
      emitRepeat(program, node.node, node.min, node.max);
  }
}

function emitAlt(program: Inst[], items: RegexNode[]): void {
  const jumps: number[] = [];
  items.forEach((item, i) => {
    const last = i === items.length - 1;
    const split = last ? -1 : push(program, { op: 'split', a: program.length + 1, b: -1 });
    emit(program, item);
    if (!last) jumps.push(push(program, { op: 'jmp', to: -1 }));
    if (split >= 0) (program[split] as { b: number }).b = program.length;
  });
  for (const j of jumps) (program[j] as { to: number }).to = program.length;
}

function emitRepeat(program: Inst[], node: RegexNode, min: number, max: number): void {
  for (let i = 0; i < min; i++) emit(program, node);
  if (max === -1) {
    const split = push(program, { op: 'split', a: program.length + 1, b: -1 });
    emit(program, node);
    push(program, { op: 'jmp', to: split });
    (program[split] as { b: number }).b = program.length;
    return;
  }
  const splits: number[] = [];
  for (let i = min; i < max; i++) {
    splits.push(push(program, { op: 'split', a: program.length + 1, b: -1 }));
    emit(program, node);
  }
  for (const s of splits) (program[s] as { b: number }).b = program.length;
}

function isWord(c: number | undefined): boolean {
  return (
    c !== undefined && ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95)
  );
}

function holds(
  kind: Inst & { op: 'assert' } extends { kind: infer K } ? K : never,
  prev: number | undefined,
  next: number | undefined,
): boolean {
  switch (kind) {
    case 'bot':
      return prev === undefined;
    case 'eot':
      return next === undefined;
    case 'bol':
      return prev === undefined || prev === 10;
    case 'eol':
      return next === undefined || next === 10;
    case 'word':
      return isWord(prev) !== isWord(next);
    case 'nonword':
      return isWord(prev) === isWord(next);
  }
}

/** Adds `pc` and everything reachable from it without consuming a character; true on match. */
function addThread(
  program: Inst[],
  list: Set<number>,
  pc: number,
  prev: number | undefined,
  next: number | undefined,
): boolean {
  const stack = [pc];
  while (stack.length > 0) {
    const at = stack.pop()!;
    if (list.has(at)) continue;
    list.add(at);
    const inst = program[at]!;
    if (inst.op === 'match') return true;
    if (inst.op === 'jmp') stack.push(inst.to);
    else if (inst.op === 'split') stack.push(inst.b, inst.a);
    else if (inst.op === 'assert' && holds(inst.kind, prev, next)) stack.push(inst.next);
  }
  return false;
}

function run(program: Inst[], text: string): boolean {
  const chars = [...text].map((ch) => ch.codePointAt(0) ?? 0);
  let current = new Set<number>();
  for (let i = 0; i <= chars.length; i++) {
    const prev = chars[i - 1];
    const c = chars[i];
    if (addThread(program, current, 0, prev, c)) return true;
    if (c === undefined) return false;
    const next = new Set<number>();
    for (const pc of current) {
      const inst = program[pc]!;
      if (inst.op === 'char' && inst.test(c) && addThread(program, next, inst.next, c, chars[i + 1]))
        return true;
    }
    current = next;
  }
  return false;
}
