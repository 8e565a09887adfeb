/**
 * One catalog of typed errors with stable codes, grouped by the HTTP status they answer with. A code
 * never changes meaning and is never reused; docs/errors.md has a row per code with how to fix it.
 */
const CODES_BY_STATUS = {
  400: {
    FLO_ERR_CONFIG_INVALID: 'a configuration file or flag has a bad value',
    FLO_ERR_PIPELINE_INVALID: 'the .gitlab-ci.yml is invalid',
    FLO_ERR_BAD_REQUEST: 'the request is malformed',
    FLO_ERR_ARTIFACT_UNSAFE:
      'an artifacts archive has entries that would land outside its folder, or would expand too far',
    FLO_ERR_CACHE_KEY_INVALID: 'a cache key cannot be a cache object name',
  },
  401: { FLO_ERR_UNAUTHORIZED: 'no valid token was given' },
  403: { FLO_ERR_FORBIDDEN: 'the token may not do this' },
  404: { FLO_ERR_NOT_FOUND: 'no such resource' },
  409: {
    FLO_ERR_CONFLICT: 'the resource is in a state that forbids this',
    FLO_ERR_DATA_DIR_IN_USE: "another coordinator holds the SQLite store's data directory",
  },
  413: { FLO_ERR_PAYLOAD_TOO_LARGE: 'the request body is over the limit' },
  416: { FLO_ERR_RANGE_MISMATCH: 'a trace chunk does not start at the stored size' },
  422: { FLO_ERR_UNPROCESSABLE: 'the request is well-formed but cannot be applied' },
  500: { FLO_ERR_GIT: 'a git command failed', FLO_ERR_INTERNAL: 'an unexpected internal error' },
  502: {
    FLO_ERR_COORDINATOR_UNREACHABLE: 'the runner cannot reach its coordinator',
    FLO_ERR_ENGINE_DISCONNECTED: 'a Docker Engine closed the connection before it answered',
    FLO_ERR_HELPER_STOPPED: "a docker job's helper container stopped while the job still needed it",
  },
  503: {
    FLO_ERR_STORE_UNAVAILABLE:
      "the coordinator's database cannot be reached (restarting, or the connection was lost)",
    FLO_ERR_MACHINE_LOST: 'an autoscaled machine stopped answering under a job',
  },
  507: { FLO_ERR_DISK_FULL: "the coordinator's disk (database, repositories, artifacts) is full" },
} as const;

type CodesByStatus = typeof CODES_BY_STATUS;

export type ErrorCode = { [S in keyof CodesByStatus]: keyof CodesByStatus[S] }[keyof CodesByStatus];

export interface ErrorCodeInfo {
  /** The HTTP status of an API answer that carries the code. */
  status: number;
  summary: string;
}

/** Every code with its status and summary (`CODES_BY_STATUS` flattened). */
export const ERROR_CODES: Readonly<Record<ErrorCode, ErrorCodeInfo>> = Object.fromEntries(
  Object.entries(CODES_BY_STATUS).flatMap(([status, codes]) =>
    Object.entries(codes).map(([code, summary]): [string, ErrorCodeInfo] => [
      code,
      { status: Number(status), summary },
    ]),
  ),
) as Record<ErrorCode, ErrorCodeInfo>;

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
