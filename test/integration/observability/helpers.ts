/**
 * Shared pieces for the observability tests: an in-process runner manager on a real coordinator,
 * Prometheus text parsing, the docs/metrics.md tables, and bounded polling.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Registry } from 'prom-client';

import { validateConfig } from '../../../src/runner/config/load.js';
import { createShellExecutorFactory } from '../../../src/executors/shell/shell-executor.js';
import { createRunnerManager, type RunnerManager } from '../../../src/runner/manager.js';
import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface DocumentedMetric {
  name: string;
  type: string;
  labels: string[];
}

/** Every table row of docs/metrics.md whose first cell is a backticked metric name. */
export async function documentedMetrics(): Promise<DocumentedMetric[]> {
  const text = await readFile(path.join(ROOT, 'docs/metrics.md'), 'utf8');
  const rows: DocumentedMetric[] = [];
  for (const line of text.split('\n')) {
    const m = /^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*(counter|gauge|histogram|summary)\s*\|([^|]*)\|/.exec(
      line,
    );
    if (!m) continue;
    const labels = (m[3] ?? '')
      .split(',')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    rows.push({ name: m[1] ?? '', type: m[2] ?? '', labels });
  }
  return rows;
}

/** `# TYPE name type` lines of a Prometheus text exposition. */
export function exposedTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1] ?? '', m[2] ?? '');
  return types;
}

export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  attempts = 300,
  delayMs = 200,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export interface TestManager {
  manager: RunnerManager;
  registry: Registry;
  address: string;
  stop(graceful?: boolean): Promise<void>;
}

/** A runner manager in this process, shell executor, status server on a random loopback port. */
export async function startTestManager(o: {
  url: string;
  token: string;
  buildsDir: string;
  name?: string;
  concurrent?: number;
  /** Extra global config.toml keys (e.g. `consul`). */
  global?: Record<string, unknown>;
}): Promise<TestManager> {
  const { config } = validateConfig({
    concurrent: o.concurrent ?? 2,
    check_interval: 1,
    listen_address: '127.0.0.1:0',
    ...o.global,
    runners: [
      { name: o.name ?? 'observed', url: o.url, token: o.token, executor: 'shell', builds_dir: o.buildsDir },
    ],
  });
  const registry = new Registry();
  const manager = createRunnerManager({
    config,
    systemId: 's_0123456789ab',
    logger: silentLogger(),
    clock: systemClock,
    registry,
    executorFactories: [createShellExecutorFactory()],
  });
  await manager.start();
  const address = manager.statusAddress;
  if (!address) throw new Error('the status server did not start');
  return { manager, registry, address, stop: (graceful = false) => manager.stop({ graceful }) };
}
