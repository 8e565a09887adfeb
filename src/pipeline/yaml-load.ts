import { LineCounter, isAlias, isMap as isYamlMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Document, Node as YamlNode, Pair, YAMLMap, YAMLSeq } from 'yaml';

import { addError, type Diagnostics } from './diagnostics.js';
import { LIMITS } from './limits.js';
import { copyKeyPosition, recordKeyPosition, recordPosition } from './positions.js';
import { psychKeyText, psychPlainScalar, psychTaggedScalar } from './psych-scalar.js';
import { createReference, isMap, newMap, type RawMap } from './raw.js';
import type { SourcePosition } from './types.js';

/** Thrown inside the walk to stop at once on hostile input (too deep, too big), where it was met. */
class LimitExceeded extends Error {
  constructor(
    message: string,
    readonly position: SourcePosition,
  ) {
    super(message);
  }
}

interface Walk {
  doc: Document.Parsed;
  lines: LineCounter;
  file: string;
  nodes: number;
  diag: Diagnostics;
}

/**
 * Parses YAML text into plain values (prototype-less maps, arrays, scalars and `!reference` tags),
 * recording source positions. Returns one value per YAML document, or null after reporting errors;
 * `starts` receives where each document's content begins (a scalar value has no position of its own).
 * Scalars are read as GitLab's parser (Psych) reads them, not by the YAML 1.1 type regexps: the
 * yaml library parses with its failsafe schema (every scalar a string) and psych-scalar.ts resolves
 * the unquoted ones, so `e01` and `1e3` stay strings and `yes`/`no` are booleans. `<<` merge keys.
 */
export function loadYaml(
  text: string,
  file: string,
  diag: Diagnostics,
  starts: SourcePosition[] = [],
): unknown[] | null {
  if (Buffer.byteLength(text, 'utf8') > LIMITS.maxFileBytes) {
    addError(diag, 'root', `(${file}): the file is too big (over ${LIMITS.maxFileBytes} bytes)`, {
      file,
      line: 1,
      column: 1,
    });
    return null;
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter: lines,
    version: '1.1',
    schema: 'failsafe',
    merge: false,
    uniqueKeys: false,
    prettyErrors: false,
  });
  if (!Array.isArray(docs)) return [null];
  const syntaxError = docs.flatMap((d) => d.errors)[0];
  if (syntaxError) {
    const { line, col } = lines.linePos(syntaxError.pos[0]);
    const message = `(${file}): ${psychWording(syntaxError.code, syntaxError.message)} at line ${line} column ${col}`;
    addError(diag, 'root', message, { file, line, column: col });
    return null;
  }
  for (const doc of docs) {
    const { line, col } = lines.linePos(doc.contents?.range?.[0] ?? doc.range[0]);
    starts.push({ file, line, column: col });
  }
  return walkDocuments(docs, lines, file, diag);
}

function walkDocuments(
  docs: Document.Parsed[],
  lines: LineCounter,
  file: string,
  diag: Diagnostics,
): unknown[] | null {
  const before = diag.errors.length;
  const out: unknown[] = [];
  try {
    for (const doc of docs) {
      const walk: Walk = { doc, lines, file, nodes: 0, diag };
      out.push(doc.contents ? convert(walk, doc.contents, 0) : null);
    }
  } catch (err) {
    if (!(err instanceof LimitExceeded)) throw err;
    addError(diag, 'root', `(${file}): ${err.message}`, err.position);
  }
  return diag.errors.length > before ? null : out;
}

/** GitLab shows Psych's messages; map the common yaml-library codes onto Psych's wording. */
function psychWording(code: string, message: string): string {
  if (code === 'BAD_INDENT' && message.includes('mapping'))
    return 'did not find expected key while parsing a block mapping';
  if (code === 'MISSING_CHAR' && message.includes('quote'))
    return 'found unexpected end of stream while scanning a quoted scalar';
  if (code === 'BLOCK_AS_IMPLICIT_KEY' || code === 'MULTILINE_IMPLICIT_KEY')
    return 'mapping values are not allowed in this context';
  if (code === 'UNEXPECTED_TOKEN') return `did not find expected key (${message})`;
  return message.charAt(0).toLowerCase() + message.slice(1);
}

function positionAt(walk: Walk, node: { range?: [number, number, number] | null }): SourcePosition {
  const offset = node.range?.[0] ?? 0;
  const { line, col } = walk.lines.linePos(offset);
  return { file: walk.file, line, column: col };
}

