/**
 * JUnit XML → test cases with GitLab's statuses (`artifacts:reports:junit`). Accepts a root
 * `<testsuites>` or `<testsuite>`, suites nested in suites, and cases at any suite depth, as
 * GitLab's parser does. A `<failure>` makes a case `failed`, an `<error>` `error`, a `<skipped>`
 * `skipped`, anything else `success`. Malformed XML throws JunitParseError with GitLab's wording.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type TestCaseStatus = 'success' | 'failed' | 'error' | 'skipped';

export interface TestCase {
  status: TestCaseStatus;
  name: string;
  classname: string;
  file: string | null;
  /** Seconds. */
  executionTime: number;
  /** The failure, error or skip message; null for passed cases. */
  systemOutput: string | null;
}

export class JunitParseError extends Error {
  constructor(detail: string) {
    super(`JUnit XML parsing failed: ${detail}`);
    this.name = 'JunitParseError';
  }
}

type Node = Record<string, unknown>;

const ATTRS = '$';
const TEXT = '#text';
const ARRAYS = new Set(['testsuite', 'testcase', 'failure', 'error', 'skipped']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: ATTRS,
  textNodeName: TEXT,
  parseTagValue: false,
  parseAttributeValue: false,
  alwaysCreateTextNode: true,
  trimValues: true,
  isArray: (name) => ARRAYS.has(name),
});

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function children(node: Node, name: string): Node[] {
  const value = node[name];
  if (Array.isArray(value)) return value.filter(isNode);
  return isNode(value) ? [value] : [];
}

function attr(node: Node, name: string): string | null {
  const attrs = node[ATTRS];
  if (!isNode(attrs)) return null;
  const value = attrs[name];
  return typeof value === 'string' ? value : null;
}

function text(node: Node): string {
  const value = node[TEXT];
  return typeof value === 'string' ? value : '';
}

/** The body of a `<failure>`/`<error>`/`<skipped>`, or its `message` when the body is empty. */
function messageOf(node: Node): string | null {
  const body = text(node);
  if (body !== '') return body;
  return attr(node, 'message');
}

function seconds(value: string | null): number {
  const n = Number.parseFloat(value ?? '');
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

function toCase(node: Node): TestCase {
  const outcomes: [TestCaseStatus, Node[]][] = [
    ['failed', children(node, 'failure')],
    ['error', children(node, 'error')],
    ['skipped', children(node, 'skipped')],
  ];
  const hit = outcomes.find(([, nodes]) => nodes.length > 0);
  const first = hit?.[1][0];
  return {
    status: hit?.[0] ?? 'success',
    name: attr(node, 'name') ?? '',
    classname: attr(node, 'classname') ?? '',
    file: attr(node, 'file'),
    executionTime: seconds(attr(node, 'time')),
    systemOutput: first ? messageOf(first) : null,
  };
}

/** Cases of `suite` and of every suite nested in it, depth first, in document order. */
function casesOf(suite: Node, out: TestCase[]): void {
  for (const testCase of children(suite, 'testcase')) out.push(toCase(testCase));
  for (const nested of children(suite, 'testsuite')) casesOf(nested, out);
}

/** Parses one JUnit XML document into its test cases. */
export function parseJunit(xml: string): TestCase[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new JunitParseError(`${msg} (line ${line}, column ${col})`);
  }
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (err) {
    throw new JunitParseError(err instanceof Error ? err.message : String(err));
  }
  if (!isNode(doc)) throw new JunitParseError('the document is empty');
  const out: TestCase[] = [];
  const roots = [...children(doc, 'testsuites'), ...children(doc, 'testsuite')];
  if (roots.length === 0) {
    throw new JunitParseError('the root element must be <testsuites> or <testsuite>');
  }
  for (const root of roots) casesOf(root, out);
  return out;
}
