/** Test fixtures: a minimal job payload and an in-memory job output. Used by tests only. */
import type { JobPayload } from '../../../src/api/runner-api.js';
import type { ExecutorJob, JobOutput } from '../../../src/executors/executor.js';

/** The git_info of a job on branch `main` at `sha`, fetched from `url` with this depth and refspecs. */
export function mainBranchGitInfo(
  url: string,
  sha: string,
  depth: number,
  refspecs: string[],
): JobPayload['git_info'] {
  return {
    repo_url: url,
    ref: 'main',
    sha,
    before_sha: '0'.repeat(40),
    ref_type: 'branch',
    repo_object_format: 'sha1',
    protected: false,
    depth,
    refspecs,
  };
}

export function jobPayload(overrides: Partial<JobPayload> = {}): JobPayload {
  return {
    id: 42,
    token: 'glcbt-jobtoken123456',
    allow_git_fetch: true,
    job_info: {
      id: 42,
      name: 'test',
      stage: 'test',
      pipeline_id: 7,
      project_id: 3,
      project_name: 'p',
      project_full_path: 'group/p',
      time_in_queue_seconds: 0,
      queue_size: 0,
      queue_depth: 0,
    },
    git_info: mainBranchGitInfo('file:///nonexistent', '0'.repeat(40), 0, []),
    runner_info: { timeout: 3600 },
    variables: [],
    steps: [{ name: 'script', script: ['true'], timeout: 3600, when: 'on_success', allow_failure: false }],
    image: null,
    services: [],
    artifacts: [],
    cache: [],
    credentials: [],
    dependencies: [],
    features: { trace_sections: true },
    ...overrides,
  };
}

export function executorJob(buildsDir: string, payload: JobPayload, url = 'http://127.0.0.1:9'): ExecutorJob {
  return {
    payload,
    variables: [...payload.variables],
    runner: {
      name: 'test-runner',
      url,
      shortToken: 'abcdefghi',
      buildsDir,
      cacheDir: `${buildsDir}/cache`,
      shell: 'bash',
    },
    concurrentId: 0,
  };
}

export interface MemoryOutput extends JobOutput {
  text(): string;
}

export function memoryOutput(): MemoryOutput {
  const chunks: Buffer[] = [];
  return {
    write(chunk) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}
