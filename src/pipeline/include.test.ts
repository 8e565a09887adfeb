import { describe, expect, it } from 'vitest';

import { compilePipeline } from './compile.js';
import { context as pushContext } from '../../test/kits/pipeline/compile-test-kit.js';
import { lintPipeline } from './lint.js';
import type { CompileResult, PipelineContext } from './types.js';

function contextWith(files: Record<string, string>, extra: Partial<PipelineContext> = {}): PipelineContext {
  return {
    ...pushContext,
    projectPath: 'g/p',
    variables: { CI_COMMIT_BRANCH: 'main' },
    readFile: async (path) => files[path] ?? null,
    listFiles: async () => Object.keys(files),
    ...extra,
  };
}

function messages(result: CompileResult): string[] {
  return result.ok ? [] : result.errors.map((e) => e.message);
}

describe('include', () => {
  it('merges local includes (globs too) under the including file', async () => {
    const files = {
      'ci/a.yml': 'variables: {A: from-a, B: from-a}\n.tpl: {script: [tpl]}\n',
      'ci/jobs/one.yml': 'one: {extends: .tpl}\n',
      'ci/jobs/two.yaml': 'two: {script: [two]}\n',
      'ci/jobs/notes.txt': 'x',
    };

    const result = await compilePipeline(
      'include:\n  - local: /ci/a.yml\n  - ci/jobs/*.y*ml\nvariables: {B: main}\n',
      contextWith(files),
    );

    expect(result.ok && result.pipeline.jobs.map((j) => [j.name, j.script])).toEqual([
      ['one', ['tpl']],
      ['two', ['two']],
    ]);
    expect(result.ok && result.pipeline.variables.map((v) => `${v.key}=${v.value}`)).toEqual([
      'A=from-a',
      'B=main',
    ]);
  });

  it('reports positions inside the included file', async () => {
    const result = await compilePipeline(
      'include: ci/bad.yml\n',
      contextWith({ 'ci/bad.yml': 'j:\n  script: x\n  when: later\n' }),
    );

    expect(result.ok ? null : result.errors[0]?.position).toEqual({ file: 'ci/bad.yml', line: 3, column: 3 });
  });

  it.each([
    ['include: missing.yml', 'Local file `missing.yml` does not exist!'],
    ['include: notes.txt', 'Included file `notes.txt` does not have YAML extension!'],
    [
      'include: {template: Auto-DevOps.gitlab-ci.yml}',
      'Template `Auto-DevOps.gitlab-ci.yml` is not supported here',
    ],
    [
      'include: {project: other/p, file: ci.yml}',
      'Project `other/p` file `ci.yml` cannot be included: other projects are not reachable here',
    ],
    ['include: {remote: "ftp://x/y.yml"}', 'Remote file `ftp://x/y.yml` does not have a valid address!'],
    ['include: {locale: x.yml}', 'include config contains unknown keys: locale'],
    ['include: deep0.yml', 'Maximum of 100 levels of nested includes are allowed!'],
    [`include: [${Array(151).fill('leaf.yml').join(', ')}]`, 'Maximum of 150 nested includes are allowed!'],
  ])('reports %s', async (yaml, message) => {
    const files: Record<string, string> = { 'leaf.yml': '.x: {}\n' };
    for (let i = 0; i <= 100; i += 1) files[`deep${i}.yml`] = `include: deep${i + 1}.yml\n`;

    const result = await compilePipeline(`${yaml}\nj: {script: x}\n`, contextWith(files));

    expect(messages(result).some((m) => m.startsWith(message))).toBe(true);
  });

  it.each([
    ['itself', { 'ci/a.yml': 'include: ci/a.yml\n' }, 'ci/a.yml → ci/a.yml'],
    [
      'through other files',
      {
        'ci/a.yml': 'include: ci/b.yml\n',
        'ci/b.yml': 'include: [ci/leaf.yml, ci/c.yml]\n',
        'ci/c.yml': 'include: ci/a.yml\n',
        'ci/leaf.yml': '.x: {}\n',
      },
      'ci/a.yml → ci/b.yml → ci/c.yml → ci/a.yml',
    ],
  ])('refuses a local include cycle %s, naming the files', async (_name, files, chain) => {
    const result = await compilePipeline('include: ci/a.yml\nj: {script: x}\n', contextWith(files));

    expect(messages(result)).toEqual([`Include \`ci/a.yml\` is circular: ${chain}`]);
  });

  it('includes one file inside itself with other inputs (not a cycle)', async () => {
    const spec = 'spec:\n  inputs:\n    name: {}\n    next: {}\n    child: {}\n---\n';
    const files = {
      'ci/step.yml': `${spec}"job-$[[ inputs.name ]]": {script: [x]}\ninclude:\n  - local: ci/$[[ inputs.next ]]\n    inputs:\n      name: "$[[ inputs.child ]]"\n      next: leaf.yml\n      child: x\n`,
      'ci/leaf.yml': `${spec}"leaf-$[[ inputs.name ]]": {script: [x]}\n`,
    };

    const result = await compilePipeline(
      'include:\n  - local: ci/step.yml\n    inputs: {name: one, next: step.yml, child: two}\n',
      contextWith(files),
    );

    expect(messages(result)).toEqual([]);
    expect(result.ok && result.pipeline.jobs.map((j) => j.name).sort()).toEqual([
      'job-one',
      'job-two',
      'leaf-x',
    ]);
  });

  it('includes one file twice when it is not a cycle', async () => {
    const files = { 'ci/a.yml': 'include: ci/leaf.yml\n', 'ci/leaf.yml': 'leaf: {script: x}\n' };

    const result = await compilePipeline('include: [ci/a.yml, ci/leaf.yml]\n', contextWith(files));

    expect(result.ok && result.pipeline.jobs.map((j) => j.name)).toEqual(['leaf']);
  });

  it('includes project files through the coordinator callback', async () => {
    const seen: string[] = [];
    const context = contextWith(
      {},
      {
        readProjectFile: async (project, ref, path) => {
          seen.push(`${project}@${ref}:${path}`);
          return 'shared: {script: [shared]}\n';
        },
      },
    );

    const result = await compilePipeline(
      'include: {project: grp/templates, ref: v1, file: [/a.yml]}\n',
      context,
    );

    expect(seen).toEqual(['grp/templates@v1:a.yml']);
    expect(result.ok && result.pipeline.jobs.map((j) => j.name)).toEqual(['shared']);
  });

  it('fetches remote files and reports failures', async () => {
    const context = contextWith(
      {},
      {
        fetchRemote: async (url) => {
          if (url.endsWith('ok.yml')) return 'remote: {script: [r]}\n';
          throw new Error('HTTP 404');
        },
      },
    );

    const ok = await compilePipeline('include: https://example.test/ok.yml\n', context);
    const bad = await compilePipeline('include: https://example.test/gone.yml\nj: {script: x}\n', context);

    expect(ok.ok && ok.pipeline.jobs.map((j) => j.name)).toEqual(['remote']);
    expect(messages(bad)).toEqual([
      'Remote file `https://example.test/gone.yml` could not be fetched because of HTTP 404 error!',
    ]);
  });

  it('evaluates include:rules with the context variables', async () => {
    const files = { 'a.yml': 'a: {script: x}\n', 'b.yml': 'b: {script: x}\n' };

    const result = await compilePipeline(
      'include:\n  - local: a.yml\n    rules: [{if: $CI_COMMIT_BRANCH == "main"}]\n  - local: b.yml\n    rules: [{if: $CI_COMMIT_TAG}]\n',
      contextWith(files),
    );

    expect(result.ok && result.pipeline.jobs.map((j) => j.name)).toEqual(['a']);
  });
});

