import { describe, expect, it } from 'vitest';

import { compileOk, context, job } from '../../test/kits/pipeline/compile-test-kit.js';
import { lintPipeline } from './lint.js';
import { psychKeyText, psychPlainScalar, rubyFloatText } from './psych-scalar.js';
import { loadYaml } from './yaml-load.js';
import { createDiagnostics } from './diagnostics.js';

/**
 * What GitLab's loader (`YAML.safe_load`, Psych with its default legacy integers) gives each
 * unquoted scalar, as a value and as a mapping key (Ruby's `to_s` of the key). The expectations
 * follow Psych's ScalarScanner and its own test suite, not the YAML 1.1 type regexps.
 */
const TABLE: [text: string, value: unknown, key: string][] = [
  // Exponent without a dot: the YAML 1.1 float regexp takes these, Psych does not.
  ['e01', 'e01', 'e01'],
  ['e02', 'e02', 'e02'],
  ['E1', 'E1', 'E1'],
  ['1e3', '1e3', '1e3'],
  ['1e+3', '1e+3', '1e+3'],
  ['1.5e3', '1.5e3', '1.5e3'],
  ['1.0e+3', 1000, '1000.0'],
  ['0.E+0', 0, '0.0'],
  // Floats need a dot.
  ['.5', 0.5, '0.5'],
  ['+.5', 0.5, '0.5'],
  ['1.', 1, '1.0'],
  ['1.0', 1, '1.0'],
  ['1.10', 1.1, '1.1'],
  ['1_000.5', 1000.5, '1000.5'],
  ['1.2.3', '1.2.3', '1.2.3'],
  ['.', '.', '.'],
  ['+.', '+.', '+.'],
  ['.inf', Infinity, 'Infinity'],
  ['+.inf', Infinity, 'Infinity'],
  ['-.Inf', -Infinity, '-Infinity'],
  ['.NaN', NaN, 'NaN'],
  // Integers: legacy commas and underscores, leading 0 is octal, no 0o prefix.
  ['0', 0, '0'],
  ['+1', 1, '1'],
  ['-1', -1, '-1'],
  ['1_000', 1000, '1000'],
  ['1,000', 1000, '1000'],
  ['1__000', '1__000', '1__000'],
  ['100_', '100_', '100_'],
  ['_100', '_100', '_100'],
  ['012', 10, '10'],
  ['-012', -10, '-10'],
  ['08', '08', '08'],
  ['0o17', '0o17', '0o17'],
  ['0x1F', 31, '31'],
  ['0X1F', '0X1F', '0X1F'],
  ['0x_,_', '0x_,_', '0x_,_'],
  ['0b101', 5, '5'],
  ['450D', '450D', '450D'],
  // Base 60, weighed as hours:minutes:seconds even with two parts.
  ['1:20', 4800, '4800'],
  ['190:20:30', 685230, '685230'],
  ['190:20:30.15', 685230.15, '685230.15'],
  ['00:00:00:00:00', '00:00:00:00:00', '00:00:00:00:00'],
  ['1:60', '1:60', '1:60'],
  // Null and booleans: YAML 1.1 words, any case; y and n stay strings.
  ['~', null, ''],
  ['null', null, ''],
  ['NULL', null, ''],
  ['nUlL', null, ''],
  ['yes', true, 'true'],
  ['Yes', true, 'true'],
  ['no', false, 'false'],
  ['on', true, 'true'],
  ['OFF', false, 'false'],
  ['true', true, 'true'],
  ['False', false, 'false'],
  ['y', 'y', 'y'],
  ['n', 'n', 'n'],
  ['Y', 'Y', 'Y'],
  ['yess', 'yess', 'yess'],
  ['nullify', 'nullify', 'nullify'],
  // Dates, times and symbols: GitLab refuses them as classes; kept as their text here.
  ['2024-01-31', '2024-01-31', '2024-01-31'],
  ['2001-12-14 21:59:43.10 -5', '2001-12-14 21:59:43.10 -5', '2001-12-14 21:59:43.10 -5'],
  [':build', ':build', ':build'],
];

