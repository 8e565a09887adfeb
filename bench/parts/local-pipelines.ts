/** The repositories of the local-run benchmark: the same `.gitlab-ci.yml` for both tools. */

export interface LocalPipeline {
  name: string;
  description: string;
  jobs: number;
  yaml: string;
}

const job = (name: string, lines: string[]): string => `${name}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;

function trivial(): LocalPipeline {
  return {
    name: 'trivial',
    description: 'one job',
    jobs: 1,
    yaml: job('hello', ['script:', '  - echo hello']),
  };
}

function stages(): LocalPipeline {
  const names = ['build', 'test', 'package', 'deploy'];
  let yaml = `stages: [${names.join(', ')}]\n\n`;
  for (const stage of names) {
    for (let i = 1; i <= 5; i++)
      yaml += job(`${stage}-${i}`, [`stage: ${stage}`, 'script:', '  - echo "$CI_JOB_NAME"']);
  }
  return { name: 'stages-20', description: '20 jobs in 4 stages', jobs: 20, yaml };
}

/** 50 jobs, 10 per stage; each job after the first stage needs two jobs of the stage before. */
function dag(): LocalPipeline {
  const names = ['s1', 's2', 's3', 's4', 's5'];
  let yaml = `stages: [${names.join(', ')}]\n\n`;
  names.forEach((stage, s) => {
    for (let k = 0; k < 10; k++) {
      const needs = s === 0 ? [] : [`${names[s - 1]}-${k}`, `${names[s - 1]}-${(k + 1) % 10}`];
      yaml += job(`${stage}-${k}`, [
        `stage: ${stage}`,
        ...(s === 0 ? [] : [`needs: [${needs.join(', ')}]`]),
        'script:',
        '  - echo "$CI_JOB_NAME"',
      ]);
    }
  });
  return {
    name: 'needs-dag-50',
    description: '50-job needs DAG (5 layers of 10, two needs each)',
    jobs: 50,
    yaml,
  };
}

function artifacts(): LocalPipeline {
  const yaml = [
    'stages: [build, test, deploy]\n',
    job('build', [
      'stage: build',
      'script:',
      '  - mkdir -p out',
      '  - for i in $(seq 1 20); do head -c 50000 /dev/urandom > out/part-$i.bin; done',
      'artifacts:',
      '  paths: [out/]',
    ]),
    job('test-a', [
      'stage: test',
      'script:',
      '  - test "$(ls out | wc -l)" -eq 20',
      '  - echo checked > out/checked-a',
      'artifacts:',
      '  paths: [out/checked-a]',
    ]),
    job('test-b', ['stage: test', 'script:', '  - test -f out/part-20.bin']),
    job('deploy', [
      'stage: deploy',
      'needs: [build, test-a]',
      'script:',
      '  - test -f out/checked-a',
      '  - test -f out/part-1.bin',
    ]),
  ].join('\n');
  return { name: 'artifacts', description: '4 jobs passing ~1 MB of artifacts', jobs: 4, yaml };
}

export function localPipelines(): LocalPipeline[] {
  return [trivial(), stages(), dag(), artifacts()];
}
