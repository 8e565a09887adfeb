/**
 * deploy/: the Prometheus config and rules pass promtool (config check and the rule unit tests),
 * and every metric the rules and the Grafana dashboard query is documented in docs/metrics.md.
 * promtool must be installed (deploy/prometheus/test-env.sh); a missing one fails the test.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { documentedMetrics, ROOT } from './helpers.js';
import { baseName, metricNamesIn } from './promql-names.js';

const run = promisify(execFile);
const PROM_DIR = path.join(ROOT, 'deploy/prometheus');

async function promtool(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: PROM_DIR });
    return stdout + stderr;
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('promtool is not installed: run deploy/prometheus/test-env.sh');
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

interface RuleFile {
  groups: { rules: { record?: string; alert?: string; expr: string }[] }[];
}

async function rules(): Promise<{ record?: string; alert?: string; expr: string }[]> {
  const out = [];
  for (const file of ['rules/recording.yml', 'rules/alerts.yml']) {
    const parsed = parse(await readFile(path.join(PROM_DIR, file), 'utf8')) as RuleFile;
    for (const group of parsed.groups) out.push(...group.rules);
  }
  return out;
}

async function dashboardExprs(): Promise<string[]> {
  const dir = path.join(ROOT, 'deploy/grafana');
  const exprs: string[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    for (const panel of dashboard.panels) for (const t of panel.targets ?? []) exprs.push(t.expr);
  }
  return exprs;
}

async function undocumented(exprs: string[]): Promise<string[]> {
  const documented = new Set((await documentedMetrics()).map((d) => d.name));
  const recorded = new Set((await rules()).flatMap((r) => (r.record ? [r.record] : [])));
  const allowed = (name: string): boolean =>
    name === 'up' || recorded.has(name) || documented.has(baseName(name, documented));
  return [...new Set(exprs.flatMap(metricNamesIn))].filter((name) => !allowed(name));
}

describe('deploy/prometheus', () => {
  it('prometheus.yml and its rule files pass promtool check config', async () => {
    expect(await promtool(['check', 'config', 'prometheus.yml'])).toMatch(/SUCCESS: prometheus.yml is valid/);
  });

  it('every rule passes its promtool unit tests', async () => {
    const tests = (await readdir(path.join(PROM_DIR, 'tests'))).filter((f) => f.endsWith('.test.yml'));
    expect(tests.length).toBeGreaterThan(0);
    const output = await promtool(['test', 'rules', ...tests.map((t) => `tests/${t}`)]);
    expect(output).not.toMatch(/FAILED/);
  });

  it('every alert has a unit test case', async () => {
    const text = (await readdir(path.join(PROM_DIR, 'tests'))).filter((f) => f.endsWith('.test.yml'));
    const tested = new Set<string>();
    for (const file of text) {
      for (const m of (await readFile(path.join(PROM_DIR, 'tests', file), 'utf8')).matchAll(
        /alertname: (\w+)/g,
      ))
        tested.add(m[1] ?? '');
    }
    const alerts = (await rules()).flatMap((r) => (r.alert ? [r.alert] : []));
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
  });

  it('the rules query only documented metrics', async () => {
    expect(await undocumented((await rules()).map((r) => r.expr))).toEqual([]);
  });
});

describe('deploy/grafana', () => {
  it('the dashboards query only documented metrics', async () => {
    const exprs = await dashboardExprs();
    expect(exprs.length).toBeGreaterThan(10);
    expect(await undocumented(exprs)).toEqual([]);
  });

  it('the name scan finds names (so the check above is not vacuous)', () => {
    expect(
      metricNamesIn('sum by (le) (rate(a_b_bucket{x="y z"}[5m])) / on () c:d:e or vector(0)').sort(),
    ).toEqual(['a_b_bucket', 'c:d:e']);
  });
});

describe('deploy/systemd', () => {
  it('stops the runner manager gracefully, with a stop timeout of at least an hour', async () => {
    const unit = await readFile(path.join(ROOT, 'deploy/systemd/flotilla-runner.service'), 'utf8');
    const setting = (key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];
    expect(setting('KillSignal')).toBe('SIGQUIT');
    expect(setting('KillMode')).toBe('mixed');
    expect(Number(setting('TimeoutStopSec'))).toBeGreaterThanOrEqual(3600);
    expect(setting('ExecReload')).toContain('-HUP');
    expect(setting('ExecStart')).toMatch(/flotilla runner run --config /);
  });
});
