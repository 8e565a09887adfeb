import { describe, expect, it } from 'vitest';

import { compilePipeline } from './compile.js';
import { context as pushContext } from '../../test/kits/pipeline/compile-test-kit.js';
import type { JobDefinition, PipelineContext } from './types.js';

const context: PipelineContext = {
  ...pushContext,
  projectPath: 'g/p',
  variables: { CI_COMMIT_BRANCH: 'main' },
};

async function jobs(yaml: string): Promise<JobDefinition[]> {
  const result = await compilePipeline(yaml, context);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.pipeline.jobs;
}

async function errors(yaml: string): Promise<string[]> {
  const result = await compilePipeline(yaml, context);
  return result.ok ? [] : result.errors.map((e) => e.message);
}

describe('extends', () => {
  it('deep-merges hashes, replaces arrays, applies parents in order and the job last', async () => {
    const [job] = await jobs(`
.base:
  script: [base]
  tags: [a, b]
  variables: {A: base, B: base}
  artifacts: {paths: [x], when: always}
.other:
  extends: .base
  variables: {B: other, C: other}
  tags: [c]
j:
  extends: [.base, .other]
  variables: {C: job}
  artifacts: {paths: [y]}
`);

    expect(job?.script).toEqual(['base']);
    expect(job?.tags).toEqual(['c']);
    expect(job?.variables.map((v) => `${v.key}=${v.value}`)).toEqual(['A=base', 'B=other', 'C=job']);
    expect(job?.artifacts).toMatchObject({ paths: ['y'], when: 'always' });
  });

  it.each([
    ['j: {extends: .nope, script: x}', 'j: unknown keys in `extends` (.nope)'],
    [
      '.a: {extends: .b}\n.b: {extends: .a}\nj: {extends: .a, script: x}',
      'circular dependency detected in `extends`',
    ],
    ['j: {extends: j, script: x}', 'j: circular dependency detected in `extends`'],
    [
      Array.from({ length: 13 }, (_, i) => `.l${i}: {extends: .l${i + 1}}`).join('\n') +
        '\n.l13: {script: x}\nj: {extends: .l0}',
      'nested `extends` is too deep',
    ],
    [
      'j: {extends: {a: 1}, script: x}',
      'j: invalid extends value (should be a string or an array of strings)',
    ],
  ])('reports %j', async (yaml, message) => {
    expect((await errors(`${yaml}\n`)).some((m) => m.includes(message))).toBe(true);
  });

  it('accepts the deepest allowed chain', async () => {
    const yaml =
      Array.from({ length: 10 }, (_, i) => `.l${i}: {extends: .l${i + 1}}`).join('\n') +
      '\n.l10: {script: x}\nj: {extends: .l0}\n';

    expect((await jobs(yaml)).map((j) => j.script)).toEqual([['x']]);
  });
});

describe('default and inherit', () => {
  it('gives default keywords to jobs unless inherit says otherwise', async () => {
    const result = await jobs(`
variables: {G1: a, G2: b}
default: {image: ruby, tags: [t], retry: 1}
a: {script: x}
b: {script: x, inherit: {default: false, variables: false}}
c: {script: x, inherit: {default: [tags], variables: [G2]}, tags: [own]}
`);

    expect(
      result.map((j) => [j.image?.name ?? null, j.tags, j.retry.max, j.inheritedGlobalVariables]),
    ).toEqual([
      ['ruby', ['t'], 1, undefined],
      [null, [], 0, []],
      [null, ['own'], 0, ['G2']],
    ]);
  });
});

describe('YAML reuse', () => {
  it('resolves anchors, aliases and merge keys (explicit keys win)', async () => {
    const [job] = await jobs(`
.tpl: &tpl
  script: [from-anchor]
  variables: &vars {A: "1", B: "2"}
j:
  <<: *tpl
  variables:
    <<: *vars
    B: mine
`);

    expect(job?.script).toEqual(['from-anchor']);
    expect(job?.variables.map((v) => `${v.key}=${v.value}`)).toEqual(['B=mine', 'A=1']);
  });

  it('resolves nested !reference tags', async () => {
    const [job] = await jobs(`
.setup:
  script: [setup-1, setup-2]
.more:
  script: [!reference [.setup, script], more]
j:
  script:
    - !reference [.more, script]
    - own
  variables: !reference [.vars]
.vars: {A: a}
`);

    expect(job?.script).toEqual(['setup-1', 'setup-2', 'more', 'own']);
    expect(job?.variables).toEqual([{ key: 'A', value: 'a', expand: true }]);
  });

  it.each([
    ['j: {script: !reference [.nope, script]}', '!reference [".nope", "script"] could not be found'],
    [
      '.a: {script: !reference [.b, script]}\n.b: {script: !reference [.a, script]}\nj: {script: !reference [.a, script]}',
      'is part of a circular chain',
    ],
    ['j: {script: !reference x}', '!reference tag should be a sequence of strings'],
    ['j: {script: !custom x}', 'unknown YAML tag !custom'],
  ])('reports %j', async (yaml, message) => {
    expect((await errors(`${yaml}\n`)).some((m) => m.includes(message))).toBe(true);
  });
});

describe('hostile input', () => {
  it('refuses an alias bomb instead of expanding it (10^9 nodes)', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10)
          .fill(`*${i === 1 ? 'a' : 'b'.repeat(i - 1)}`)
          .join(',')}]`,
      );
    const found = await errors(`${levels.join('\n')}\nj: {script: x}\n`);

    expect(found.some((m) => m.includes('The parsed YAML is too big'))).toBe(true);
  });

  it('refuses a !reference bomb', async () => {
    const levels = ['.r0: [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `.r${i}: [${Array(10)
          .fill(`!reference [.r${i - 1}]`)
          .join(', ')}]`,
      );

    const found = await errors(`${levels.join('\n')}\nj: {script: x}\n`);

    expect(found.some((m) => m.includes('The parsed YAML is too big'))).toBe(true);
  });

  it.each([
    ['a file over 1 MiB', `j: {script: x}\n# ${'x'.repeat(1024 * 1024)}\n`, 'the file is too big'],
    ['deep nesting', `j: {script: x, variables: ${'['.repeat(150)}${']'.repeat(150)}}\n`, 'too deep'],
    [
      'invalid YAML',
      'build:\n  script: echo\n bad: x\n',
      '(.gitlab-ci.yml): did not find expected key while parsing a block mapping at line 3 column 1',
    ],
  ])('refuses %s', async (_label, yaml, message) => {
    expect((await errors(yaml)).some((m) => m.includes(message))).toBe(true);
  });
});
