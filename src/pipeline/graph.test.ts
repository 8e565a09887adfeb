import { describe, expect, it } from 'vitest';

import { compileOk, job, messages } from '../../test/kits/pipeline/compile-test-kit.js';

describe('needs, dependencies and parallel', () => {
  it.each([
    [
      'a:\n  script: x\n  needs: [missing]\n',
      "'a' job needs 'missing' job, but 'missing' does not exist in the pipeline.",
    ],
    [
      'a:\n  stage: build\n  script: x\n  needs: [b]\nb:\n  stage: deploy\n  script: x\n',
      "'a' job needs 'b' job, but 'b' is not in any previous stage",
    ],
    ['a:\n  script: x\n  dependencies: [nope]\n', 'a job: undefined dependency: nope'],
    [
      'a:\n  stage: build\n  script: x\n  dependencies: [b]\nb:\n  stage: deploy\n  script: x\n',
      'a job: dependency b is not defined in current or prior stages',
    ],
    [
      'a:\n  script: x\n  needs: [b]\nb:\n  script: x\n  needs: [a]\n',
      'a: circular dependency detected in `needs`',
    ],
  ])('reports %j', async (yaml, message) => {
    const all = await messages(yaml);

    expect(all.some((m) => m.startsWith(message))).toBe(true);
  });

  it('resolves needs in hash form, optional needs and same-stage needs', async () => {
    const p = await compileOk(
      'a:\n  script: x\nb:\n  script: x\n  needs: [{job: a, artifacts: false}, {job: gone, optional: true}]\n',
    );

    expect(job(p, 'b').needs).toEqual([{ job: 'a', artifacts: false, optional: false }]);
  });

  it('expands parallel: N and needs on all of its instances', async () => {
    const p = await compileOk(
      't:\n  script: x\n  parallel: 3\nr:\n  stage: deploy\n  script: x\n  needs: [t]\n',
    );

    expect(p.jobs.map((j) => [j.name, j.nodeIndex, j.nodeTotal, j.baseName])).toEqual([
      ['t 1/3', 1, 3, 't'],
      ['t 2/3', 2, 3, 't'],
      ['t 3/3', 3, 3, 't'],
      ['r', null, null, 'r'],
    ]);
    expect(job(p, 'r').needs?.map((n) => n.job)).toEqual(['t 1/3', 't 2/3', 't 3/3']);
  });

  it('expands parallel:matrix with GitLab naming and injected variables', async () => {
    const p = await compileOk(`t:
  script: x
  variables: {OS: none, K: v}
  parallel:
    matrix:
      - {OS: [linux, mac], V: ["1", "2"]}
      - {OS: win}
d:
  stage: deploy
  script: x
  needs: [{job: t, parallel: {matrix: [{OS: mac, V: "2"}]}}]
`);

    expect(p.jobs.map((j) => j.name)).toEqual([
      't: [linux, 1]',
      't: [linux, 2]',
      't: [mac, 1]',
      't: [mac, 2]',
      't: [win]',
      'd',
    ]);
    expect(job(p, 't: [mac, 2]').variables).toEqual([
      { key: 'K', value: 'v', expand: true },
      { key: 'OS', value: 'mac', expand: true },
      { key: 'V', value: '2', expand: true },
    ]);
    expect(job(p, 't: [win]')).toMatchObject({ nodeIndex: 5, nodeTotal: 5 });
    expect(job(p, 'd').needs).toEqual([{ job: 't: [mac, 2]', artifacts: true, optional: false }]);
  });

  it('refuses a matrix over 200 jobs', async () => {
    const values = Array.from({ length: 15 }, (_, i) => String(i)).join(', ');

    expect(
      await messages(`t:\n  script: x\n  parallel:\n    matrix:\n      - {A: [${values}], B: [${values}]}\n`),
    ).toContain('jobs:t:parallel:matrix config generates too many jobs (maximum is 200)');
  });
});
