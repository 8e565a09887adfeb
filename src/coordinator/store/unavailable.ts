/**
 * Whether an error means the database cannot be reached right now (PostgreSQL restarting or down,
 * a connection cut, a prepared plan gone stale under a migration), as opposed to a bad query or a
 * constraint: the coordinator answers such a request 503 `FLO_ERR_STORE_UNAVAILABLE` with
 * `Retry-After`, and the next request tries again on a new connection (the pg pool drops broken
 * ones).
 */

/** Socket errors while connecting to or talking with the server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTCONN',
]);

/**
 * SQLSTATEs: class 08 (connection exception), 57P01 admin_shutdown (`pg_ctl stop -m fast`),
 * 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, in recovery).
 */
const SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123])$/;

/** What node-postgres throws when a connection ends under a query or cannot be made in time. */
const PG_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed/;

/**
 * A PostgreSQL prepared statement whose tables another coordinator just migrated, when it ran
 * inside a transaction (outside one the dialect prepares it again and retries): the next request
 * succeeds, so the client is asked to retry rather than told the request failed. SQLSTATE 0A000
 * alone is any "feature not supported", so the message is matched too.
 */
const STALE_PLAN = /cached plan must not change result type/;

/** Seconds a refused client is asked to wait (the `Retry-After` header). */
export const STORE_RETRY_AFTER_SECONDS = 2;

/** True when `err` (or one of its causes) says the database is unreachable. */
export function isStoreUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATE.test(code))) return true;
    if (code === '0A000' && e instanceof Error && STALE_PLAN.test(e.message)) return true;
    if (e instanceof Error && PG_MESSAGES.test(e.message)) return true;
    if (e instanceof AggregateError && e.errors.some((inner) => isStoreUnavailable(inner))) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

/**
 * True when `err` says the connection it came from is gone (the server closed it, the socket
 * broke): unlike a stale plan, which leaves the connection usable, such a connection must not run
 * another statement.
 */
export function isConnectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code !== '0A000' && isStoreUnavailable(err);
}
