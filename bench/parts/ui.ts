/**
 * Part 7: the web UI's first load. A coordinator process with one project of 1,000 pipelines
 * (created over the REST API with a `when: manual` job, so no runner is needed); Debian's headless
 * Chromium signs in once, then opens the project's pipeline list in a fresh page N times. A load
 * is timed from `goto` to the first pipeline row drawn. The sign-in cookie is reused, as a user's
 * browser would.
 */
import { chromium } from 'playwright-core';

import { createPipeline, createProjectWith, startBenchCoordinator } from '../lib/fleet.js';
import { result, type BenchResult } from '../lib/results.js';
import { summary } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const PIPELINES = 1000;
const LOADS = 10;

export async function runUi(options: BenchOptions): Promise<BenchResult[]> {
  const pipelines = options.quick ? 100 : PIPELINES;
  const coordinator = await startBenchCoordinator({ prefix: 'flotilla-bench-ui-' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const project = await createProjectWith(coordinator, 'ui', {
      '.gitlab-ci.yml': 'build:\n  when: manual\n  script: [echo hi]\n',
    });
    const page = await fetch(coordinator.url);
    if (page.status !== 200) throw new Error(`GET / answered ${page.status}: ${await page.text()}`);
    // Eight creations in flight at a time (the list's content, not its creation, is measured).
    let next = 1;
    const worker = async (): Promise<void> => {
      while (next < pipelines) {
        next += 1;
        await createPipeline(coordinator.api, project.id);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const context = await browser.newContext();
    const signIn = await context.newPage();
    await signIn.goto(coordinator.url);
    await signIn.getByLabel('Personal access token').fill(coordinator.api.token);
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await signIn.getByRole('navigation', { name: 'Main' }).waitFor();
    await signIn.close();
    const samples: number[] = [];
    for (let i = 0; i < LOADS + 1; i++) {
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(`${coordinator.url}/#/projects/${project.id}`);
      await page.locator('[data-pipeline]').first().waitFor({ timeout: 60_000 });
      const ms = performance.now() - t0;
      if (i > 0) samples.push(ms); // the first load warms the coordinator's and browser's caches
      await page.close();
    }
    const s = summary(samples, 0);
    console.log(`  first pipeline list, ${pipelines} pipelines: p50 ${s.p50} ms, p95 ${s.p95} ms (n ${s.n})`);
    return [
      result(
        'ui',
        'first pipeline list',
        { pipelines, loads: LOADS },
        { firstListP50Ms: s.p50, firstListP95Ms: s.p95 },
        { notes: ['goto → first pipeline row drawn, signed in, fresh page each load; first load discarded'] },
      ),
    ];
  } finally {
    await browser.close();
    await coordinator.stop();
  }
}
