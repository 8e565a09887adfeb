/**
 * The web UI in a real headless Chromium (Debian's, driven by playwright-core) against a real
 * coordinator process and runner process: sign in (and a wrong token refused), watch a running
 * pipeline and its live log reach success without a reload, the runner's log timestamps (shown,
 * hidden, from the keyboard too), an artifacts archive
 * browsed and one file downloaded, `needs` drawn as a graph and the
 * environments, retry a failed job, play a manual job, cancel a pipeline, the fleet page with a
 * real runner manager of an autoscaled runner with two real `local` providers (machines are
 * network namespaces with their own Docker Engine), a primary and a backup, the primary paused and
 * given back to automatic from the page, and another user's private project not shown.
 *
 * Screenshots of each page land in a temp dir; with FLOTILLA_UI_SCREENSHOTS=<dir> they are
 * written there instead (docs/ui uses them).
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Fleet } from '../helpers/fleet.js';
import { RUN_DIR, subnetFor } from './autoscaler/harness.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const WAIT = { timeout: 60_000 };

let fleet: Fleet;
let browser: Browser;
let shots: string;

beforeAll(async () => {
  fleet = await Fleet.start();
  await fleet.addRunner({ concurrent: 4 });
  shots = process.env['FLOTILLA_UI_SCREENSHOTS'] ?? path.join(fleet.dir, 'screenshots');
  await mkdir(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
});

async function signedInPage(token = fleet.api.token): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // The fleet test signs in while its manager boots local machines, whose network namespaces and
  // links make Chromium cancel the page's loads (net::ERR_NETWORK_CHANGED, an empty page): a load
  // that shows no sign-in form is made again.
  for (let attempt = 1; ; attempt++) {
    await page.goto(fleet.coordinator.url, WAIT);
    try {
      await page.getByLabel('Personal access token').fill(token, { timeout: 20_000 });
      break;
    } catch (err) {
      if (attempt === 4) throw err;
    }
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor(WAIT);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

describe('web UI', () => {
  it('refuses a wrong token with a clear message', async () => {
    const page = await browser.newPage();
    await page.goto(fleet.coordinator.url);
    await shot(page, 'sign-in');
    await page.getByLabel('Personal access token').fill('glpat-wrong-wrong-wrong-wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('#sign-in-error').textContent(WAIT)).resolves.toMatch(
      /unknown, revoked or expired/,
    );
    await page.close();
  });

  it('shows a running pipeline and its live log reaching success without a reload', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
stages: [build, test]
compile:
  stage: build
  variables:
    FF_TIMESTAMPS: "true"
  script:
    - echo -e "section_start:\`date +%s\`:deps[collapsed=true]\\r\\e[0KInstalling dependencies"
    - echo "dependency line"
    - echo -e "section_end:\`date +%s\`:deps\\r\\e[0K"
    - for i in 1 2 3 4 5 6; do echo -e "\\e[32mcompiling part $i\\e[0m"; sleep 1; done
    - echo compile-finished
unit:
  stage: test
  script: [echo unit-ok, mkdir -p out/sub, echo report-body > out/sub/result.txt]
  artifacts:
    paths: [out/]
`,
    });
    const page = await signedInPage();
    // A flag on the page's global object survives only if the page is never reloaded.
    await page.evaluate(() => {
      (globalThis as unknown as { noReload: boolean }).noReload = true;
    });
    await page.getByRole('link', { name: /Projects/ }).click();
    await shot(page, 'projects');
    await page.goto(`${fleet.coordinator.url}/#/projects/${projectId}`);
    await page.locator(`[data-pipeline="${pipelineId}"]`).waitFor(WAIT);
    await shot(page, 'pipelines');
    await page.getByRole('link', { name: `#${pipelineId}` }).click();
    await page.locator('[data-job="compile"] a').click();
    await page.locator('#job-log').getByText('compiling part 1').waitFor(WAIT);
    await shot(page, 'job-running');
    await page.locator('#job-log').getByText('compile-finished', { exact: true }).waitFor(WAIT);
    await page.locator('#job-status').getByText('success').waitFor(WAIT);
    await page.locator('#log-complete').waitFor(WAIT);
    // The collapsed section's header shows; its body is hidden until opened.
    const header = page.getByRole('button', { name: /Installing dependencies/ });
    await header.waitFor(WAIT);
    expect(await page.locator('#job-log').getByText('dependency line', { exact: true }).count()).toBe(0);
    await header.click();
    await page.locator('#job-log').getByText('dependency line', { exact: true }).waitFor(WAIT);
    expect(await page.locator('#job-log .log-time').count()).toBe(0);
    // the runner stamps each line (FF_TIMESTAMPS on for this job): the page shows the text without the headers
    const logText = (await page.locator('#job-log').textContent()) ?? '';
    expect(logText).toContain('compiling part 6');
    expect(logText).not.toMatch(/\d{6}Z [0-9a-f]{2}[OE]/);
    await page.getByLabel('Show timestamps').check();
    const times = page.locator('#job-log .log-time');
    expect(await times.first().textContent()).toMatch(/^\d\d:\d\d:\d\d/);
    // the runner's own time (RFC 3339 with microseconds), not when the page received the line
    const line = page.locator('#job-log .log-line', { hasText: 'compile-finished' }).last();
    const stamp = (await line.locator('.log-time').getAttribute('title')) ?? '';
    expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect((await line.locator('.log-time').textContent())?.trim()).toBe(stamp.slice(11, 19));
    await shot(page, 'job');
    // a keyboard user turns them off again
    await page.getByLabel('Show timestamps').focus();
    await page.keyboard.press('Space');
    expect(await times.count()).toBe(0);
    await page.getByLabel('Show timestamps').check();
    await page.getByRole('link', { name: `← Pipeline #${pipelineId}` }).click();
    await page.locator('#pipeline-status').getByText('success').waitFor(WAIT);
    await shot(page, 'pipeline');
    await page.locator('[data-job="unit"] a').click();
    await page.getByText('Browse the files').click();
    const file = page
      .getByRole('table', { name: 'Artifact files' })
      .getByRole('link', { name: 'out/sub/result.txt' });
    await file.waitFor(WAIT);
    const href = await file.getAttribute('href');
    const body = await page.evaluate(async (url) => (await fetch(url ?? '')).text(), href);
    expect(body).toBe('report-body\n');
    await shot(page, 'job-artifacts');
    expect(await page.evaluate(() => (globalThis as unknown as { noReload?: boolean }).noReload)).toBe(true);
    await page.close();
  });

  it('draws needs as lines between job cards, says them in text, and lists environments', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
stages: [build, test]
lib:
  stage: build
  parallel: 2
  script: [echo lib]
docs:
  stage: build
  script: [echo docs]
check:
  stage: test
  needs: [lib, docs]
  script: [echo check]
lint:
  stage: test
  needs: []
  script: [echo lint]
deploy:
  stage: test
  needs: [check]
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    url: https://example.test/$CI_COMMIT_REF_SLUG
  script: [echo deploy]
`,
    });
    const page = await signedInPage();
    await page.goto(`${fleet.coordinator.url}/#/projects/${projectId}/pipelines/${pipelineId}`);
    await page.locator('[data-job="check"]').getByText('needs: lib 1/2, lib 2/2, docs').waitFor(WAIT);
    await page.locator('[data-job="lint"]').getByText('needs: nothing (starts at once)').waitFor(WAIT);
    expect(await page.locator('.need-lines').count()).toBe(0);
    await page.getByRole('button', { name: 'Job dependencies' }).click();
    await page.locator('svg.need-lines[data-lines="4"]').waitFor({ ...WAIT, state: 'attached' });
    const edges = await page
      .locator('svg.need-lines path')
      .evaluateAll((paths) => paths.map((p) => p.getAttribute('data-edge')));
    const ids = await fleet.api.get(`/projects/${projectId}/pipelines/${pipelineId}/jobs`);
    const id = (name: string) => ids.body.find((j: any) => j.name === name).id;
    expect(edges.sort()).toEqual(
      [
        `${id('docs')}-${id('check')}`,
        `${id('lib 1/2')}-${id('check')}`,
        `${id('lib 2/2')}-${id('check')}`,
        `${id('check')}-${id('deploy')}`,
      ].sort(),
    );
    expect(ids.body.find((j: any) => j.name === 'lib 1/2').needs).toBeNull();
    await page.locator('#pipeline-status').getByText('success').waitFor(WAIT);
    const environment = page
      .getByRole('table', { name: 'Environments' })
      .locator('[data-environment="review/main"]');
    await environment.getByRole('link', { name: 'https://example.test/main' }).waitFor(WAIT);
    await environment.getByText('success').waitFor(WAIT);
    await environment.getByRole('link', { name: 'deploy' }).waitFor(WAIT);
    await shot(page, 'pipeline-needs');
    await page.close();
  });

  it('retries a failed job and plays a manual one', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
flaky:
  script: ['test -f /tmp/never-there-$CI_JOB_ID && echo ok || exit 3']
deploy:
  when: manual
  script: [echo deployed]
`,
    });
    await fleet.waitForJob(projectId, pipelineId, 'flaky', ['failed']);
    const page = await signedInPage();
    await page.goto(`${fleet.coordinator.url}/#/projects/${projectId}/pipelines/${pipelineId}`);
    await page.getByRole('button', { name: 'Retry flaky' }).click();
    await fleet.api.until(async () => {
      const jobs = await fleet.api.get(
        `/projects/${projectId}/pipelines/${pipelineId}/jobs?include_retried=true`,
      );
      return jobs.body.filter((j: any) => j.name === 'flaky').length === 2;
    }, 'a second flaky job');
    await page.getByRole('button', { name: 'Play deploy' }).click();
    const deployed = await fleet.waitForJob(projectId, pipelineId, 'deploy', ['success', 'failed']);
    expect(deployed.status, fleet.output()).toBe('success');
    await page.locator('[data-job="deploy"]').getByText('success').waitFor(WAIT);
    await page.close();
  });

  it('cancels a running pipeline', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
long:
  script: [echo started, sleep 120]
`,
    });
    await fleet.waitForJob(projectId, pipelineId, 'long', ['running']);
    const page = await signedInPage();
    await page.goto(`${fleet.coordinator.url}/#/projects/${projectId}/pipelines/${pipelineId}`);
    await page.getByRole('button', { name: 'Cancel pipeline' }).click();
    await page.locator('#pipeline-status').getByText('canceled').waitFor(WAIT);
    const pipeline = await fleet.api.get(`/projects/${projectId}/pipelines/${pipelineId}`);
    expect(pipeline.body.status).toBe('canceled');
    await page.close();
  });

  it('shows the fleet and pauses a provider of an autoscaled runner', async () => {
    const auto = await fleet.addRunner({
      tags: ['autoscaled'],
      executor: 'docker-autoscaler',
      extraRunner: autoscalerToml(fleet.dir),
    });
    const page = await signedInPage();
    await page.getByRole('link', { name: 'Fleet' }).click();
    await page.getByRole('table', { name: 'Runners' }).getByText('e2e-0').waitFor(WAIT);
    await page.locator('#queue-pending').waitFor(WAIT);
    const machines = page.getByRole('table', { name: `Machines of runner #${auto.id}` });
    await machines.locator('tbody tr').nth(1).getByText('idle').waitFor(WAIT);
    await page.locator('#chart-machines').waitFor(WAIT);
    await shot(page, 'fleet');
    const providers = page.getByRole('table', { name: `Providers of runner #${auto.id}` });
    const primary = providers.locator('[data-provider="local-a"]');
    await primary.getByText('▶ active').waitFor(WAIT);
    await providers.locator('[data-provider="local-b"]').getByText('‖ paused').waitFor(WAIT);
    await page.getByRole('button', { name: 'Pause local-a' }).click();
    // The runner manager applies it (its hand-set pauses file, as `flotilla fleet pause`) and reports back.
    await primary.getByText('paused by hand', { exact: true }).waitFor(WAIT);
    await primary.locator('.provider-state').getByText('‖ paused').waitFor(WAIT);
    const control = path.join(path.dirname(auto.configPath), '.flotilla', 'fleet-control.json');
    expect(JSON.parse(await readFile(control, 'utf8')).providers).toEqual({ 'local-a': true });
    await shot(page, 'fleet-paused');
    await page.getByRole('button', { name: 'Automatic local-a' }).click();
    await primary.getByText('automatic', { exact: true }).waitFor(WAIT);
    await primary.getByText('▶ active').waitFor(WAIT);
    expect(JSON.parse(await readFile(control, 'utf8')).providers).toEqual({});
    await page.close();
  });

  it("does not show another user's private project", async () => {
    const { projectId } = await fleet.pushPipeline({ '.gitlab-ci.yml': 'x:\n  script: [echo x]\n' });
    const user = await fleet.api.post('/users', { username: 'viewer', name: 'Viewer' });
    expect(user.status, user.text).toBe(201);
    const pat = await fleet.api.post(`/users/${user.body.id}/personal_access_tokens`, {
      name: 'ui',
      scopes: ['api'],
    });
    const page = await signedInPage(pat.body.token);
    await page.getByRole('heading', { name: 'Projects' }).waitFor(WAIT);
    await page.getByText('No projects yet.').waitFor(WAIT);
    await page.goto(`${fleet.coordinator.url}/#/projects/${projectId}`);
    await page.getByText('404 Project Not Found').first().waitFor(WAIT);
    await page.close();
  });
});

/**
 * Two real `local` providers, a primary and a backup, each its own machine group on its own
 * subnet; machines are removed when the manager stops.
 */
function autoscalerToml(dir: string): string {
  const provider = (name: string, group: string, backup: boolean) => `
    [[runners.autoscaler.providers]]
      name = "${name}"
      plugin = "local"
      backup = ${backup}
      [runners.autoscaler.providers.plugin_config]
        name = "${group}"
        subnet = "${subnetFor(group)}"
        registry_mirrors = ["http://127.0.0.1:5000"]
        state_dir = "${path.join(dir, group)}"
        run_dir = "${RUN_DIR}"`;
  return `
  [runners.docker]
    image = "alpine"
  [runners.autoscaler]
    capacity_per_instance = 1
    max_instances = 3
    delete_instances_on_shutdown = true
    instance_ready_timeout = "120s"
    update_interval = "2s"
    update_interval_when_expecting = "1s"
${provider('local-a', 'e2euia', false)}
${provider('local-b', 'e2euib', true)}
    [[runners.autoscaler.policy]]
      idle_count = 2
      idle_time = "30m"
`;
}