describe('unquoted scalars read as GitLab reads them', () => {
  it.each(TABLE)('%s', (text, value, key) => {
    expect(psychPlainScalar(text)).toEqual(value);
    expect(psychKeyText(text)).toBe(key);
  });

  it.each(TABLE)('%s through the YAML loader, as key and value', (text, value, key) => {
    const diag = createDiagnostics();
    const docs = loadYaml(`${text}: ${text}\nlist:\n  - ${text}\n`, 'x.yml', diag);

    expect(diag.errors).toEqual([]);
    const map = docs?.[0] as Record<string, unknown>;
    expect(Object.keys(map)).toEqual([key, 'list']);
    expect(map[key]).toEqual(value);
    expect(map.list).toEqual([value]);
  });

  it.each([
    ['"1e3"', '1e3'],
    ["'yes'", 'yes'],
    ['"012"', '012'],
    ['!!str 012', '012'],
    ['!!int "012"', 10],
    ['!!float "1"', 1],
    ['!!float 1e3', 1000],
    ['!!bool "yes"', true],
  ])('%s keeps the rule of its quoting or tag', (source, value) => {
    const diag = createDiagnostics();
    const docs = loadYaml(`v: ${source}\n`, 'x.yml', diag);

    expect(diag.errors).toEqual([]);
    expect((docs?.[0] as Record<string, unknown>).v).toEqual(value);
  });

  it('keeps block scalars as text', () => {
    const docs = loadYaml('v: |\n  1e3\n', 'x.yml', createDiagnostics());

    expect((docs?.[0] as Record<string, unknown>).v).toBe('1e3\n');
  });

  it.each([
    [1, '1.0'],
    [0.5, '0.5'],
    [1e16, '1.0e+16'],
    [1.5e-5, '1.5e-05'],
    [-2.5e20, '-2.5e+20'],
  ])('writes the float %s as Ruby does', (n, text) => {
    expect(rubyFloatText(n)).toBe(text);
  });
});

describe('jobs whose names look like numbers', () => {
  const yaml = 'e01:\n  script: echo one\ne02:\n  script: echo two\n1e3:\n  script: echo three\n';

  it('compiles e01 and e02 as two jobs with their names', async () => {
    const p = await compileOk(yaml);

    expect(p.jobs.map((j) => j.name).sort()).toEqual(['1e3', 'e01', 'e02']);
    expect(job(p, 'e01').script).toEqual(['echo one']);
    expect(job(p, 'e02').script).toEqual(['echo two']);
  });

  it('lints e01 and e02 as two jobs', async () => {
    const result = await lintPipeline(yaml, context);

    expect(result.valid).toBe(true);
    expect(result.jobs.map((j) => j.name).sort()).toEqual(['1e3', 'e01', 'e02']);
  });

  it('keeps variable values that look like numbers to YAML 1.1 as written', async () => {
    const p = await compileOk('variables:\n  A: 1e3\n  B: e01\n  C: 0o17\nj:\n  script: x\n');
    const vars = Object.fromEntries(p.variables.map((v) => [v.key, v.value]));

    expect(vars).toMatchObject({ A: '1e3', B: 'e01', C: '0o17' });
  });
});

describe('merged YAML of the lint answer', () => {
  it('quotes the strings GitLab would read as something else, so it reads back the same', async () => {
    const yaml =
      'variables:\n  A: "yes"\n  B: "012"\n  C: "1,000"\n  D: "1:20"\n  E: e01\n  F: "null"\n  G: 1e3\n  H: 12\nj:\n  script: echo\n';
    const result = await lintPipeline(yaml, context);
    const docs = loadYaml(result.mergedYaml, 'merged.yml', createDiagnostics());

    expect((docs?.[0] as Record<string, Record<string, unknown>>).variables).toEqual({
      A: 'yes',
      B: '012',
      C: '1,000',
      D: '1:20',
      E: 'e01',
      F: 'null',
      G: '1e3',
      H: 12,
    });
  });
});
