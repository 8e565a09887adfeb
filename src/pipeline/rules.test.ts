import { describe, expect, it } from 'vitest';

import { compilePipeline } from './compile.js';
import { context as pushContext } from '../../test/kits/pipeline/compile-test-kit.js';
import type { CompileResult, PipelineContext } from './types.js';

function contextFor(
  overrides: Partial<PipelineContext> = {},
  vars: Record<string, string> = {},
): PipelineContext {
  return {
    ...pushContext,
    projectPath: 'g/p',
    variables: {
      CI_COMMIT_BRANCH: 'main',
      CI_COMMIT_REF_NAME: 'main',
      CI_PIPELINE_SOURCE: 'push',
      CI_DEFAULT_BRANCH: 'main',
      ...vars,
    },
    ...overrides,
  };
}

const FEATURE = contextFor(
  { ref: 'feature/x' },
  { CI_COMMIT_BRANCH: 'feature/x', CI_COMMIT_REF_NAME: 'feature/x' },
);
const TAG = contextFor(
  { ref: 'v1.0.0', tag: true },
  { CI_COMMIT_TAG: 'v1.0.0', CI_COMMIT_BRANCH: '', CI_COMMIT_REF_NAME: 'v1.0.0' },
);
const MR = contextFor({ source: 'merge_request_event' }, { CI_PIPELINE_SOURCE: 'merge_request_event' });
const SCHEDULE = contextFor({ source: 'schedule' }, { CI_PIPELINE_SOURCE: 'schedule' });

async function jobNames(yaml: string, context: PipelineContext): Promise<string[] | CompileResult> {
  const result = await compilePipeline(yaml, context);
  return result.ok ? result.pipeline.jobs.map((j) => j.name) : result;
}

const RULES_YAML = `
always: {script: x}
main-only:
  script: x
  rules: [{if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'}]
not-main:
  script: x
  rules:
    - if: '$CI_COMMIT_BRANCH == "main"'
      when: never
    - when: on_success
tags:
  script: x
  rules: [{if: $CI_COMMIT_TAG}]
mr:
  script: x
  rules: [{if: '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
job-var:
  script: x
  variables: {DEPLOY: "yes"}
  rules: [{if: '$DEPLOY == "yes" && $CI_COMMIT_REF_NAME =~ /^feature\\//'}]
`;

describe('rules', () => {
  it.each([
    ['main push', contextFor(), ['always', 'main-only']],
    ['feature push', FEATURE, ['always', 'not-main', 'job-var']],
    ['tag', TAG, ['always', 'not-main', 'tags']],
    // A job without rules has only: [branches, tags], which merge request pipelines do not match.
    ['merge request', MR, ['main-only', 'mr']],
  ])('selects jobs for a %s', async (_label, context, expected) => {
    expect(await jobNames(RULES_YAML, context)).toEqual(expected);
  });

  it('applies the matching rule when, allow_failure, variables, needs and start_in', async () => {
    const result = await compilePipeline(
      `a: {stage: build, script: x}
b:
  script: x
  variables: {KEEP: k, OVER: old}
  rules:
    - if: $NOPE
      when: always
    - if: $CI_COMMIT_BRANCH
      when: manual
      variables: {OVER: new, ADDED: "1"}
      needs: [a]
c:
  script: x
  rules: [{when: delayed, start_in: 5 minutes, allow_failure: true, interruptible: true}]
`,
      contextFor(),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));

    const [, b, c] = result.pipeline.jobs;

    expect(b).toMatchObject({
      when: 'manual',
      allowFailure: false,
      needs: [{ job: 'a', artifacts: true, optional: false }],
      variables: [
        { key: 'KEEP', value: 'k', expand: true },
        { key: 'OVER', value: 'new', expand: true },
        { key: 'ADDED', value: '1', expand: true },
      ],
    });
    expect(c).toMatchObject({
      when: 'delayed',
      startInSeconds: 300,
      allowFailure: true,
      interruptible: true,
    });
  });

  it.each([
    [{ changedFiles: ['src/a.ts'] }, ['docs', 'code']],
    [{ changedFiles: ['docs/x.md'] }, ['docs']],
    [{ changedFiles: [] }, []],
    [{}, ['docs', 'code']],
  ])('evaluates changes for %j', async (overrides, expected) => {
    const yaml = `
docs: {script: x, rules: [{changes: ["docs/**/*", "src/**/*.ts"]}]}
code: {script: x, rules: [{changes: {paths: ["src/*.ts"]}}]}
fallback: {script: x, rules: [{if: $NOPE}]}
`;
    const result = await jobNames(yaml, contextFor(overrides));

    expect(Array.isArray(result) ? result : []).toEqual(expected);
  });

  it('evaluates exists against the listed files', async () => {
    const context = contextFor({ listFiles: async () => ['Dockerfile', 'app/package.json'] });

    const names = await jobNames(
      `a: {script: x, rules: [{exists: [Dockerfile]}]}\nb: {script: x, rules: [{exists: ["**/package.json"]}]}\nc: {script: x, rules: [{exists: [Gemfile]}]}\n`,
      context,
    );

    expect(names).toEqual(['a', 'b']);
  });

  it('reports every job dropped as a filtered pipeline', async () => {
    const result = await compilePipeline('a: {script: x, rules: [{if: $NOPE}]}\n', contextFor());

    expect(result).toMatchObject({ ok: false, reason: 'filtered', errors: [{ path: 'jobs' }] });
  });

  it.each([
    ['a: {script: x, rules: [{if: "$A ="}]}', 'jobs:a:rules:rule if invalid expression syntax'],
    ['a: {script: x, rules: [{if: "$A =~ /(?=x)/"}]}', 'jobs:a:rules:rule if invalid expression syntax'],
    ['a: {script: x, rules: [{when: later}]}', 'jobs:a:rules:rule when unknown value: later'],
    ['a: {script: x, rules: [{iff: $A}]}', 'jobs:a:rules:rule config contains unknown keys: iff'],
    ['a: {script: x, rules: {if: $A}}', 'jobs:a:rules config should be an array of hashes'],
    [
      'a: {script: x, rules: [{if: $A}], only: [main]}',
      'jobs:a config key may not be used with `rules`: only',
    ],
    [
      'a: {script: x, only: {kubernetes: active}}',
      'jobs:a:only:kubernetes is not supported by this coordinator',
    ],
    ['a: {script: x, only: {variables: ["$A =="]}}', 'jobs:a:only:variables invalid expression syntax'],
  ])('reports %s', async (yaml, message) => {
    const result = await compilePipeline(`${yaml}\n`, contextFor());

    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.message).some((m) => m.startsWith(message))).toBe(true);
  });
});

