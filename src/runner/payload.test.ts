import { describe, expect, it } from 'vitest';

import { normalizeJobPayload } from './payload.js';

describe('normalizeJobPayload', () => {
  it('turns the minimum a coordinator must send into a complete payload', () => {
    const payload = normalizeJobPayload({
      id: 1,
      token: 'glcbt-x',
      git_info: {
        repo_url: 'http://h/g/p.git',
        sha: 'a'.repeat(40),
        ref: 'main',
        ref_type: 'branch',
        refspecs: null,
        depth: 20,
      },
      runner_info: { timeout: 3600 },
      steps: [{ name: 'script', script: ['echo hi'] }],
      variables: [{ key: 'CI_JOB_TOKEN', value: 'glcbt-x', masked: true }],
      features: { trace_sections: true },
      job_info: { project_id: 3 },
      artifacts: null,
      dependencies: null,
    });
    expect(payload.artifacts).toEqual([]);
    expect(payload.dependencies).toEqual([]);
    expect(payload.cache).toEqual([]);
    expect(payload.git_info.refspecs).toEqual([]);
    expect(payload.steps[0]).toEqual({
      name: 'script',
      script: ['echo hi'],
      timeout: 0,
      when: 'on_success',
      allow_failure: false,
    });
    expect(payload.variables[0]).toMatchObject({ public: false, masked: true });
    expect(payload.job_info.project_full_path).toBe('');
    expect(payload.image).toBeNull();
  });

  it.each([
    [
      { paths: ['out/'], when: 'always' },
      {
        name: '',
        untracked: false,
        exclude: [],
        expire_in: null,
        artifact_type: 'archive',
        artifact_format: 'zip',
        when: 'always',
      },
    ],
    [
      { paths: ['a'], expire_in: '7d', artifact_type: 'junit', artifact_format: 'gzip' },
      { expire_in: '7d', artifact_type: 'junit', artifact_format: 'gzip', when: 'on_success' },
    ],
  ])('fills artifact defaults for %j', (raw, expected) => {
    expect(normalizeJobPayload({ artifacts: [raw] }).artifacts[0]).toMatchObject(expected);
  });
});
