/** A small GitLab REST v4 client for the CLI (works against our coordinator or a GitLab). */
import type { BridgeResponse, JobResponse, PipelineResponse, ProjectResponse } from '../api/rest-api.js';
import { FlotillaError } from '../shared/errors.js';

export class RestClient {
  readonly #base: string;
  readonly #token: string;
  readonly #fetch: typeof fetch;

  /** `fetchImpl` replaces the HTTP client (`flotilla run` calls its embedded coordinator in-process). */
  constructor(baseUrl: string, token: string, fetchImpl: typeof fetch = fetch) {
    this.#base = baseUrl.replace(/\/$/, '');
    this.#token = token;
    this.#fetch = fetchImpl;
  }

  async #request(method: string, path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}/api/v4${path}`, {
        method,
        headers: { 'PRIVATE-TOKEN': this.#token, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new FlotillaError(
        'FLO_ERR_COORDINATOR_UNREACHABLE',
        `cannot reach ${this.#base}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (res.status === 401)
      throw new FlotillaError('FLO_ERR_UNAUTHORIZED', `${this.#base} refused the token (401): check --token`);
    return res;
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#request(method, path, body);
    const text = await res.text();
    if (!res.ok) {
      throw new FlotillaError(
        res.status === 404 ? 'FLO_ERR_NOT_FOUND' : 'FLO_ERR_BAD_REQUEST',
        `${method} ${path} failed with ${res.status}: ${text.slice(0, 500)}`,
      );
    }
    return JSON.parse(text) as T;
  }

  createProject(name: string): Promise<ProjectResponse> {
    return this.#json('POST', '/projects', { name });
  }

  async findProject(fullPath: string): Promise<ProjectResponse | null> {
    const res = await this.#request('GET', `/projects/${encodeURIComponent(fullPath)}`);
    if (res.status === 404) return null;
    if (!res.ok)
      throw new FlotillaError('FLO_ERR_BAD_REQUEST', `GET project ${fullPath} failed with ${res.status}`);
    return (await res.json()) as ProjectResponse;
  }

  pipelines(projectId: number, query = ''): Promise<PipelineResponse[]> {
    return this.#json('GET', `/projects/${projectId}/pipelines${query}`);
  }

  pipeline(projectId: number, pipelineId: number): Promise<PipelineResponse> {
    return this.#json('GET', `/projects/${projectId}/pipelines/${pipelineId}`);
  }

  jobs(projectId: number, pipelineId: number): Promise<JobResponse[]> {
    return this.#json('GET', `/projects/${projectId}/pipelines/${pipelineId}/jobs?per_page=100`);
  }

  /** Trigger jobs of a pipeline, each with the child pipeline it created. */
  bridges(projectId: number, pipelineId: number): Promise<BridgeResponse[]> {
    return this.#json('GET', `/projects/${projectId}/pipelines/${pipelineId}/bridges?per_page=100`);
  }

  async trace(projectId: number, jobId: number): Promise<Buffer> {
    const res = await this.#request('GET', `/projects/${projectId}/jobs/${jobId}/trace`);
    return Buffer.from(await res.arrayBuffer());
  }

  createRunner(description: string, tagList: string[] = []): Promise<{ id: number; token: string }> {
    return this.#json('POST', '/user/runners', {
      runner_type: 'instance_type',
      description,
      tag_list: tagList,
      run_untagged: true,
    });
  }

  /** Polls `fn` until it returns a value; fails after `attempts` tries with a message naming `what`. */
  async until<T>(fn: () => Promise<T | undefined>, what: string, attempts = 100, delayMs = 100): Promise<T> {
    for (let i = 0; i < attempts; i++) {
      const value = await fn();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    throw new FlotillaError('FLO_ERR_NOT_FOUND', `timed out waiting for ${what} on ${this.#base}`);
  }

  cancelPipeline(projectId: number, pipelineId: number): Promise<PipelineResponse> {
    return this.#json('POST', `/projects/${projectId}/pipelines/${pipelineId}/cancel`);
  }
}
