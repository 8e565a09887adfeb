/** The REST API as the page uses it: the session cookie plus its CSRF token on every change. */
export interface Session {
  user: { id: number; username: string; name: string; is_admin: boolean };
  csrf_token: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Set when the connection to the coordinator fails; the banner shows it until a request succeeds. */
type ConnectionListener = (lost: boolean) => void;
const listeners = new Set<ConnectionListener>();
export function onConnection(listener: ConnectionListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
function connection(lost: boolean): void {
  for (const l of listeners) l(lost);
}

let csrf = '';
export function useCsrf(token: string): void {
  csrf = token;
}

async function messageOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { message?: unknown; error?: unknown };
    const m = body.message ?? body.error;
    return typeof m === 'string' ? m : JSON.stringify(m);
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

export interface Paged<T> {
  items: T[];
  total: number | null;
  totalPages: number | null;
}

async function call(method: string, url: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    connection(true);
    throw err;
  }
  connection(false);
  if (!response.ok) throw new ApiError(response.status, await messageOf(response));
  return response;
}

export async function get<T>(path: string): Promise<T> {
  return (await (await call('GET', `/api/v4${path}`)).json()) as T;
}

export async function getPage<T>(path: string): Promise<Paged<T>> {
  const response = await call('GET', `/api/v4${path}`);
  const num = (h: string): number | null => {
    const v = response.headers.get(h);
    return v === null || v === '' ? null : Number(v);
  };
  return { items: (await response.json()) as T[], total: num('x-total'), totalPages: num('x-total-pages') };
}

export async function post<T>(path: string, body?: unknown): Promise<T> {
  return (await (await call('POST', `/api/v4${path}`, body ?? {})).json()) as T;
}

export async function currentSession(): Promise<Session | null> {
  try {
    const session = (await (await call('GET', '/-/session')).json()) as Session;
    useCsrf(session.csrf_token);
    return session;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export async function signIn(token: string): Promise<Session> {
  const session = (await (await call('POST', '/-/session', { token })).json()) as Session;
  useCsrf(session.csrf_token);
  return session;
}

export async function signOut(): Promise<void> {
  await call('DELETE', '/-/session');
}
