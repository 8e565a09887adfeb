/** A tiny REST/Runner API client for tests: real HTTP over loopback. */
export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export class TestApi {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const init: RequestInit = { method, headers: { 'PRIVATE-TOKEN': this.token, ...headers } };
    if (body !== undefined) {
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        init.body = body as RequestInit['body'];
      } else {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
    }
    const res = await fetch(`${this.baseUrl}/api/v4${path}`, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = any>(path: string) {
    return this.call<T>('GET', path);
  }

  post<T = any>(path: string, body?: unknown) {
    return this.call<T>('POST', path, body ?? {});
  }

  /** Polls `fn` until it returns a truthy value (bounded by attempts, not wall-clock assertions). */
  async until<T>(
    fn: () => Promise<T | undefined | null | false>,
    what: string,
    attempts = 600,
    delayMs = 100,
  ): Promise<T> {
    for (let i = 0; i < attempts; i++) {
      const v = await fn();
      if (v) return v;
      await new Promise((r) => setTimeout(r, delayMs));
    }
    throw new Error(`gave up waiting for ${what}`);
  }

  async createProject(name: string): Promise<{ id: number; path_with_namespace: string }> {
    const res = await this.post('/projects', { name });
    if (res.status !== 201) throw new Error(`project create failed: ${res.status} ${res.text}`);
    return res.body;
  }

  async createRunner(fields: Record<string, unknown> = {}): Promise<{ id: number; token: string }> {
    const res = await this.post('/user/runners', { runner_type: 'instance_type', ...fields });
    if (res.status !== 201) throw new Error(`runner create failed: ${res.status} ${res.text}`);
    return res.body;
  }

  async waitForPipeline(
    projectId: number,
    predicate: (p: any) => boolean = () => true,
    what = 'pipeline',
  ): Promise<any> {
    return this.until(async () => {
      const res = await this.get<any[]>(`/projects/${projectId}/pipelines`);
      return Array.isArray(res.body) ? res.body.find(predicate) : undefined;
    }, what);
  }

  async jobs(projectId: number, pipelineId: number): Promise<any[]> {
    return (await this.get<any[]>(`/projects/${projectId}/pipelines/${pipelineId}/jobs?per_page=100`)).body;
  }

  async waitForPipelineStatus(projectId: number, pipelineId: number, statuses: string[]): Promise<any> {
    return this.until(
      async () => {
        const p = (await this.get(`/projects/${projectId}/pipelines/${pipelineId}`)).body;
        return statuses.includes(p.status) ? p : undefined;
      },
      `pipeline ${pipelineId} to be ${statuses.join('/')}`,
      1800,
    );
  }
}
