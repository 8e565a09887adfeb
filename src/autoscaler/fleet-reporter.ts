/**
 * Reports one autoscaled `[[runners]]` entry's fleet to its coordinator every few seconds
 * (`POST /api/v4/runners/fleet`, a Flotilla extension of the Runner API, see
 * src/api/fleet-report.ts): the providers (paused and why, failing, errors and their rate over the
 * last five minutes, the hand-set setting)
 * and the machines (provider, zone, state, age, jobs, use count). The answer lists the pauses an
 * administrator asked for; each one not applied yet is written to the hand-set pauses file, as
 * `flotilla fleet pause|unpause|auto` does, with its `requested_at` so it is applied once (a later
 * CLI change stands). A coordinator without the extension (404) is not asked again.
 */
import {
  FLEET_REPORT_PATH,
  manualSetting,
  manualValue,
  type FleetReportRequest,
  type FleetReportResponse,
  type MachineReport,
  type WantedSetting,
} from '../api/fleet-report.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { createErrorRateWindow } from './error-rate.js';
import type { Fleet } from './fleet.js';
import { metricState } from './machines.js';
import { splitKey } from './provider-group.js';
import { readControl, writeControl } from './state-store.js';

export interface FleetReporterOptions {
  url: string;
  token: string;
  systemId: string;
  runnerName: string;
  fleet: Pick<Fleet, 'group' | 'scaler' | 'metrics'>;
  controlPath: string;
  clock: Clock;
  logger: Logger;
  fetch?: typeof fetch;
  /** Before the coordinator says otherwise. */
  intervalMs?: number;
}

export interface FleetReporter {
  /** One report, and the requests of its answer applied; false when the coordinator has no such route. */
  report(): Promise<boolean>;
  start(): void;
  stop(): void;
}

/** Read-modify-write of a pauses file, one at a time per file (several entries share one). */
const controlChains = new Map<string, Promise<unknown>>();

export async function applyWanted(path: string, wanted: readonly WantedSetting[]): Promise<string[]> {
  const run = async (): Promise<string[]> => {
    const control = await readControl(path);
    const applied = { ...control.applied };
    const changed = wanted.filter((w) => applied[w.provider] !== w.requested_at);
    if (changed.length === 0) return [];
    for (const w of changed) {
      const value = manualValue(w.manual);
      if (value === null) delete control.providers[w.provider];
      else control.providers[w.provider] = value;
      applied[w.provider] = w.requested_at;
    }
    await writeControl(path, { ...control, applied });
    return changed.map((w) => w.provider);
  };
  const next = (controlChains.get(path) ?? Promise.resolve()).then(run, run);
  controlChains.set(path, next);
  return next;
}

async function errorsByProvider(fleet: FleetReporterOptions['fleet'], runner: string) {
  const counts = new Map<string, number>();
  for (const v of (await fleet.metrics.providerErrors.get()).values) {
    const provider = String(v.labels.provider ?? '');
    if (v.labels.runner === runner) counts.set(provider, (counts.get(provider) ?? 0) + v.value);
  }
  return counts;
}

/** The machines of the fleet as reported; remembers each ready machine's zone while it lives. */
function machineReporter(o: FleetReporterOptions): () => Promise<MachineReport[]> {
  const zones = new Map<string, string | null>();

  async function zoneOf(key: string, ready: boolean): Promise<string | undefined> {
    if (!zones.has(key) && ready) {
      const info = await o.fleet.group.connectInfo(key).catch(() => null);
      zones.set(key, info?.zone ?? null);
    }
    return zones.get(key) ?? undefined;
  }

  async function machines(): Promise<MachineReport[]> {
    const nowMs = o.clock.now().getTime();
    const live = o.fleet.scaler.machines();
    for (const key of zones.keys()) if (!live.some((m) => m.key === key)) zones.delete(key);
    return Promise.all(
      live.map(async (m) => {
        const zone = await zoneOf(m.key, m.state === 'ready');
        return {
          id: m.key,
          provider: splitKey(m.key).provider,
          ...(zone ? { zone } : {}),
          state: m.state === 'removing' ? 'removing' : metricState(m),
          age_seconds: Math.max(0, Math.round((nowMs - m.createdAtMs) / 1000)),
          use_count: m.useCount,
          jobs: [...m.jobs],
        };
      }),
    );
  }

  return machines;
}

export function createFleetReporter(o: FleetReporterOptions): FleetReporter {
  const doFetch = o.fetch ?? fetch;
  const url = `${o.url.replace(/\/+$/, '')}${FLEET_REPORT_PATH}`;
  let intervalMs = o.intervalMs ?? 5000;
  let timer: NodeJS.Timeout | null = null;
  let unsupported = false;

  const machines = machineReporter(o);
  const errorRates = createErrorRateWindow(o.clock.now().getTime());

  async function body(): Promise<FleetReportRequest> {
    const control = await readControl(o.controlPath);
    const errors = await errorsByProvider(o.fleet, o.runnerName);
    const rates = errorRates.record(o.clock.now().getTime(), errors);
    return {
      token: o.token,
      system_id: o.systemId,
      runner_name: o.runnerName,
      providers: o.fleet.group.status().map((p) => ({
        ...p,
        manual: manualSetting(control.providers[p.name]),
        errors: errors.get(p.name) ?? 0,
        errors_per_minute: rates.get(p.name) ?? 0,
      })),
      machines: await machines(),
    };
  }

  async function report(): Promise<boolean> {
    if (unsupported) return false;
    const res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await body()),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 404) {
      unsupported = true;
      o.logger.info({ status: 404 }, 'coordinator takes no fleet reports; not reporting again');
      return false;
    }
    if (!res.ok) throw new Error(`fleet report answered HTTP ${res.status}`);
    const answer = (await res.json()) as FleetReportResponse;
    if (answer.report_interval > 0) intervalMs = answer.report_interval * 1000;
    const changed = await applyWanted(o.controlPath, answer.wanted ?? []);
    if (changed.length > 0)
      o.logger.info({ providers: changed }, 'provider pauses applied from the coordinator');
    return true;
  }

  function schedule(): void {
    timer = setTimeout(() => {
      report()
        .catch((err: unknown) => o.logger.debug({ err: errorMessage(err) }, 'fleet report failed'))
        .finally(() => {
          if (timer !== null && !unsupported) schedule();
        });
    }, intervalMs);
    timer.unref();
  }

  return {
    report,
    start() {
      if (timer === null) {
        intervalMs = Math.min(intervalMs, 1000);
        schedule();
      }
    },
    stop() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
