import { describe, expect, it } from 'vitest';

import type { JobVariableDefinition } from '../../../pipeline/types.js';
import type { PipelineVariable } from '../../store/store.js';
import { downstreamVariables, type DownstreamInput } from './downstream-variables.js';
import { mirroredStatus } from './bridges.js';

const v = (key: string, value: string, expand = true): JobVariableDefinition => ({ key, value, expand });
const env = (key: string, value: string): PipelineVariable => ({ key, value, variableType: 'env_var' });

function input(over: Partial<DownstreamInput> = {}): DownstreamInput {
  return {
    forward: { yamlVariables: true, pipelineVariables: false },
    globals: [v('GLOBAL', 'g'), v('SHARED', 'from-global')],
    jobVariables: [
      v('SHARED', 'from-job'),
      v('PATH_VAR', '$CI_PROJECT_PATH/$GLOBAL'),
      v('RAW', '$KEEP', false),
    ],
    pipelineVariables: [env('API_VAR', 'api $GLOBAL')],
    scope: { CI_PROJECT_PATH: 'root/demo', KEEP: 'expanded' },
    ...over,
  };
}

const asRecord = (list: PipelineVariable[]) => Object.fromEntries(list.map((x) => [x.key, x.value]));

describe('downstreamVariables', () => {
  it('passes global and job YAML variables, the job winning, expanded except expand: false', () => {
    expect(asRecord(downstreamVariables(input()))).toEqual({
      GLOBAL: 'g',
      SHARED: 'from-job',
      PATH_VAR: 'root/demo/g',
      RAW: '$KEEP',
    });
  });

  it('inherit:variables limits the globals (false gives none)', () => {
    expect(Object.keys(asRecord(downstreamVariables(input({ inherited: [] }))))).toEqual([
      'SHARED',
      'PATH_VAR',
      'RAW',
    ]);
    expect(asRecord(downstreamVariables(input({ inherited: ['GLOBAL'] })))['GLOBAL']).toBe('g');
  });

  it('forward:pipeline_variables adds the parent pipeline variables, which win', () => {
    const forward = { yamlVariables: true, pipelineVariables: true };
    const out = downstreamVariables(
      input({ forward, pipelineVariables: [env('SHARED', 'api'), env('API_VAR', 'x $GLOBAL')] }),
    );
    expect(asRecord(out)).toMatchObject({ SHARED: 'api', API_VAR: 'x g', GLOBAL: 'g' });
    expect(out.map((x) => x.key).at(-1)).toBe('API_VAR');
  });

  it('forward:yaml_variables false passes no YAML variables', () => {
    expect(
      downstreamVariables(input({ forward: { yamlVariables: false, pipelineVariables: false } })),
    ).toEqual([]);
    const only = downstreamVariables(input({ forward: { yamlVariables: false, pipelineVariables: true } }));
    expect(asRecord(only)).toEqual({ API_VAR: 'api g' });
  });

  it('keeps a file-type pipeline variable a file', () => {
    const forward = { yamlVariables: false, pipelineVariables: true };
    const file: PipelineVariable = { key: 'CERT', value: 'pem', variableType: 'file' };
    expect(downstreamVariables(input({ forward, pipelineVariables: [file] }))).toEqual([file]);
  });
});

describe('mirroredStatus (strategy: depend)', () => {
  it.each([
    ['success', 'success'],
    ['failed', 'failed'],
    ['canceled', 'canceled'],
    ['skipped', 'failed'],
    ['running', null],
    ['manual', null],
    ['canceling', null],
  ])('a %s child gives a %s bridge', (child, bridge) => {
    expect(mirroredStatus(child)).toBe(bridge);
  });
});
