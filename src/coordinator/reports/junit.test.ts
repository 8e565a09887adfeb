import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import yazl from 'yazl';

import type { ArtifactRecord, JobRecord } from '../store/store.js';
import { JunitParseError, parseJunit } from './junit.js';
import { gzipMembers, reportFiles, ReportTooLargeError } from './report-files.js';
import { buildTestReport, MAX_JUNIT_BYTES, ParsedReportCache, type JunitSource } from './test-report.js';

const suite = (cases: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="s" tests="1">${cases}</testsuite>`;

describe('parseJunit', () => {
  const table: { name: string; xml: string; expected: object[] }[] = [
    {
      name: 'a passing case',
      xml: suite('<testcase classname="a.B" name="adds" file="b.py" time="0.25"/>'),
      expected: [
        {
          status: 'success',
          name: 'adds',
          classname: 'a.B',
          file: 'b.py',
          executionTime: 0.25,
          systemOutput: null,
        },
      ],
    },
    {
      name: 'a failure with a body',
      xml: suite(
        '<testcase name="f" time="1"><failure message="short">expected 1 got 2</failure></testcase>',
      ),
      expected: [{ status: 'failed', systemOutput: 'expected 1 got 2', file: null, classname: '' }],
    },
    {
      name: 'a failure with only a message, in CDATA-free form',
      xml: suite('<testcase name="f"><failure message="boom &amp; bust"/></testcase>'),
      expected: [{ status: 'failed', systemOutput: 'boom & bust', executionTime: 0 }],
    },
    {
      name: 'an error with CDATA',
      xml: suite('<testcase name="e"><error type="E"><![CDATA[trace <line 1>]]></error></testcase>'),
      expected: [{ status: 'error', systemOutput: 'trace <line 1>' }],
    },
    {
      name: 'a skipped case',
      xml: suite('<testcase name="s"><skipped message="not on linux"/></testcase>'),
      expected: [{ status: 'skipped', systemOutput: 'not on linux' }],
    },
    {
      name: 'nested suites under testsuites, in document order',
      xml: `<testsuites><testsuite name="outer"><testcase name="1"/><testsuite name="inner"><testcase name="2"><failure/></testcase></testsuite></testsuite><testsuite name="other"><testcase name="3"/></testsuite></testsuites>`,
      expected: [
        { name: '1', status: 'success' },
        { name: '2', status: 'failed', systemOutput: null },
        { name: '3', status: 'success' },
      ],
    },
    {
      name: 'a bad time counts as zero',
      xml: suite('<testcase name="t" time="soon"/>'),
      expected: [{ executionTime: 0 }],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const cases = parseJunit(row.xml);
      expect(cases).toHaveLength(row.expected.length);
      row.expected.forEach((e, i) => expect(cases[i]).toMatchObject(e));
    });
  }

  it.each([
    ['unclosed tags', '<testsuite><testcase name="x"></testsuite>'],
    ['not XML at all', 'PASS all tests'],
    ['another root element', '<coverage line-rate="1"/>'],
    ['suites nested 10 000 deep', `${'<testsuite>'.repeat(10_000)}${'</testsuite>'.repeat(10_000)}`],
  ])('rejects %s with GitLab’s wording', (_name, xml) => {
    expect(() => parseJunit(xml)).toThrow(JunitParseError);
    expect(() => parseJunit(xml)).toThrow(/^JUnit XML parsing failed: /);
  });

  it('parses a large document (20 000 cases) completely', () => {
    const cases = Array.from({ length: 20_000 }, (_, i) =>
      i % 4 === 0 ? `<testcase name="c${i}"><failure>no</failure></testcase>` : `<testcase name="c${i}"/>`,
    ).join('');
    const parsed = parseJunit(suite(cases));
    expect(parsed).toHaveLength(20_000);
    expect(parsed.filter((c) => c.status === 'failed')).toHaveLength(5_000);
  });
});

function zip(files: Record<string, string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, text] of Object.entries(files)) z.addBuffer(Buffer.from(text), name);
  z.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}

describe('report files', () => {
  it('splits a multi-member gzip into its files, as gitlab-runner uploads junit', () => {
    const a = suite('<testcase name="a"/>');
    const b = suite('<testcase name="b"/>');
    const withName = Buffer.from(gzipSync(b));
    withName[3] = 8; // FNAME flag, with a zero-terminated name spliced in after the 10-byte header
    const named = Buffer.concat([withName.subarray(0, 10), Buffer.from('b.xml\0'), withName.subarray(10)]);
    expect(gzipMembers(Buffer.concat([gzipSync(a), named]), 1 << 20).map(String)).toEqual([a, b]);
  });

  it('reads every entry of a zip and raw files', async () => {
    const files = await reportFiles('zip', await zip({ 'a.xml': '<a/>', 'dir/b.xml': '<b/>' }), 1 << 20);
    expect(files).toEqual(['<a/>', '<b/>']);
    expect(await reportFiles('raw', Buffer.from('<r/>'), 100)).toEqual(['<r/>']);
  });

  it('stops past the limit instead of inflating everything (gzip, zip, raw)', async () => {
    const big = 'x'.repeat(200_000);
    expect(() => gzipMembers(gzipSync(big), 100_000)).toThrow(ReportTooLargeError);
    await expect(reportFiles('zip', await zip({ 'big.xml': big }), 100_000)).rejects.toThrow(
      ReportTooLargeError,
    );
    await expect(reportFiles('raw', Buffer.from(big), 100_000)).rejects.toThrow(ReportTooLargeError);
  });
});

function job(id: number, baseName: string): JobRecord {
  return { id, name: `${baseName} ${id}`, definition: { baseName } } as unknown as JobRecord;
}

function source(j: JobRecord, xml: string | Buffer, format = 'raw'): JunitSource {
  const data = Buffer.isBuffer(xml) ? xml : Buffer.from(xml);
  const artifact = { id: j.id, jobId: j.id, fileFormat: format, size: data.length } as ArtifactRecord;
  return { job: j, artifact, read: () => Promise.resolve(data) };
}

describe('buildTestReport', () => {
  it('merges parallel jobs into one suite named after the job and counts by status', async () => {
    const report = await buildTestReport([
      source(job(12, 'rspec'), suite('<testcase name="b" time="2"><failure>x</failure></testcase>')),
      source(job(11, 'rspec'), gzipSync(suite('<testcase name="a" time="1.5"/>')), 'gzip'),
      source(
        job(13, 'lint'),
        suite('<testcase name="c"><skipped/></testcase><testcase name="d"><error/></testcase>'),
      ),
    ]);
    expect(report).toMatchObject({ total: 4, success: 1, failed: 1, skipped: 1, error: 1, totalTime: 3.5 });
    expect(report.suites.map((s) => [s.name, s.buildIds, s.total, s.suiteError])).toEqual([
      ['rspec', [11, 12], 2, null],
      ['lint', [13], 2, null],
    ]);
    expect(report.suites[0]?.cases.map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('gives a bad report a suite_error and keeps the other suites', async () => {
    const report = await buildTestReport([
      source(job(1, 'broken'), '<testsuite><testcase>'),
      source(job(2, 'fine'), suite('<testcase name="ok"/>')),
      source(job(3, 'huge'), Buffer.alloc(MAX_JUNIT_BYTES + 1, 'x')),
    ]);
    const [broken, fine, huge] = report.suites;
    expect(broken?.suiteError).toMatch(/^JUnit XML parsing failed: /);
    expect(broken?.cases).toEqual([]);
    expect(fine).toMatchObject({ suiteError: null, total: 1, success: 1 });
    expect(huge?.suiteError).toMatch(/larger than 10485760 bytes/);
    expect(report.total).toBe(1);
  });

  it('parses an artifact once while it stays in the cache, dropping the least recently used past the limit', async () => {
    const reads = new Map<number, number>();
    const counted = (id: number, cases: number): JunitSource => {
      const s = source(job(id, `j${id}`), suite('<testcase name="c"/>'.repeat(cases)));
      return { ...s, read: () => (reads.set(id, (reads.get(id) ?? 0) + 1), s.read()) };
    };
    const cache = new ParsedReportCache(5);
    await buildTestReport([counted(1, 3), counted(2, 2)], cache);
    const again = await buildTestReport([counted(1, 3), counted(2, 2)], cache);
    expect(again.total).toBe(5);
    expect([...reads]).toEqual([
      [1, 1],
      [2, 1],
    ]);
    await buildTestReport([counted(3, 1)], cache); // 6 cases: job 1's report leaves the cache
    await buildTestReport([counted(2, 2)], cache);
    expect(reads.get(2)).toBe(1);
    await buildTestReport([counted(1, 3)], cache);
    expect(reads.get(1)).toBe(2);
  });
});