function count(walk: Walk, depth: number, node: unknown): void {
  walk.nodes += 1;
  const at = (): SourcePosition => positionAt(walk, node as YamlNode);
  if (walk.nodes > LIMITS.maxNodes)
    throw new LimitExceeded('The parsed YAML is too big (aliases expand to too many values)', at());
  if (depth > LIMITS.maxDepth)
    throw new LimitExceeded(`The parsed YAML is too deep (nesting over ${LIMITS.maxDepth} levels)`, at());
}

function convert(walk: Walk, node: unknown, depth: number): unknown {
  count(walk, depth, node);
  if (isAlias(node)) {
    const target = node.resolve(walk.doc);
    return target ? convert(walk, target, depth + 1) : null;
  }
  if (isScalar(node)) return convertScalar(walk, node);
  if (isSeq(node)) return convertSeq(walk, node as YAMLSeq<unknown>, depth);
  if (isYamlMap(node)) return convertMap(walk, node as YAMLMap<unknown, unknown>, depth);
  return null;
}

type ScalarNode = YamlNode & { value: unknown; type?: string; tag?: string };

function convertScalar(walk: Walk, node: ScalarNode): unknown {
  if (node.tag === '!reference') {
    addError(walk.diag, 'root', '!reference tag should be a sequence of strings', positionAt(walk, node));
    return null;
  }
  checkTag(walk, node);
  const text = String(node.value ?? '');
  if (node.tag) return psychTaggedScalar(node.tag, text);
  return node.type === 'PLAIN' ? psychPlainScalar(text) : text;
}

function checkTag(walk: Walk, node: YamlNode & { tag?: string }): void {
  if (
    node.tag &&
    node.tag.startsWith('!') &&
    !node.tag.startsWith('!!') &&
    !node.tag.startsWith('tag:yaml.org')
  ) {
    addError(walk.diag, 'root', `unknown YAML tag ${node.tag}`, positionAt(walk, node));
  }
}

function convertSeq(walk: Walk, node: YAMLSeq<unknown>, depth: number): unknown {
  const items = node.items.map((item) => convert(walk, item, depth + 1));
  if (node.tag === '!reference') {
    if (!items.every((i) => typeof i === 'string') || items.length === 0) {
      addError(walk.diag, 'root', '!reference tag should be a sequence of strings', positionAt(walk, node));
      return null;
    }
    const ref = createReference(items as string[]);
    recordPosition(ref, positionAt(walk, node));
    return ref;
  }
  checkTag(walk, node);
  recordPosition(items, positionAt(walk, node));
  node.items.forEach((item, i) => recordKeyPosition(items, String(i), positionAt(walk, item as YamlNode)));
  return items;
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && (typeof key.value === 'symbol' || (key.value === '<<' && key.type === 'PLAIN'));
}

function convertMap(walk: Walk, node: YAMLMap<unknown, unknown>, depth: number): RawMap {
  checkTag(walk, node);
  const out = newMap();
  recordPosition(out, positionAt(walk, node));
  const merges: unknown[] = [];
  for (const pair of node.items as Pair<unknown, unknown>[]) {
    if (isMergeKey(pair.key)) {
      merges.push(convert(walk, pair.value, depth + 1));
      continue;
    }
    const key = keyText(walk, pair.key);
    out[key] = pair.value === null || pair.value === undefined ? null : convert(walk, pair.value, depth + 1);
    recordKeyPosition(out, key, positionAt(walk, pair.key as YamlNode));
  }
  for (const source of merges.flatMap((m) => (Array.isArray(m) ? m : [m])))
    applyMerge(walk, out, source, node);
  return out;
}

function keyText(walk: Walk, key: unknown): string {
  if (isScalar(key)) {
    const node = key as ScalarNode;
    if (node.type === 'PLAIN' && !node.tag) return psychKeyText(String(node.value ?? ''));
    const value = convertScalar(walk, node);
    return value === null ? '' : String(value);
  }
  addError(walk.diag, 'root', 'mapping keys should be scalars', positionAt(walk, key as YamlNode));
  return '';
}

/** `<<: *anchor`: keys already present (written explicitly or by an earlier merge) win. */
function applyMerge(walk: Walk, out: RawMap, source: unknown, node: YamlNode): void {
  if (!isMap(source)) {
    addError(walk.diag, 'root', 'merge keys (<<) should refer to a mapping', positionAt(walk, node));
    return;
  }
  for (const [k, v] of Object.entries(source)) {
    if (Object.prototype.hasOwnProperty.call(out, k)) continue;
    out[k] = v;
    copyKeyPosition(source, out, k);
  }
}
