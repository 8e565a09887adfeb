/**
 * The coordinator's in-memory list of runner managers that polled it and reported a metrics
 * address (`info.config.metrics_address` in `POST /api/v4/jobs/request`), served as Prometheus
 * HTTP SD targets.
 *
 * Why in memory and not in the store: managers poll every few seconds, so a restarted coordinator
 * knows them all again within one `check_interval`; and a manager that stops polling must stay
 * listed for a while (`retentionMs`) so Prometheus keeps scraping it, sees `up == 0` and the
 * RunnerManagerDown alert can fire, instead of the target silently vanishing.
 */
import { cleanLabels, reachableAddress, type TargetGroup } from './http-sd.js';

export interface ManagerContact {
  /** Short token of the `[[runners]]` entry that polled (gitlab-runner's `runner` label). */
  runner: string;
  systemId: string | undefined;
  /** What the manager reported as bound (`0.0.0.0:9252` is completed with `peerIp`). */
  metricsAddress: string;
  peerIp: string;
  version: string | undefined;
}

export interface ManagerDirectory {
  record(contact: ManagerContact, nowMs: number): void;
  /** One target group per metrics address, contacts older than the retention dropped. */
  targets(nowMs: number): TargetGroup[];
  size(nowMs: number): number;
}

interface Entry {
  address: string;
  systemId: string | undefined;
  version: string | undefined;
  runners: Map<string, number>;
  lastSeenMs: number;
}

export const DEFAULT_MANAGER_RETENTION_MS = 15 * 60_000;
/** Bounds memory if something floods the endpoint with made-up addresses. */
const MAX_ENTRIES = 10_000;

export function createManagerDirectory(retentionMs = DEFAULT_MANAGER_RETENTION_MS): ManagerDirectory {
  const entries = new Map<string, Entry>();

  function prune(nowMs: number): void {
    for (const [key, entry] of entries) {
      for (const [runner, seen] of entry.runners)
        if (nowMs - seen > retentionMs) entry.runners.delete(runner);
      if (entry.runners.size === 0) entries.delete(key);
    }
  }

  return {
    record(contact, nowMs) {
      const address = reachableAddress(contact.metricsAddress, contact.peerIp);
      if (!address) return;
      prune(nowMs);
      const entry = entries.get(address);
      if (!entry && entries.size >= MAX_ENTRIES) return;
      const next = entry ?? {
        address,
        systemId: undefined,
        version: undefined,
        runners: new Map(),
        lastSeenMs: 0,
      };
      next.systemId = contact.systemId ?? next.systemId;
      next.version = contact.version ?? next.version;
      next.runners.set(contact.runner, nowMs);
      next.lastSeenMs = nowMs;
      entries.set(address, next);
    },
    targets(nowMs) {
      prune(nowMs);
      return [...entries.values()]
        .sort((a, b) => a.address.localeCompare(b.address))
        .map((entry) => ({
          targets: [entry.address],
          labels: cleanLabels({
            __meta_flotilla_component: 'runner-manager',
            __meta_flotilla_system_id: entry.systemId,
            __meta_flotilla_version: entry.version,
            __meta_flotilla_runners: `,${[...entry.runners.keys()].sort().join(',')},`,
          }),
        }));
    },
    size(nowMs) {
      prune(nowMs);
      return entries.size;
    },
  };
}
