/**
 * Generators of hostile `.gitlab-ci.yml` text for property tests and the fuzz bench: structured
 * documents built from GitLab's keywords with odd values, YAML tricks (anchors, aliases, merge keys,
 * `!reference`, deep nesting), and raw or mutated text.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';

const KEYWORDS = [
  'script',
  'stage',
  'stages',
  'image',
  'services',
  'variables',
  'rules',
  'if',
  'when',
  'needs',
  'extends',
  'include',
  'artifacts',
  'paths',
  'cache',
  'key',
  'parallel',
  'matrix',
  'trigger',
  'tags',
  'only',
  'except',
  'before_script',
  'after_script',
  'default',
  'workflow',
  'environment',
  'timeout',
  'retry',
  'allow_failure',
  'dependencies',
  'inherit',
  'spec',
  'inputs',
  'local',
  'changes',
  'exists',
  'name',
  'value',
  'expand',
  'coverage',
  'interruptible',
  'resource_group',
  'release',
  'pages',
  'start_in',
  'reports',
  'junit',
  'exclude',
  'expire_in',
  'untracked',
  'fallback_keys',
  'policy',
  'max',
  'exit_codes',
  'job',
  'optional',
  'artifacts',
  'strategy',
  'forward',
  'on_stop',
  'action',
  '.hidden',
  'build',
  'test',
  'deploy',
  'build-job',
  'test-job',
] as const;

const SCALARS = [
  '$CI_COMMIT_BRANCH == "main"',
  '$CI_COMMIT_BRANCH =~ /^ma.*$/',
  '$X =~ /(a|b)*c/',
  '$A && ($B || $C)',
  '$X != null',
  '"unterminated',
  '/unterminated',
  '$',
  '${',
  '$$$',
  'build',
  'test',
  'deploy',
  '1h 30m',
  'never',
  'always',
  'manual',
  'delayed',
  'on_success',
  'on_failure',
  'echo hi',
  '*',
  '**/*',
  '../x',
  '/abs',
  '',
  ' ',
  'true',
  '0',
  '-1',
  '99999999999999999999',
  '.hidden',
  'a:b',
  '${X}${Y}',
  '\u0000',
  '\u202e',
  'x'.repeat(300),
] as const;

const scalar = fc.oneof(
  fc.constantFrom(...SCALARS),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEYWORDS) }, fc.string({ maxLength: 8 }));

const { node } = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(key, tie('node'), { maxKeys: 5 }),
  ),
}));

/** A YAML document whose top level is a map of GitLab-ish keys. */
export const structuredPipeline = fc
  .dictionary(key, node, { maxKeys: 8 })
  .map((doc) => stringify(doc, { lineWidth: 0 }));

const TRICKS = [
  'a: &a [*a]\n',
  'base: &b {script: [x]}\njob: {<<: *b, stage: test}\n',
  'x: &x [1]\ny: &y [*x, *x, *x, *x]\nz: [*y, *y, *y, *y, *y, *y, *y, *y]\n',
  'job: {script: !reference [.a, script]}\n.a: {script: !reference [job, script]}\n',
  'job: {script: !reference [1, 2, 3]}\n',
  'job: {extends: job, script: [x]}\n',
  'a: {extends: b}\nb: {extends: a}\n',
  'include: [{local: "a.yml"}, {remote: "http://127.0.0.1:1/x.yml"}, {project: "p", file: "f"}]\n',
  'job: {script: [x], parallel: {matrix: [{A: [1,2,3,4,5,6,7,8,9,10], B: [1,2,3,4,5,6,7,8,9,10], C: [1,2,3,4,5,6,7,8,9,10]}]}}\n',
  'job: {script: [x], rules: [{if: "$A =~ /(((((((((((((((a*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)b/"}]}\n',
  '['.repeat(200) + ']'.repeat(200) + '\n',
  '{'.repeat(200) + '\n',
  '%YAML 1.2\n---\na: 1\n---\nb: 2\n',
  'job: !!binary aGVsbG8=\n',
  'job: {script: [x]}\njob: {script: [y]}\n',
  '? [a, b]\n: c\n',
  'spec: {inputs: {a: {default: 1}}}\n---\njob: {script: ["$[[ inputs.a ]]", "$[[ inputs.nope ]]"]}\n',
  '\t- tab\n',
  'job:\n  script:\n    - "a"\n   - "b"\n',
] as const;

/** Known YAML tricks, possibly followed by a structured document. */
export const trickPipeline = fc
  .tuple(fc.constantFrom(...TRICKS), fc.option(structuredPipeline))
  .map(([trick, rest]) => trick + (rest ?? ''));

/** A structured document with a few bytes inserted, deleted or replaced. */
export const mutatedPipeline = fc
  .tuple(
    fc.oneof(structuredPipeline, trickPipeline),
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ maxLength: 3 })), { maxLength: 4 }),
  )
  .map(([text, edits]) =>
    edits.reduce((t, [at, drop, insert]) => {
      const i = t.length === 0 ? 0 : at % (t.length + 1);
      return t.slice(0, i) + insert + t.slice(i + drop);
    }, text),
  );

export const anyPipeline = fc.oneof(
  { weight: 3, arbitrary: structuredPipeline },
  { weight: 2, arbitrary: trickPipeline },
  { weight: 2, arbitrary: mutatedPipeline },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);
