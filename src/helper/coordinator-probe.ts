/**
 * Before `get-sources` fetches from the coordinator: one TCP connection to the clone URL's host, at
 * most COORDINATOR_PROBE_SECONDS. A job network without a route to the coordinator (an engine without
 * NAT, a coordinator on loopback) otherwise fails only after the kernel's two-minute connect timeout,
 * with git's message that says nothing of the cause.
 */
import { COORDINATOR_PROBE_SECONDS } from '../executors/docker/coordinator-forward.js';
import type { HelperRequest } from '../executors/docker/helper-request.js';
import { probeTcp } from '../executors/docker/tcp-forwarder.js';
import { variableValue } from '../executors/executor.js';

/** The origin of `url` without credentials, and its host and port. */
function endpoint(url: string): { origin: string; host: string; port: number } {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  return { origin: `${u.protocol}//${u.host}`, host: u.hostname.replace(/^\[|\]$/g, ''), port };
}

/** null when the coordinator answers (or sources are not fetched), else the job log's error line. */
export async function coordinatorUnreachable(
  request: HelperRequest,
  seconds = COORDINATOR_PROBE_SECONDS,
): Promise<string | null> {
  const strategy = variableValue(request.variables, 'GIT_STRATEGY') ?? 'fetch';
  if (strategy === 'none' || strategy === 'empty') return null;
  const { origin, host, port } = endpoint(request.payload.git_info.repo_url);
  const reason = await probeTcp(host, port, seconds * 1000);
  if (reason === null) return null;
  return (
    `\x1b[31;1mERROR: the coordinator ${origin} is unreachable from the job's network (${reason}). ` +
    `The job's containers must reach the runner's [[runners]] url: set [runners.docker] ` +
    `coordinator_forwarding = "always" (a forwarder on the job network's gateway), or network_mode = "host", ` +
    `or a url that the job network can route to.\x1b[0;m\n`
  );
}
