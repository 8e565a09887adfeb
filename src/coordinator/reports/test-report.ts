/**
 * A pipeline's test report, as GitLab builds it: one suite per job name (parallel and matrix jobs
 * of one job merged under its base name), counts per status, and a `suite_error` instead of cases
 * when a suite's JUnit could not be read.
 *
 * Reports are parsed when requested, not when uploaded: the upload path stays a plain streaming
 * write (a bad report can never fail a job's upload), nothing derived has to be stored and kept in
 * step with the artifact, and a parser fix applies to reports already stored. GitLab also builds
 * pipeline test reports on request. The cost is bounded by MAX_JUNIT_BYTES per job (about 2 s for
 * 10 MiB on a small machine) and paid once per artifact while it stays in the cache.
 */
import type { ArtifactRecord, JobRecord } from '../store/store.js';
import type { TestCase, TestCaseStatus } from './junit.js';
import { ReportTooLargeError, reportFiles } from './report-files.js';

/** Decompressed JUnit XML read per job; past it the job's suite gets a `suite_error`. */
export const MAX_JUNIT_BYTES = 10 * 1024 * 1024;

export interface JunitSource {
  job: JobRecord;
  artifact: ArtifactRecord;
  read(): Promise<Buffer>;
}

export interface Counts {
  totalTime: number;
  total: number;
  success: number;
  failed: number;
  skipped: number;
  error: number;
}

export interface TestSuite extends Counts {
  name: string;
  buildIds: number[];
  suiteError: string | null;
  cases: TestCase[];
}

export interface TestReport extends Counts {
  suites: TestSuite[];
}

const round = (n: number): number => Math.round(n * 1e6) / 1e6;

function countsOf(cases: TestCase[]): Counts {
  const by = (s: TestCaseStatus): number => cases.filter((c) => c.status === s).length;
  return {
    totalTime: round(cases.reduce((sum, c) => sum + c.executionTime, 0)),
    total: cases.length,
    success: by('success'),
    failed: by('failed'),
    skipped: by('skipped'),
    error: by('error'),
  };
}

interface Parsed {
  cases: TestCase[];
  error: string | null;
}

/**
 * Parsed reports by artifact id (an artifact never changes once stored), least recently used
 * dropped first past `maxCases` cases in all, so repeated report requests do not parse again.
 */
export class ParsedReportCache {
  readonly #entries = new Map<number, Parsed>();
  #cases = 0;

  constructor(readonly maxCases = 200_000) {}

  /** A hit becomes the most recently used entry. */
  get(artifactId: number): Parsed | undefined {
    const hit = this.#entries.get(artifactId);
    if (hit) {
      this.#entries.delete(artifactId);
      this.#entries.set(artifactId, hit);
    }
    return hit;
  }

  set(artifactId: number, parsed: Parsed): void {
    if (parsed.cases.length > this.maxCases || this.#entries.has(artifactId)) return;
    this.#entries.set(artifactId, parsed);
    this.#cases += parsed.cases.length;
    for (const [id, old] of this.#entries) {
      if (this.#cases <= this.maxCases) break;
      this.#entries.delete(id);
      this.#cases -= old.cases.length;
    }
  }
}

async function cachedCasesOf(source: JunitSource, cache: ParsedReportCache | undefined): Promise<Parsed> {
  const hit = cache?.get(source.artifact.id);
  if (hit) return hit;
  const parsed = await casesOf(source);
  cache?.set(source.artifact.id, parsed);
  return parsed;
}

/** The cases of one job's junit artifact; a failure to read or parse it becomes its message. */
async function casesOf(source: JunitSource): Promise<Parsed> {
  // The XML parser loads with the first report asked for, not with every coordinator start.
  const { JunitParseError, parseJunit } = await import('./junit.js');
  try {
    if (source.artifact.size > MAX_JUNIT_BYTES) throw new ReportTooLargeError(MAX_JUNIT_BYTES);
    const files = await reportFiles(source.artifact.fileFormat, await source.read(), MAX_JUNIT_BYTES);
    return { cases: files.flatMap((xml) => parseJunit(xml)), error: null };
  } catch (err) {
    if (err instanceof JunitParseError) return { cases: [], error: err.message };
    const detail = err instanceof Error ? err.message : String(err);
    return { cases: [], error: `JUnit data parsing failed: ${detail}` };
  }
}

/** Builds the report from the junit artifacts of a pipeline's latest jobs, suites by job name. */
export async function buildTestReport(
  sources: JunitSource[],
  cache?: ParsedReportCache,
): Promise<TestReport> {
  const suites = new Map<string, { buildIds: number[]; cases: TestCase[]; errors: string[] }>();
  const ordered = [...sources].sort((a, b) => a.job.id - b.job.id);
  for (const source of ordered) {
    const name = source.job.definition.baseName;
    const suite = suites.get(name) ?? { buildIds: [], cases: [], errors: [] };
    suites.set(name, suite);
    const { cases, error } = await cachedCasesOf(source, cache);
    if (!suite.buildIds.includes(source.job.id)) suite.buildIds.push(source.job.id);
    suite.cases.push(...cases);
    if (error !== null) suite.errors.push(error);
  }
  const out: TestSuite[] = [...suites].map(([name, s]) => {
    // GitLab drops a suite's cases when one of its reports failed to parse.
    const cases = s.errors.length > 0 ? [] : s.cases;
    return { name, buildIds: s.buildIds, suiteError: s.errors[0] ?? null, cases, ...countsOf(cases) };
  });
  const all = out.flatMap((s) => s.cases);
  return { ...countsOf(all), suites: out };
}
