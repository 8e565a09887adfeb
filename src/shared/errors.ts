/**
 * One catalog of typed errors with stable codes. A code never changes meaning and is never reused;
 * docs/errors.md has a row per code with how to fix it.
 */
export const ERROR_CODES = {
  FLO_ERR_CONFIG_INVALID: { status: 400, summary: 'a configuration file or flag has a bad value' },
  FLO_ERR_PIPELINE_INVALID: { status: 400, summary: 'the .gitlab-ci.yml is invalid' },
  FLO_ERR_BAD_REQUEST: { status: 400, summary: 'the request is malformed' },
  FLO_ERR_UNAUTHORIZED: { status: 401, summary: 'no valid token was given' },
  FLO_ERR_ARTIFACT_UNSAFE: {
    status: 400,
    summary: 'an artifacts archive has entries that would land outside its folder, or would expand too far',
  },
  FLO_ERR_CACHE_KEY_INVALID: { status: 400, summary: 'a cache key cannot be a cache object name' },
  FLO_ERR_FORBIDDEN: { status: 403, summary: 'the token may not do this' },
  FLO_ERR_NOT_FOUND: { status: 404, summary: 'no such resource' },
  FLO_ERR_CONFLICT: { status: 409, summary: 'the resource is in a state that forbids this' },
  FLO_ERR_PAYLOAD_TOO_LARGE: { status: 413, summary: 'the request body is over the limit' },
  FLO_ERR_RANGE_MISMATCH: { status: 416, summary: 'a trace chunk does not start at the stored size' },
  FLO_ERR_UNPROCESSABLE: { status: 422, summary: 'the request is well-formed but cannot be applied' },
  FLO_ERR_DISK_FULL: {
    status: 507,
    summary: "the coordinator's disk (database, repositories, artifacts) is full",
  },
  FLO_ERR_GIT: { status: 500, summary: 'a git command failed' },
  FLO_ERR_COORDINATOR_UNREACHABLE: { status: 502, summary: 'the runner cannot reach its coordinator' },
  FLO_ERR_ENGINE_DISCONNECTED: {
    status: 502,
    summary: 'a Docker Engine closed the connection before it answered',
  },
  FLO_ERR_HELPER_STOPPED: {
    status: 502,
    summary: "a docker job's helper container stopped while the job still needed it",
  },
  FLO_ERR_STORE_UNAVAILABLE: {
    status: 503,
    summary: "the coordinator's database cannot be reached (restarting, or the connection was lost)",
  },
  FLO_ERR_MACHINE_LOST: { status: 503, summary: 'an autoscaled machine stopped answering under a job' },
  FLO_ERR_INTERNAL: { status: 500, summary: 'an unexpected internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FlotillaErrorOptions {
  cause?: unknown;
  /** Extra fields carried to the API error body and the logs (never secrets). */
  details?: Record<string, unknown>;
}

export class FlotillaError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: FlotillaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FlotillaError';
    this.code = code;
    this.httpStatus = ERROR_CODES[code].status;
    this.details = options.details;
  }
}

export function isFlotillaError(err: unknown, code?: ErrorCode): err is FlotillaError {
  return err instanceof FlotillaError && (code === undefined || err.code === code);
}

/** A message for any thrown value, for logs and CLI output. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

const DISK_FULL = /ENOSPC|SQLITE_FULL|No space left on device|database or disk is full/;

/** True when `err` (or one of its causes) says the disk is full (ENOSPC, SQLITE_FULL, git's words). */
export function isDiskFull(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && DISK_FULL.test(code)) return true;
    if (e instanceof Error && DISK_FULL.test(e.message)) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}