describe('spec:inputs', () => {
  const template = `spec:
  inputs:
    stage: {default: test}
    env: {options: [dev, prod]}
    replicas: {type: number, default: 1}
---
"deploy-$[[ inputs.env ]]":
  stage: $[[ inputs.stage ]]
  script: ["deploy $[[ inputs.env ]] x$[[ inputs.replicas ]]"]
  parallel: $[[ inputs.replicas ]]
`;

  it('interpolates inputs with defaults and types', async () => {
    const result = await compilePipeline(
      'include:\n  - local: t.yml\n    inputs: {env: prod, replicas: 2}\n',
      contextWith({ 't.yml': template }),
    );

    expect(result.ok && result.pipeline.jobs.map((j) => [j.name, j.stage, j.script])).toEqual([
      ['deploy-prod 1/2', 'test', ['deploy prod x2']],
      ['deploy-prod 2/2', 'test', ['deploy prod x2']],
    ]);
  });

  it.each([
    ['{}', '`env` input: required value has not been provided'],
    ['{env: qa}', '`env` input: `qa` cannot be used because it is not in the list of allowed options'],
    ['{env: dev, replicas: two}', '`replicas` input: provided value is not a number'],
    ['{env: dev, extra: 1}', 'unknown input arguments: extra'],
  ])('rejects inputs %s', async (inputs, message) => {
    const result = await compilePipeline(
      `include:\n  - local: t.yml\n    inputs: ${inputs}\n`,
      contextWith({ 't.yml': template }),
    );

    expect(messages(result).some((m) => m.includes(message))).toBe(true);
  });

  it('rejects inputs given to a file without spec', async () => {
    const result = await compilePipeline(
      'include:\n  - local: t.yml\n    inputs: {a: 1}\n',
      contextWith({ 't.yml': 'j: {script: x}\n' }),
    );

    expect(messages(result)).toEqual([
      't.yml: Given inputs not defined in the `spec` section of the included configuration file',
    ]);
  });
});

describe('lint', () => {
  it('returns positioned error lines', async () => {
    const result = await lintPipeline('j:\n  script: x\n  when: later\n', contextWith({}));

    expect(result).toMatchObject({
      valid: false,
      errors: [
        'jobs:j:when config should be one of: on_success, on_failure, always, manual, delayed, never at .gitlab-ci.yml:3:3',
      ],
      jobs: [],
    });
  });

  it('returns the merged YAML and the jobs of a valid file', async () => {
    const result = await lintPipeline(
      '.base: {tags: [docker]}\nj:\n  extends: .base\n  script: [!reference [.s, script]]\n.s: {script: [hi]}\n',
      contextWith({}),
    );

    expect(result.valid).toBe(true);
    expect(result.mergedYaml).toContain('tags:\n    - docker');
    expect(result.mergedYaml).not.toContain('extends');
    expect(result.jobs).toEqual([
      {
        name: 'j',
        stage: 'test',
        beforeScript: [],
        script: ['hi'],
        afterScript: [],
        tagList: ['docker'],
        when: 'on_success',
        allowFailure: false,
        needs: null,
      },
    ]);
  });

  it('marks a pipeline filtered by workflow rules as valid but filtered', async () => {
    const result = await lintPipeline('workflow: {rules: [{if: $NOPE}]}\nj: {script: x}\n', contextWith({}));

    expect(result).toMatchObject({
      valid: true,
      filtered: true,
      warnings: ['Pipeline filtered out by workflow rules.'],
    });
  });
});
