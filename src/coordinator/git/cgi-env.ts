import type { IncomingMessage } from 'node:http';
import { gitEnv } from './run-git.js';

export interface CgiRequestInfo {
  /** `GIT_PROJECT_ROOT`: the directory holding all repositories. */
  projectRoot: string;
  /** `/<fullPath>.git<pathInfo>`. */
  pathInfo: string;
  remoteUser: string;
}

/** `Git-Protocol` values are `key=value` pairs joined by `:` (e.g. `version=2`). */
const GIT_PROTOCOL = /^[A-Za-z0-9=:._-]{1,256}$/;

/** The CGI/1.1 environment `git http-backend` reads for one request. */
export function cgiEnv(req: IncomingMessage, info: CgiRequestInfo): NodeJS.ProcessEnv {
  const env = gitEnv({
    GATEWAY_INTERFACE: 'CGI/1.1',
    GIT_PROJECT_ROOT: info.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: info.pathInfo,
    REQUEST_METHOD: req.method ?? 'GET',
    QUERY_STRING: queryString(req.url ?? ''),
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REMOTE_USER: envSafe(info.remoteUser),
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
  });
  setHeader(env, 'CONTENT_TYPE', req.headers['content-type']);
  setHeader(env, 'CONTENT_LENGTH', req.headers['content-length']);
  // http-backend inflates gzip request bodies itself (git clients compress large requests).
  setHeader(env, 'HTTP_CONTENT_ENCODING', req.headers['content-encoding']);
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string' && GIT_PROTOCOL.test(protocol)) {
    env.GIT_PROTOCOL = protocol;
    env.HTTP_GIT_PROTOCOL = protocol;
  }
  return env;
}

export function queryString(url: string): string {
  const mark = url.indexOf('?');
  return mark === -1 ? '' : url.slice(mark + 1);
}

function setHeader(env: NodeJS.ProcessEnv, name: string, value: string | undefined): void {
  if (value !== undefined && value !== '') env[name] = envSafe(value);
}

/** Environment values cannot hold NUL; control characters have no business in them either. */
function envSafe(value: string): string {
  return [...value].filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f).join('');
}
