/** Test fixture: a helper stage request whose repository is unreachable (for stages that never fetch). */
import { join } from 'node:path';
import type { HelperRequest } from '../../../src/executors/docker/helper-request.js';

/** A request for a job in `dir` with this GIT_STRATEGY; its coordinator address refuses connections. */
export function offlineHelperRequest(dir: string, strategy: string): HelperRequest {
  return {
    payload: { git_info: { repo_url: 'http://127.0.0.1:9/x.git' } },
    variables: [{ key: 'GIT_STRATEGY', value: strategy, public: true, masked: false }],
    projectDir: join(dir, 'project'),
    tmpDir: join(dir, 'project.tmp'),
    baseUrl: 'http://127.0.0.1:9',
    cacheDir: null,
    outcome: 'success',
  } as unknown as HelperRequest;
}
