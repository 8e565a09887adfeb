import { describe, expect, it } from 'vitest';

import { compilePipeline } from './compile.js';
import { context as pushContext } from '../../test/kits/pipeline/compile-test-kit.js';
import type { PipelineContext } from './types.js';
import { expandVariables } from './variables.js';

describe('expandVariables', () => {
  const vars = { A: 'a', B: '$A', PATH_X: '/bin', EMPTY: '' };

  it.each([
    ['$A', 'a'],
    ['${A}', 'a'],
    ['x$A-y${A}z', 'xa-yaz'],
    ['$B', '$A'],
    ['$$A', '$A'],
    ['$$$A', '$a'],
    ['$UNKNOWN', '$UNKNOWN'],
    ['${PATH_X}/sh', '/bin/sh'],
    ['$EMPTY.', '.'],
    ['price: 5$', 'price: 5$'],
    ['$1', '$1'],
  ])('%j → %j', (text, expected) => {
    expect(expandVariables(text, vars)).toBe(expected);
  });

  it('drops unknown variables when asked to', () => {
    expect(expandVariables('a$UNKNOWN${B}', vars, { keepUnknown: false })).toBe('a$A');
  });
});

describe('trigger jobs', () => {
  const context: PipelineContext = { ...pushContext, projectPath: 'g/p', variables: {} };

  it('represents a local child pipeline trigger', async () => {
    const result = await compilePipeline(
      'default: {before_script: [x]}\nchild:\n  trigger:\n    include: [{local: ci/child.yml}, other.yml]\n    strategy: depend\n    forward: {pipeline_variables: true}\n',
      context,
    );

    expect(result.ok && result.pipeline.jobs[0]).toMatchObject({
      name: 'child',
      script: [],
      beforeScript: [],
      trigger: {
        include: ['ci/child.yml', 'other.yml'],
        strategy: 'depend',
        forward: { yamlVariables: true, pipelineVariables: true },
      },
    });
  });

  it.each([
    [
      'child: {trigger: other/project}',
      'jobs:child:trigger multi-project pipelines (trigger:project) are not supported here',
    ],
    [
      'child: {trigger: {include: [{artifact: x.yml, job: gen}]}}',
      'jobs:child:trigger:include config only supports local child pipeline files here',
    ],
    ['child: {trigger: {include: a.yml}, script: x}', 'jobs:child config contains unknown keys: script'],
  ])('reports %j', async (yaml, message) => {
    const result = await compilePipeline(`${yaml}\n`, context);

    expect(
      result.ok ? [] : result.errors.map((e) => e.message).filter((m) => m.startsWith(message)),
    ).toHaveLength(1);
  });
});
