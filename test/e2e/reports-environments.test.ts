/**
 * End to end: `artifacts:reports:junit` becomes the pipeline's test report, and `environment`
 * jobs record environments and deployments (deploy, then a manual stop), through a real
 * coordinator process and a real runner process with the shell executor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Fleet } from '../helpers/fleet.js';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await Fleet.start();
  await fleet.addRunner({ concurrent: 4 });
});

afterAll(async () => {
  await fleet?.stop();
});

const PIPELINE = `
stages: [test, deploy, cleanup]
unit:
  stage: test
  parallel: 2
  script:
    - |
      cat > report.xml <<XML
      <?xml version="1.0" encoding="UTF-8"?>
      <testsuites>
        <testsuite name="calc">
          <testcase classname="calc.Add" name="adds $CI_NODE_INDEX" file="add.py" time="0.5"/>
          <testcase classname="calc.Div" name="divides $CI_NODE_INDEX" time="0.25">
            <failure message="ZeroDivisionError">expected 2, got error</failure>
          </testcase>
          <testsuite name="nested">
            <testcase classname="calc.Pow" name="powers $CI_NODE_INDEX"><skipped message="later"/></testcase>
          </testsuite>
        </testsuite>
      </testsuites>
      XML
  artifacts:
    reports:
      junit: report.xml
broken:
  stage: test
  script: [echo '<testsuite><testcase name="x">' > broken.xml]
  artifacts:
    reports:
      junit: broken.xml
deploy:
  stage: deploy
  script:
    - echo "env=$CI_ENVIRONMENT_NAME slug=$CI_ENVIRONMENT_SLUG url=$CI_ENVIRONMENT_URL action=$CI_ENVIRONMENT_ACTION tier=$CI_ENVIRONMENT_TIER"
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    url: https://$CI_COMMIT_REF_SLUG.example.test
    on_stop: stop
stop:
  stage: cleanup
  when: manual
  script: [echo "stopping $CI_ENVIRONMENT_NAME ($CI_ENVIRONMENT_ACTION)"]
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    action: stop
`;

describe('test reports and environments', () => {
  it('serves the junit test report and records the deploy and stop of an environment', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({ '.gitlab-ci.yml': PIPELINE });
    const deploy = await fleet.waitForJob(projectId, pipelineId, 'deploy', ['success', 'failed']);
    expect(deploy.status, fleet.output()).toBe('success');
    const api = fleet.api;

    // Test report: the parallel jobs merged into one suite, the broken report as a suite_error.
    const unitJobs = (await api.jobs(projectId, pipelineId)).filter((j) => j.name.startsWith('unit '));
    const report = (await api.get(`/projects/${projectId}/pipelines/${pipelineId}/test_report`)).body;
    expect(report).toMatchObject({
      total_count: 6,
      success_count: 2,
      failed_count: 2,
      skipped_count: 2,
      error_count: 0,
      total_time: 1.5,
    });
    const unit = report.test_suites.find((s: any) => s.name === 'unit');
    expect(unit).toMatchObject({ total_count: 6, failed_count: 2, suite_error: null });
    expect(unit.test_cases.find((c: any) => c.name === 'divides 1')).toEqual({
      status: 'failed',
      name: 'divides 1',
      classname: 'calc.Div',
      file: null,
      execution_time: 0.25,
      system_output: 'expected 2, got error',
      stack_trace: null,
      recent_failures: null,
    });
    expect(unit.test_cases.find((c: any) => c.name === 'adds 2')).toMatchObject({
      status: 'success',
      file: 'add.py',
      system_output: null,
    });
    const broken = report.test_suites.find((s: any) => s.name === 'broken');
    expect(broken).toMatchObject({ total_count: 0, test_cases: [] });
    expect(broken.suite_error).toMatch(/^JUnit XML parsing failed: /);

    const summary = (await api.get(`/projects/${projectId}/pipelines/${pipelineId}/test_report_summary`))
      .body;
    expect(summary.total).toMatchObject({ time: 1.5, count: 6, success: 2, failed: 2, skipped: 2, error: 0 });
    expect(summary.total.suite_error).toMatch(/^JUnit XML parsing failed: /);
    const unitSummary = summary.test_suites.find((s: any) => s.name === 'unit');
    expect([...unitSummary.build_ids].sort()).toEqual(unitJobs.map((j) => j.id).sort());
    expect(unitSummary).not.toHaveProperty('test_cases');

    // The runner saw the environment variables, expanded.
    const trace = await fleet.trace(projectId, deploy.id);
    expect(trace).toMatch(
      /env=review\/main slug=review-main-[0-9a-z]{6} url=https:\/\/main\.example\.test action=start tier=development/,
    );

    // The environment and its one deployment.
    const [env] = (await api.get(`/projects/${projectId}/environments?name=review/main`)).body;
    expect(env).toMatchObject({
      name: 'review/main',
      external_url: 'https://main.example.test',
      state: 'available',
      tier: 'development',
    });
    expect(Object.keys(env).sort()).toEqual(
      [
        'auto_stop_at',
        'created_at',
        'external_url',
        'id',
        'name',
        'slug',
        'state',
        'tier',
        'updated_at',
      ].sort(),
    );
    const deployments = (await api.get(`/projects/${projectId}/deployments`)).body;
    expect(deployments).toHaveLength(1);
    expect(deployments[0]).toMatchObject({
      iid: 1,
      ref: 'main',
      status: 'success',
      environment: { id: env.id, name: 'review/main' },
      deployable: { id: deploy.id, name: 'deploy', status: 'success' },
    });
    expect(deployments[0].finished_at).not.toBeNull();
    const one = (await api.get(`/projects/${projectId}/environments/${env.id}`)).body;
    expect(one.last_deployment).toMatchObject({ id: deployments[0].id, iid: 1 });
    expect((await api.get(`/projects/${projectId}/deployments?status=failed`)).body).toEqual([]);
    expect((await api.get(`/projects/${projectId}/deployments?environment=nope`)).body).toEqual([]);
    const badState = await api.get(`/projects/${projectId}/environments?states=gone`);
    expect(badState.status).toBe(400);
    expect(badState.body.message).toMatch(/states .*available, stopping, stopped/);

    // The manual stop job stops the environment and is not a deployment.
    const stop = await fleet.waitForJob(projectId, pipelineId, 'stop', ['manual']);
    expect((await api.post(`/projects/${projectId}/jobs/${stop.id}/play`)).status).toBe(200);
    const stopped = await fleet.waitForJob(projectId, pipelineId, 'stop', ['success', 'failed']);
    expect(stopped.status, fleet.output()).toBe('success');
    expect(await fleet.trace(projectId, stop.id)).toContain('stopping review/main (stop)');
    const after = await api.until(async () => {
      const e = (await api.get(`/projects/${projectId}/environments/${env.id}`)).body;
      return e.state === 'stopped' ? e : undefined;
    }, 'the environment to be stopped');
    expect(after.last_deployment.id).toBe(deployments[0].id);
    expect((await api.get(`/projects/${projectId}/environments?states=stopped`)).body).toHaveLength(1);
    expect((await api.get(`/projects/${projectId}/deployments`)).body).toHaveLength(1);
  });
});