describe('only / except', () => {
  const yaml = `
default-refs: {script: x}
main: {script: x, only: [main]}
features: {script: x, only: ['/^feature\\/.*$/']}
tags-only: {script: x, only: [tags]}
mrs: {script: x, only: [merge_requests]}
schedules: {script: x, only: [schedules]}
not-main: {script: x, except: [main]}
vars: {script: x, only: {refs: [branches], variables: ['$CI_COMMIT_BRANCH == "main"']}}
except-sched: {script: x, except: {refs: [schedules]}}
`;

  it.each([
    ['main push', contextFor(), ['default-refs', 'main', 'vars', 'except-sched']],
    ['feature push', FEATURE, ['default-refs', 'features', 'not-main', 'except-sched']],
    ['tag', TAG, ['default-refs', 'tags-only', 'not-main', 'except-sched']],
    ['merge request', MR, ['main', 'mrs']],
    ['schedule', SCHEDULE, ['default-refs', 'main', 'schedules', 'vars']],
  ])('selects jobs for a %s', async (_label, context, expected) => {
    expect(await jobNames(yaml, context)).toEqual(expected);
  });
});

describe('workflow', () => {
  it.each([
    ['$CI_COMMIT_TAG', contextFor(), false],
    ['$CI_COMMIT_TAG', TAG, true],
  ])('filters on %s', async (condition, context, runs) => {
    const result = await compilePipeline(
      `workflow:\n  rules:\n    - if: ${condition}\na: {script: x}\n`,
      context,
    );

    if (runs) expect(result.ok).toBe(true);
    else
      expect(result).toEqual({
        ok: false,
        reason: 'filtered',
        warnings: [],
        errors: [{ path: 'workflow', message: 'Pipeline filtered out by workflow rules.' }],
      });
  });

  it('applies rule variables, expands the name and keeps auto_cancel', async () => {
    const result = await compilePipeline(
      `variables: {ENV: dev, OTHER: o}
workflow:
  name: 'Deploy $ENV on $CI_COMMIT_BRANCH'
  auto_cancel: {on_new_commit: interruptible}
  rules:
    - if: $CI_COMMIT_TAG
      when: never
    - if: $CI_COMMIT_BRANCH == "main"
      variables: {ENV: prod}
a:
  script: x
  rules: [{if: $ENV == "prod"}]
`,
      contextFor(),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));

    expect(result.pipeline.workflowName).toBe('Deploy prod on main');
    expect(result.pipeline.variables).toEqual([
      { key: 'OTHER', value: 'o', expand: true },
      { key: 'ENV', value: 'prod', expand: true },
    ]);
    expect(result.pipeline.autoCancel).toEqual({ onNewCommit: 'interruptible', onJobFailure: null });
    expect(result.pipeline.jobs.map((j) => j.name)).toEqual(['a']);
  });

  it('refuses workflow rules with job-only when values', async () => {
    const result = await compilePipeline(
      'workflow: {rules: [{when: manual}]}\na: {script: x}\n',
      contextFor(),
    );

    expect(result.ok ? [] : result.errors.map((e) => e.message)).toContain(
      'workflow:rules:rule when unknown value: manual',
    );
  });
});
