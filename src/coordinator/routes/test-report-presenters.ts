/** Test reports → GitLab's `test_report` and `test_report_summary` response shapes. */
import type { TestCase } from '../reports/junit.js';
import type { Counts, TestReport, TestSuite } from '../reports/test-report.js';

export interface TestCaseResponse {
  status: TestCase['status'];
  name: string;
  classname: string;
  file: string | null;
  execution_time: number;
  system_output: string | null;
  stack_trace: string | null;
  recent_failures: null;
}

function counts(c: Counts) {
  return {
    total_time: c.totalTime,
    total_count: c.total,
    success_count: c.success,
    failed_count: c.failed,
    skipped_count: c.skipped,
    error_count: c.error,
  };
}

function presentCase(c: TestCase): TestCaseResponse {
  return {
    status: c.status,
    name: c.name,
    classname: c.classname,
    file: c.file,
    execution_time: c.executionTime,
    system_output: c.systemOutput,
    stack_trace: null,
    recent_failures: null,
  };
}

function presentSuite(s: TestSuite) {
  return { name: s.name, ...counts(s), suite_error: s.suiteError, test_cases: s.cases.map(presentCase) };
}

export function presentTestReport(r: TestReport) {
  return { ...counts(r), test_suites: r.suites.map(presentSuite) };
}

export function presentTestReportSummary(r: TestReport) {
  const firstError = r.suites.find((s) => s.suiteError !== null)?.suiteError ?? null;
  return {
    total: {
      time: r.totalTime,
      count: r.total,
      success: r.success,
      failed: r.failed,
      skipped: r.skipped,
      error: r.error,
      suite_error: firstError,
    },
    test_suites: r.suites.map((s) => ({
      ...counts(s),
      name: s.name,
      build_ids: s.buildIds,
      suite_error: s.suiteError,
    })),
  };
}
