/* eslint-disable max-lines -- one suite per port, kept whole so each adapter runs it with one call */
/**
 * The Store contract as a vitest suite. Every adapter (each SQL dialect) runs the same suite:
 * `describeStoreConformance('sqlite', () => createStore(...))`. The factory must return a fresh,
 * empty store on every call; the suite closes each store after its test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../../src/shared/errors.js';
import { isFlotillaError } from '../../../../src/shared/errors.js';
import type { JobDefinition } from '../../../../src/pipeline/types.js';
import type {
  AccessLevel,
  DeploymentFilter,
  EnvironmentFilter,
  JobFilter,
  JobRecord,
  NewEnvironment,
  NewJob,
  NewPipeline,
  NewRunner,
  PipelineRecord,
  ProjectRecord,
  RunnerMatch,
  Store,
  VariableRecord,
} from '../../../../src/coordinator/store/store.js';

const T0 = new Date('2024-05-01T10:00:00.123Z');

function definition(name: string, tags: string[] = []): JobDefinition {
  return {
    name,
    stage: 'test',
    stageIndex: 1,
    beforeScript: [],
    script: ['echo "héllo ✓"', "printf '%s\\n' $CI_JOB_ID"],
    afterScript: [],
    variables: [{ key: 'RAW', value: '$NOT_EXPANDED', expand: false }],
    when: 'on_success',
    startInSeconds: null,
    allowFailure: false,
    allowFailureExitCodes: [3, 4],
    timeoutSeconds: 600,
    needs: [{ job: 'build', artifacts: true, optional: false }],
    dependencies: null,
    artifacts: {
      name: null,
      paths: ['out/'],
      exclude: [],
      untracked: false,
      when: 'on_success',
      access: 'all',
      expireIn: '1 day',
    },
    tags,
    image: { name: 'alpine:3', entrypoint: [''], docker: { user: '1000' } },
    services: [],
    cache: [],
    retry: { max: 1, when: ['script_failure'], exitCodes: [] },
    interruptible: true,
    resourceGroup: null,
    coverageRegex: '/Coverage: (\\d+)%/',
    environment: null,
    preGetSourcesScript: [],
    nodeIndex: null,
    nodeTotal: null,
    baseName: name,
  };
}

export function newJob(name: string, over: Partial<NewJob> = {}): NewJob {
  const tagList = over.tagList ?? [];
  return {
    name,
    stage: 'test',
    stageIdx: 1,
    status: 'created',
    when: 'on_success',
    allowFailure: false,
    definition: definition(name, tagList),
    tagList,
    protected: false,
    retryOfId: null,
    userId: 1,
    ...over,
  };
}

/** A public project `g/p` of user 1 (tests that need one project and no particular fields). */
export function newProject(
  over: Partial<Parameters<Store['createProject']>[0]> = {},
): Parameters<Store['createProject']>[0] {
  return {
    name: 'p',
    path: 'p',
    namespacePath: 'g',
    description: null,
    defaultBranch: 'main',
    visibility: 'public',
    ciConfigPath: null,
    protectedBranches: [],
    creatorId: 1,
    ...over,
  };
}

export function newPipeline(projectId: number, over: Partial<NewPipeline> = {}): NewPipeline {
  return {
    projectId,
    ref: 'main',
    sha: 'a'.repeat(40),
    beforeSha: '0'.repeat(40),
    tag: false,
    source: 'push',
    status: 'created',
    yamlErrors: null,
    name: null,
    stages: ['build', 'test', 'deploy'],
    yamlVariables: [{ key: 'GREETING', value: 'hi "there"', expand: true }],
    variables: [{ key: 'SECRET_FILE', value: 'line1\nline2', variableType: 'file' }],
    userId: 1,
    createdAt: T0,
    startedAt: null,
    finishedAt: null,
    committedAt: T0,
    ...over,
  };
}

export function newRunner(tokenHash: string, over: Partial<NewRunner> = {}): NewRunner {
  return {
    tokenHash,
    description: 'runner',
    tagList: [],
    runUntagged: true,
    paused: false,
    locked: false,
    accessLevel: 'not_protected',
    maximumTimeout: null,
    runnerType: 'instance_type',
    maintenanceNote: null,
    ...over,
  };
}

export function claimOf(tokenHash: string) {
  return { tokenHash, startedAt: T0, runnerSystemId: 's_0123456789ab', timeoutSeconds: 3600 };
}

export function matchOf(over: Partial<RunnerMatch> & Pick<RunnerMatch, 'runnerId'>): RunnerMatch {
  return { tagList: [], runUntagged: true, accessLevel: 'not_protected', ...over };
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isFlotillaError(err, code), `expected FlotillaError ${code}, got ${String(err)}`).toBe(true);
}

export function describeStoreConformance(name: string, factory: () => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let seq = 0;

    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      // Undefined when the factory failed; the failure is already the test's.
      await (store as Store | undefined)?.close();
    });

    async function project(path = `p${(seq += 1)}`): Promise<ProjectRecord> {
      return store.createProject({
        name: path,
        path,
        namespacePath: 'group/sub',
        description: null,
        defaultBranch: 'main',
        visibility: 'private',
        ciConfigPath: null,
        protectedBranches: ['main', 'release/*'],
        creatorId: 1,
      });
    }

    async function pipelineWith(jobs: NewJob[], over: Partial<NewPipeline> = {}) {
      const p = await project();
      return store.createPipeline(newPipeline(p.id, over), jobs);
    }

    async function pendingJob(over: Partial<NewJob> = {}): Promise<JobRecord> {
      const { jobs } = await pipelineWith([newJob('job', { status: 'pending', ...over })]);
      return jobs[0] as JobRecord;
    }

    describe('lifecycle', () => {
      it('close() is idempotent', async () => {
        await store.close();
        await store.close();
        store = await factory();
      });
    });

    describe('users and access tokens', () => {
      it('ensureRootUser creates user 1 once', async () => {
        expect(await store.getUser(1)).toBeNull();
        const [a, b] = await Promise.all([store.ensureRootUser(), store.ensureRootUser()]);
        expect(a).toMatchObject({ id: 1, username: 'root', name: 'Administrator', admin: true });
        expect(a?.createdAt).toBeInstanceOf(Date);
        expect(b).toEqual(a);
        expect(await store.ensureRootUser()).toEqual(a);
        expect(await store.getUser(1)).toEqual(a);
      });

      it('creates users with unique usernames', async () => {
        await store.ensureRootUser();
        const u = await store.createUser({ username: 'dev', name: 'Developer', admin: false });
        expect(u).toMatchObject({ username: 'dev', name: 'Developer', admin: false });
        expect(u.id).toBeGreaterThan(1);
        expect(await store.getUser(u.id)).toEqual(u);
        await expectCode(
          store.createUser({ username: 'dev', name: 'Again', admin: true }),
          'FLO_ERR_CONFLICT',
        );
      });

      it('creates and finds access tokens; duplicates conflict', async () => {
        await store.ensureRootUser();
        const expiresAt = new Date('2030-01-02T03:04:05.678Z');
        const input = {
          userId: 1,
          name: 'ci',
          tokenHash: 'h1',
          scopes: ['api', 'read_repository'],
          expiresAt,
        };
        const token = await store.createAccessToken(input);
        expect(token).toMatchObject({ ...input, revoked: false });
        expect(token.createdAt).toBeInstanceOf(Date);
        expect(await store.findAccessTokenByHash('h1')).toEqual(token);
        expect(await store.findAccessTokenByHash('nope')).toBeNull();
        await expectCode(store.createAccessToken({ ...input, name: 'again' }), 'FLO_ERR_CONFLICT');
        const never = await store.createAccessToken({ ...input, tokenHash: 'h2', expiresAt: null });
        expect(never.expiresAt).toBeNull();
      });

      it('gets and revokes access tokens by id', async () => {
        await store.ensureRootUser();
        const input = { userId: 1, name: 'ci', tokenHash: 'h1', scopes: ['api'], expiresAt: null };
        const token = await store.createAccessToken(input);
        const other = await store.createAccessToken({ ...input, tokenHash: 'h2' });
        expect(await store.getAccessToken(token.id)).toEqual(token);
        expect(await store.getAccessToken(other.id + 100)).toBeNull();

        expect(await store.revokeAccessToken(token.id)).toEqual({ ...token, revoked: true });
        expect(await store.findAccessTokenByHash('h1')).toEqual({ ...token, revoked: true });
        expect(await store.getAccessToken(other.id)).toEqual(other);
        expect(await store.revokeAccessToken(token.id)).toEqual({ ...token, revoked: true });
        expect(await store.revokeAccessToken(other.id + 100)).toBeNull();
      });
    });

    describe('projects', () => {
      it('creates, gets and finds by path with JSON round-trip', async () => {
        const p = await project('app');
        expect(p).toMatchObject({
          path: 'app',
          namespacePath: 'group/sub',
          protectedBranches: ['main', 'release/*'],
        });
        expect(p.createdAt).toBeInstanceOf(Date);
        expect(p.lastActivityAt).toEqual(p.createdAt);
        expect(await store.getProject(p.id)).toEqual(p);
        expect(await store.findProjectByPath('group/sub', 'app')).toEqual(p);
        expect(await store.findProjectByPath('group', 'app')).toBeNull();
        expect(await store.getProject(p.id + 1000)).toBeNull();
      });

      it('rejects a duplicate namespace/path with FLO_ERR_CONFLICT', async () => {
        await project('dup');
        await expectCode(project('dup'), 'FLO_ERR_CONFLICT');
      });

      it('pages with a total, by id ascending', async () => {
        const made = [];
        for (let i = 0; i < 5; i += 1) made.push(await project());
        const second = await store.listProjects({ page: 2, perPage: 2 });
        expect(second.total).toBe(5);
        expect(second.items.map((p) => p.id)).toEqual([made[2]?.id, made[3]?.id]);
        expect((await store.listProjects({ page: 3, perPage: 2 })).items).toHaveLength(1);
        expect(await store.listProjects({ page: 4, perPage: 2 })).toEqual({ items: [], total: 5 });
      });

      it('lists only the projects a user may see with visibleToUserId', async () => {
        await store.ensureRootUser();
        const other = await store.createUser({ username: `u${(seq += 1)}`, name: 'Other', admin: false });
        const rootPrivate = await project();
        const shared = await project();
        await store.updateProject(shared.id, { visibility: 'internal' });
        const own = await store.createProject({ ...rootPrivate, path: `own${seq}`, creatorId: other.id });
        const seen = await store.listProjects({ page: 1, perPage: 50 }, { visibleToUserId: other.id });
        expect(seen.items.map((p) => p.id)).toEqual([shared.id, own.id]);
        expect(seen.total).toBe(2);
        expect((await store.listProjects({ page: 1, perPage: 50 })).total).toBe(3);
      });

      it('touchProject moves lastActivityAt', async () => {
        const p = await project();
        const at = new Date('2031-01-01T00:00:00.001Z');
        await store.touchProject(p.id, at);
        expect((await store.getProject(p.id))?.lastActivityAt).toEqual(at);
      });
    });

    describe('runners', () => {
      it('creates, gets, finds by token hash and pages', async () => {
        const r = await store.createRunner(
          newRunner('rt1', { tagList: ['docker', 'linux'], runUntagged: false }),
        );
        expect(r).toMatchObject({
          tagList: ['docker', 'linux'],
          runUntagged: false,
          paused: false,
          contactedAt: null,
        });
        expect(r.createdAt).toBeInstanceOf(Date);
        expect(await store.getRunner(r.id)).toEqual(r);
        expect(await store.findRunnerByTokenHash('rt1')).toEqual(r);
        expect(await store.findRunnerByTokenHash('rt2')).toBeNull();
        await store.createRunner(newRunner('rt2'));
        await store.createRunner(newRunner('rt3'));
        expect((await store.listRunners({ page: 1, perPage: 2 })).total).toBe(3);
        expect((await store.listRunners({ page: 2, perPage: 2 })).items.map((x) => x.tokenHash)).toEqual([
          'rt3',
        ]);
      });

      it('rejects a duplicate token hash with FLO_ERR_CONFLICT', async () => {
        await store.createRunner(newRunner('same'));
        await expectCode(store.createRunner(newRunner('same')), 'FLO_ERR_CONFLICT');
      });

      it('patches fields, clears with null, and deletes', async () => {
        const r = await store.createRunner(newRunner('rt', { maintenanceNote: 'disk full' }));
        const contactedAt = new Date('2024-06-01T00:00:00.500Z');
        const patched = await store.updateRunner(r.id, {
          tagList: ['gpu'],
          paused: true,
          accessLevel: 'ref_protected',
          maintenanceNote: null,
          contactedAt,
          version: '17.0.0',
          ipAddress: '10.0.0.7',
        });
        expect(patched).toMatchObject({ tagList: ['gpu'], paused: true, accessLevel: 'ref_protected' });
        expect(patched).toMatchObject({
          maintenanceNote: null,
          contactedAt,
          version: '17.0.0',
          ipAddress: '10.0.0.7',
        });
        expect(await store.updateRunner(r.id, {})).toEqual(patched);
        expect(await store.updateRunner(r.id + 1000, { paused: false })).toBeNull();
        expect(await store.deleteRunner(r.id)).toBe(true);
        expect(await store.deleteRunner(r.id)).toBe(false);
        expect(await store.getRunner(r.id)).toBeNull();
      });
    });

    describe('pipelines', () => {
      it('creates a pipeline and its jobs with JSON fields intact', async () => {
        const p = await project();
        const jobs = [newJob('build', { tagList: ['docker'] }), newJob('test', { allowFailure: true })];
        const created = await store.createPipeline(newPipeline(p.id), jobs);
        expect(created.pipeline).toMatchObject({ ...newPipeline(p.id), iid: 1 });
        expect(created.pipeline.updatedAt).toEqual(T0);
        expect(created.jobs.map((j) => j.name)).toEqual(['build', 'test']);
        const [build, test] = created.jobs as [JobRecord, JobRecord];
        expect(build).toMatchObject({
          pipelineId: created.pipeline.id,
          projectId: p.id,
          tagList: ['docker'],
        });
        expect(build).toMatchObject({
          retried: false,
          traceSize: 0,
          runnerId: null,
          tokenHash: null,
          coverage: null,
        });
        expect(build.definition).toEqual(definition('build', ['docker']));
        expect(test.allowFailure).toBe(true);
        expect(await store.getPipeline(created.pipeline.id)).toEqual(created.pipeline);
        expect(await store.getJob(build.id)).toEqual(build);
        expect(await store.getPipeline(created.pipeline.id + 1000)).toBeNull();
      });

      it('numbers iids per project, also under concurrency', async () => {
        const [a, b] = [await project(), await project()];
        const many = await Promise.all(
          Array.from({ length: 6 }, () => store.createPipeline(newPipeline(a.id), [newJob('j')])),
        );
        expect(many.map((c) => c.pipeline.iid).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
        expect((await store.createPipeline(newPipeline(b.id), [])).pipeline.iid).toBe(1);
        expect((await store.createPipeline(newPipeline(a.id), [])).pipeline.iid).toBe(7);
      });

      it('writes nothing when a job cannot be written', async () => {
        const p = await project();
        const bad = newJob('bad', { retryOfId: 987654 });
        await expect(store.createPipeline(newPipeline(p.id), [newJob('ok'), bad])).rejects.toThrow();
        expect((await store.listPipelines(p.id, {}, { page: 1, perPage: 10 })).total).toBe(0);
        expect((await store.listJobs({ projectId: p.id })).total).toBe(0);
        expect((await store.createPipeline(newPipeline(p.id), [])).pipeline.iid).toBe(1);
      });

      it('refuses an unknown project with FLO_ERR_NOT_FOUND', async () => {
        await expectCode(store.createPipeline(newPipeline(424242), []), 'FLO_ERR_NOT_FOUND');
      });

      it('lists with filters, order and pagination totals', async () => {
        const p = await project();
        const other = await project();
        const mk = (over: Partial<NewPipeline>) => store.createPipeline(newPipeline(p.id, over), []);
        const p1 = (await mk({ ref: 'main', status: 'success' })).pipeline;
        const p2 = (await mk({ ref: 'dev', status: 'failed', source: 'web' })).pipeline;
        const p3 = (await mk({ ref: 'main', status: 'running', sha: 'b'.repeat(40) })).pipeline;
        await store.createPipeline(newPipeline(other.id), []);
        const ids = (list: { items: PipelineRecord[] }) => list.items.map((x) => x.id);
        const all = await store.listPipelines(p.id, {}, { page: 1, perPage: 10 });
        expect(all.total).toBe(3);
        expect(ids(all)).toEqual([p3.id, p2.id, p1.id]);
        const page2 = await store.listPipelines(p.id, { sort: 'asc' }, { page: 2, perPage: 2 });
        expect(page2).toMatchObject({ total: 3 });
        expect(ids(page2)).toEqual([p3.id]);
        expect(ids(await store.listPipelines(p.id, { ref: 'main' }, { page: 1, perPage: 10 }))).toEqual([
          p3.id,
          p1.id,
        ]);
        expect(
          ids(await store.listPipelines(p.id, { sha: 'b'.repeat(40) }, { page: 1, perPage: 10 })),
        ).toEqual([p3.id]);
        expect(ids(await store.listPipelines(p.id, { status: 'failed' }, { page: 1, perPage: 10 }))).toEqual([
          p2.id,
        ]);
        expect(ids(await store.listPipelines(p.id, { source: 'web' }, { page: 1, perPage: 10 }))).toEqual([
          p2.id,
        ]);
        const byRef = await store.listPipelines(
          p.id,
          { orderBy: 'ref', sort: 'asc' },
          { page: 1, perPage: 10 },
        );
        expect(ids(byRef)).toEqual([p2.id, p1.id, p3.id]);
        const byStatus = await store.listPipelines(
          p.id,
          { orderBy: 'status', sort: 'desc' },
          { page: 1, perPage: 10 },
        );
        expect(ids(byStatus)).toEqual([p1.id, p3.id, p2.id]);
        await store.updatePipeline(p1.id, { status: 'canceled' });
        const byUpdated = await store.listPipelines(p.id, { orderBy: 'updated_at' }, { page: 1, perPage: 1 });
        expect(byUpdated).toMatchObject({ total: 3 });
        expect(ids(byUpdated)).toEqual([p1.id]);
      });

      it('patches status and times, bumping updatedAt', async () => {
        const { pipeline } = await pipelineWith([]);
        const startedAt = new Date('2024-05-01T10:00:05.000Z');
        const updated = await store.updatePipeline(pipeline.id, {
          status: 'running',
          startedAt,
          yamlErrors: null,
        });
        expect(updated).toMatchObject({ status: 'running', startedAt, finishedAt: null });
        expect(updated?.updatedAt.getTime()).toBeGreaterThan(T0.getTime());
        expect(await store.updatePipeline(pipeline.id + 1000, { status: 'failed' })).toBeNull();
      });

      it('setPipelineStatus moves the status only when it differs, stamping the times', async () => {
        const { pipeline } = await pipelineWith([]);
        const t1 = new Date('2024-05-01T10:00:01.000Z');
        const t2 = new Date('2024-05-01T10:00:02.000Z');
        const running = await store.setPipelineStatus(pipeline.id, 'running', t1);
        expect(running).toMatchObject({ status: 'running', startedAt: t1, finishedAt: null });
        expect(await store.setPipelineStatus(pipeline.id, 'running', t2)).toBeNull();
        expect(await store.setPipelineStatus(pipeline.id, 'success', t2)).toMatchObject({
          status: 'success',
          startedAt: t1,
          finishedAt: t2,
        });
        // Running again (a retry): the first start is kept, the finish cleared.
        expect(await store.setPipelineStatus(pipeline.id, 'running', t2)).toMatchObject({
          startedAt: t1,
          finishedAt: null,
        });
        expect(await store.setPipelineStatus(pipeline.id + 1000, 'failed', t2)).toBeNull();
        const broken = await pipelineWith([], { status: 'failed', yamlErrors: 'bad' });
        expect(await store.setPipelineStatus(broken.pipeline.id, 'skipped', t2)).toBeNull();
        expect((await store.getPipeline(broken.pipeline.id))?.status).toBe('failed');
      });

      it('updatePipeline with expected statuses is a compare-and-set on status', async () => {
        const { pipeline } = await pipelineWith([]);
        expect(await store.updatePipeline(pipeline.id, { status: 'running' }, ['running'])).toBeNull();
        expect(await store.updatePipeline(pipeline.id, { status: 'running' }, [])).toBeNull();
        expect((await store.getPipeline(pipeline.id))?.status).toBe(pipeline.status);
        const moved = await store.updatePipeline(pipeline.id, { status: 'running' }, [
          pipeline.status,
          'failed',
        ]);
        expect(moved).toMatchObject({ id: pipeline.id, status: 'running' });
        expect(await store.updatePipeline(pipeline.id, { status: 'success' }, [pipeline.status])).toBeNull();
        expect((await store.getPipeline(pipeline.id))?.status).toBe('running');
      });
    });

    describe('jobs', () => {
      it('adds retry jobs and hides retried ones unless asked', async () => {
        const { pipeline, jobs } = await pipelineWith([newJob('a'), newJob('b')]);
        const a = jobs[0] as JobRecord;
        await store.updateJob(a.id, { status: 'failed', retried: true });
        const [retry] = await store.createJobs(pipeline.id, pipeline.projectId, [
          newJob('a', { retryOfId: a.id }),
        ]);
        expect(retry).toMatchObject({ name: 'a', retryOfId: a.id, retried: false, pipelineId: pipeline.id });
        const visible = await store.listJobs({ pipelineId: pipeline.id });
        expect(visible.items.map((j) => j.name)).toEqual(['b', 'a']);
        expect(visible.total).toBe(2);
        expect((await store.listJobs({ pipelineId: pipeline.id, includeRetried: true })).total).toBe(3);
      });

      it('filters by project and statuses and pages with totals', async () => {
        const { pipeline } = await pipelineWith(
          ['a', 'b', 'c', 'd', 'e'].map((n, i) => newJob(n, { status: i % 2 === 0 ? 'pending' : 'created' })),
        );
        await pipelineWith([newJob('elsewhere', { status: 'pending' })]);
        const byProject = await store.listJobs({ projectId: pipeline.projectId }, { page: 2, perPage: 2 });
        expect(byProject.total).toBe(5);
        expect(byProject.items.map((j) => j.name)).toEqual(['c', 'd']);
        const pending = await store.listJobs({ projectId: pipeline.projectId, statuses: ['pending'] });
        expect(pending.items.map((j) => j.name)).toEqual(['a', 'c', 'e']);
        expect((await store.listJobs({ statuses: ['pending', 'created'] })).total).toBe(6);
        expect(await store.listJobs({ statuses: [] })).toEqual({ items: [], total: 0 });
      });

      it('filters by resource group, within a project and with statuses', async () => {
        const grouped = (name: string, group: string | null, status: NewJob['status'] = 'created') =>
          newJob(name, { status, definition: { ...definition(name, []), resourceGroup: group } });
        const { pipeline } = await pipelineWith([
          grouped('a', 'prod'),
          grouped('b', 'staging', 'pending'),
          grouped('c', null),
          grouped('d', 'prod', 'running'),
        ]);
        await pipelineWith([grouped('elsewhere', 'prod')]);
        const names = async (filter: JobFilter) => (await store.listJobs(filter)).items.map((j) => j.name);
        const projectId = pipeline.projectId;
        expect(await names({ projectId, resourceGroups: ['prod'] })).toEqual(['a', 'd']);
        expect(await names({ projectId, resourceGroups: ['prod', 'staging'] })).toEqual(['a', 'b', 'd']);
        expect(await names({ projectId, resourceGroups: ['prod'], statuses: ['running'] })).toEqual(['d']);
        expect(await names({ resourceGroups: ['prod'] })).toEqual(['a', 'd', 'elsewhere']);
        expect(await names({ projectId, resourceGroups: ['Prod', 'missing'] })).toEqual([]);
        expect(await store.listJobs({ projectId, resourceGroups: [] })).toEqual({ items: [], total: 0 });
        const paged = await store.listJobs({ projectId, resourceGroups: ['prod'] }, { page: 1, perPage: 1 });
        expect(paged.total).toBe(2);
      });

      it('updateJob is a compare-and-set on status', async () => {
        const job = await pendingJob();
        expect(await store.updateJob(job.id, { status: 'canceled' }, ['running'])).toBeNull();
        expect((await store.getJob(job.id))?.status).toBe('pending');
        const finishedAt = new Date('2024-05-01T11:00:00.000Z');
        const done = await store.updateJob(
          job.id,
          { status: 'failed', failureReason: 'script_failure', exitCode: 2, finishedAt },
          ['pending', 'running'],
        );
        expect(done).toMatchObject({
          status: 'failed',
          failureReason: 'script_failure',
          exitCode: 2,
          finishedAt,
        });
        expect(done?.updatedAt.getTime()).toBeGreaterThan(job.updatedAt.getTime() - 1);
        expect(await store.updateJob(job.id + 1000, { status: 'failed' })).toBeNull();
        const [x, y] = await Promise.all([
          store.updateJob(job.id, { status: 'success' }, ['failed']),
          store.updateJob(job.id, { status: 'canceled' }, ['failed']),
        ]);
        expect([x, y].filter((r) => r !== null)).toHaveLength(1);
      });

      it('listJobsUnlessUnderway lists the visible jobs unless one of stage <= max runs or is pending', async () => {
        const { jobs } = await pipelineWith([
          newJob('a', { stageIdx: 0 }),
          newJob('b', { stageIdx: 1 }),
          newJob('c', { stageIdx: 2 }),
        ]);
        const [a, b, c] = jobs as [JobRecord, JobRecord, JobRecord];
        const pipelineId = a.pipelineId;
        const ids = async (max: number) =>
          (await store.listJobsUnlessUnderway(pipelineId, max)).map((j) => j.id);
        expect(await ids(2)).toEqual([a.id, b.id, c.id]);
        await store.updateJob(b.id, { status: 'running' });
        expect(await ids(0)).toEqual([a.id, b.id, c.id]);
        expect(await ids(1)).toEqual([]);
        // A job waiting for a runner is under way too; a created one is not.
        await store.updateJob(b.id, { status: 'pending' });
        expect(await ids(1)).toEqual([]);
        await store.updateJob(b.id, { status: 'created' });
        expect(await ids(1)).toEqual([a.id, b.id, c.id]);
        await store.updateJob(b.id, { status: 'running' });
        await store.updateJob(b.id, { status: 'failed', retried: true });
        const [retry] = await store.createJobs(pipelineId, a.projectId, [
          newJob('b', { stageIdx: 1, retryOfId: b.id }),
        ]);
        expect(await ids(2)).toEqual([a.id, c.id, (retry as JobRecord).id]);
        expect(await store.listJobsUnlessUnderway(pipelineId, 2)).toEqual(
          (await store.listJobs({ pipelineId })).items,
        );
        expect(await store.listJobsUnlessUnderway(pipelineId + 1000, 2)).toEqual([]);
      });

      it('listAnnounceableJobs reads the open builds of pipelines with created builds, oldest first', async () => {
        const startedAt = new Date('2024-05-01T11:00:00.000Z');
        const bridge = (name: string): NewJob =>
          newJob(name, {
            stageIdx: 1,
            definition: {
              ...definition(name),
              trigger: { include: ['c.yml'], strategy: null, forward: { yamlVariables: true, pipelineVariables: false } },
            },
          });
        const one = await pipelineWith([
          newJob('build', { stageIdx: 0, status: 'running' }),
          newJob('lint', { stageIdx: 0, status: 'success' }),
          newJob('test', { stageIdx: 1, tagList: ['gpu'], protected: true }),
          bridge('child'),
        ]);
        await pipelineWith([newJob('only', { stageIdx: 0, status: 'pending' })]);
        const three = await pipelineWith([
          newJob('flaky', { stageIdx: 0, status: 'failed' }),
          newJob('deploy', { stageIdx: 1 }),
        ]);
        const [build, , test] = one.jobs as [JobRecord, JobRecord, JobRecord];
        await store.updateJob(build.id, { startedAt });
        const [flaky, deploy] = three.jobs as [JobRecord, JobRecord];
        await store.updateJob(flaky.id, { retried: true });
        const [retry] = await store.createJobs(three.pipeline.id, flaky.projectId, [
          newJob('flaky', { stageIdx: 0, status: 'pending', retryOfId: flaky.id }),
        ]);
        const row = (j: JobRecord, status: string, started: Date | null = null) => ({
          id: j.id,
          pipelineId: j.pipelineId,
          name: j.name,
          stageIdx: j.stageIdx,
          status,
          tagList: j.tagList,
          protected: j.protected,
          startedAt: started,
        });
        const p1 = [row(build, 'running', startedAt), row(test, 'created')];
        expect(await store.listAnnounceableJobs(100)).toEqual([
          ...p1,
          row(deploy, 'created'),
          row(retry as JobRecord, 'pending'),
        ]);
        expect(await store.listAnnounceableJobs(1)).toEqual(p1);
        expect(await store.listAnnounceableJobs(0)).toEqual([]);
      });

      it('updateJobs writes several jobs in one compare-and-set, row by row', async () => {
        const { jobs } = await pipelineWith([
          newJob('a', { status: 'created' }),
          newJob('b', { status: 'created' }),
          newJob('c', { status: 'running' }),
        ]);
        const [a, b, c] = jobs as [JobRecord, JobRecord, JobRecord];
        const queuedAt = new Date('2024-05-01T12:00:00.000Z');
        const ids = [c.id, b.id, a.id, a.id + 1000];
        const written = await store.updateJobs(ids, { status: 'pending', queuedAt }, ['created']);
        expect(written.map((j) => [j.id, j.status, j.queuedAt])).toEqual([
          [a.id, 'pending', queuedAt],
          [b.id, 'pending', queuedAt],
        ]);
        expect((await store.getJob(c.id))?.status).toBe('running');
        expect(await store.updateJobs([a.id, b.id], { status: 'skipped' }, ['created'])).toEqual([]);
        expect(await store.updateJobs([], { status: 'skipped' }, ['pending'])).toEqual([]);
        expect(await store.updateJobs([a.id], { status: 'skipped' }, [])).toEqual([]);
        const [x, y] = await Promise.all([
          store.updateJobs([a.id, b.id], { status: 'success' }, ['pending']),
          store.updateJobs([b.id, a.id], { status: 'canceled' }, ['pending']),
        ]);
        expect([...x, ...y].map((j) => j.id).sort((m, n) => m - n)).toEqual([a.id, b.id]);
      });

      it('stores coverage, checksum, token hash and clears with null', async () => {
        const job = await pendingJob();
        const updated = await store.updateJob(job.id, {
          coverage: 87.5,
          traceChecksum: 'crc32:abc',
          tokenHash: 'jt1',
        });
        expect(updated).toMatchObject({ coverage: 87.5, traceChecksum: 'crc32:abc', tokenHash: 'jt1' });
        expect(await store.findJobByTokenHash('jt1')).toEqual(updated);
        expect(await store.findJobByTokenHash('jt2')).toBeNull();
        expect(await store.updateJob(job.id, { tokenHash: null, coverage: null })).toMatchObject({
          tokenHash: null,
          coverage: null,
        });
      });

      it('touchJobs sets lastSeenAt of running and canceling jobs only', async () => {
        const { jobs } = await pipelineWith([
          newJob('running', { status: 'running' }),
          newJob('canceling', { status: 'canceling' }),
          newJob('done', { status: 'success' }),
        ]);
        const ids = jobs.map((j) => j.id);
        const at = new Date(T0.getTime() + 5000);
        expect(await store.touchJobs([...ids, 999_999], at)).toBe(2);
        const seen = await Promise.all(ids.map(async (id) => (await store.getJob(id))?.lastSeenAt ?? null));
        expect(seen).toEqual([at, at, null]);
        expect(await store.touchJobs([], at)).toBe(0);
      });

      it('lists stale running jobs by lastSeenAt, else startedAt', async () => {
        const { jobs } = await pipelineWith(
          ['seen', 'unseen', 'fresh', 'idle'].map((n) => newJob(n, { status: 'running' })),
        );
        const [seen, unseen, fresh, idle] = jobs as [JobRecord, JobRecord, JobRecord, JobRecord];
        const old = new Date('2024-01-01T00:00:00.000Z');
        const recent = new Date('2024-01-01T01:00:00.000Z');
        await store.updateJob(seen.id, { startedAt: old, lastSeenAt: old });
        await store.updateJob(unseen.id, { startedAt: old });
        await store.updateJob(fresh.id, { startedAt: old, lastSeenAt: recent });
        await store.updateJob(idle.id, { status: 'success', startedAt: old });
        const stale = await store.listStaleRunningJobs(new Date('2024-01-01T00:30:00.000Z'));
        expect(stale.map((j) => j.name)).toEqual(['seen', 'unseen']);
      });

      it('lists pending jobs oldest first with a limit', async () => {
        await pipelineWith([newJob('p1', { status: 'pending' }), newJob('c', { status: 'created' })]);
        await pipelineWith([newJob('p2', { status: 'pending' }), newJob('p3', { status: 'pending' })]);
        expect((await store.listPendingJobs(2)).map((j) => j.name)).toEqual(['p1', 'p2']);
        expect(await store.listPendingJobs(10)).toHaveLength(3);
      });
    });

    describe('claimPendingJob', () => {
      it('takes the oldest matching pending job and records the claim', async () => {
        const runner = await store.createRunner(newRunner('r'));
        const { jobs } = await pipelineWith([
          newJob('created'),
          newJob('first', { status: 'pending' }),
          newJob('second', { status: 'pending' }),
        ]);
        const claimed = await store.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf('tok1'));
        expect(claimed).toMatchObject({
          id: jobs[1]?.id,
          status: 'running',
          runnerId: runner.id,
          tokenHash: 'tok1',
        });
        expect(claimed).toMatchObject({
          startedAt: T0,
          runnerSystemId: 's_0123456789ab',
          timeoutSeconds: 3600,
        });
        expect((await store.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf('tok2')))?.name).toBe(
          'second',
        );
        expect(await store.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf('tok3'))).toBeNull();
        expect(await store.findJobByTokenHash('tok1')).toEqual(claimed);
      });

      it("claimPendingJobWithPipeline: the same claim, with the claimed job's pipeline where the store reads it with the claim", async () => {
        const runner = await store.createRunner(newRunner('r'));
        const { pipeline, jobs } = await pipelineWith([
          newJob('first', { status: 'pending' }),
          newJob('second', { status: 'pending' }),
        ]);
        const claimed = await store.claimPendingJobWithPipeline(
          matchOf({ runnerId: runner.id }),
          claimOf('tok1'),
        );
        expect(claimed?.job).toMatchObject({ id: jobs[0]?.id, status: 'running', tokenHash: 'tok1' });
        expect(claimed?.job).toEqual(await store.findJobByTokenHash('tok1'));
        // Read with the claim (PostgreSQL: the same statement; SQLite: right after it, in the same
        // call), it is the pipeline as stored.
        expect(claimed?.pipeline).toEqual(await store.getPipeline(pipeline.id));
        expect(
          (await store.claimPendingJobWithPipeline(matchOf({ runnerId: runner.id }), claimOf('tok2')))?.job
            .name,
        ).toBe('second');
        expect(
          await store.claimPendingJobWithPipeline(matchOf({ runnerId: runner.id }), claimOf('tok3')),
        ).toBeNull();
      });

      it('takes the timeout from the definition, capped at the maximum, with lastSeenAt, in the claim', async () => {
        const runner = await store.createRunner(newRunner('r'));
        const seen = new Date(T0.getTime() + 1000);
        const claim = (tok: string, maximumTimeoutSeconds: number | null) => ({
          ...claimOf(tok),
          timeoutFromDefinition: true,
          maximumTimeoutSeconds,
          lastSeenAt: seen,
        });
        const capped = await pendingJob();
        const own = await pendingJob();
        const fallback = await pendingJob({
          definition: { ...newJob('d').definition, timeoutSeconds: null },
        });
        const match = matchOf({ runnerId: runner.id });
        expect(await store.claimPendingJob(match, claim('c1', 300))).toMatchObject({
          id: capped.id,
          timeoutSeconds: 300,
          lastSeenAt: seen,
        });
        expect(await store.claimPendingJob(match, claim('c2', null))).toMatchObject({
          id: own.id,
          timeoutSeconds: 600,
        });
        expect(await store.claimPendingJob(match, claim('c3', 7200))).toMatchObject({
          id: fallback.id,
          timeoutSeconds: 3600,
        });
      });

      it('hands one job to exactly one of two concurrent claimers', async () => {
        const r1 = await store.createRunner(newRunner('r1'));
        const r2 = await store.createRunner(newRunner('r2'));
        const job = await pendingJob();
        const results = await Promise.all([
          store.claimPendingJob(matchOf({ runnerId: r1.id }), claimOf('t1')),
          store.claimPendingJob(matchOf({ runnerId: r2.id }), claimOf('t2')),
        ]);
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        expect(winners[0]?.id).toBe(job.id);
        expect((await store.getJob(job.id))?.runnerId).toBe(winners[0]?.runnerId);
      });

      it('hands each of many jobs to exactly one of many concurrent claimers', async () => {
        const runner = await store.createRunner(newRunner('r'));
        const { jobs } = await pipelineWith(
          Array.from({ length: 8 }, (_, i) => newJob(`j${i}`, { status: 'pending' })),
        );
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            store.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf(`t${i}`)),
          ),
        );
        const ids = results.filter((r): r is JobRecord => r !== null).map((r) => r.id);
        expect(ids.sort((a, b) => a - b)).toEqual(jobs.map((j) => j.id));
      });

      type Row = [string, string[], string[], boolean, AccessLevel, boolean, boolean];
      const table: Row[] = [
        // case, job tags, runner tags, runUntagged, access level, job protected, claimed
        ['untagged job, untagged runner', [], [], true, 'not_protected', false, true],
        ['untagged job, runUntagged false', [], ['docker'], false, 'not_protected', false, false],
        ['untagged job, tagged runner with runUntagged', [], ['docker'], true, 'not_protected', false, true],
        ['tags subset of runner tags', ['docker'], ['docker', 'linux'], false, 'not_protected', false, true],
        [
          'equal tag sets in another order',
          ['linux', 'docker'],
          ['docker', 'linux'],
          false,
          'not_protected',
          false,
          true,
        ],
        [
          'job tag missing on runner',
          ['docker', 'gpu'],
          ['docker', 'linux'],
          true,
          'not_protected',
          false,
          false,
        ],
        ['tagged job, untagged runner', ['docker'], [], true, 'not_protected', false, false],
        ['tags are exact strings', ['docker'], ['dock', 'docker2'], true, 'not_protected', false, false],
        ['quotes in tags', ["it's", 'a"b'], ['a"b', "it's"], false, 'not_protected', false, true],
        [
          'ref_protected runner, unprotected job',
          ['docker'],
          ['docker'],
          true,
          'ref_protected',
          false,
          false,
        ],
        ['ref_protected runner, protected job', ['docker'], ['docker'], true, 'ref_protected', true, true],
        ['not_protected runner, protected job', [], [], true, 'not_protected', true, true],
      ];
      it.each(table)(
        '%s',
        async (_case, jobTags, runnerTags, runUntagged, accessLevel, isProtected, claimed) => {
          const runner = await store.createRunner(
            newRunner('r', { tagList: runnerTags, runUntagged, accessLevel }),
          );
          const job = await pendingJob({ tagList: jobTags, protected: isProtected });
          const match = matchOf({ runnerId: runner.id, tagList: runnerTags, runUntagged, accessLevel });
          const result = await store.claimPendingJob(match, claimOf('t'));
          expect(result?.id ?? null).toBe(claimed ? job.id : null);
        },
      );

      it('skips non-matching older jobs for a matching newer one', async () => {
        const runner = await store.createRunner(newRunner('r', { tagList: ['docker'], runUntagged: false }));
        await pipelineWith([newJob('gpu', { status: 'pending', tagList: ['gpu'] })]);
        const later = await pendingJob({ tagList: ['docker'] });
        const match = matchOf({ runnerId: runner.id, tagList: ['docker'], runUntagged: false });
        const result = await store.claimPendingJob(match, claimOf('t'));
        expect(result?.id).toBe(later.id);
      });

      it('claims jobs whatever the runner row says (pausing is the caller’s concern)', async () => {
        const runner = await store.createRunner(newRunner('paused', { paused: true }));
        const job = await pendingJob();
        expect((await store.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf('t')))?.id).toBe(
          job.id,
        );
      });
    });

    describe('trace', () => {
      it('appends at the stored size and refuses any other offset', async () => {
        const job = await pendingJob();
        expect(await store.appendTrace(job.id, 0, Buffer.from('hello '))).toEqual({ ok: true, size: 6 });
        expect(await store.appendTrace(job.id, 0, Buffer.from('again'))).toEqual({ ok: false, size: 6 });
        expect(await store.appendTrace(job.id, 9, Buffer.from('gap'))).toEqual({ ok: false, size: 6 });
        expect(await store.appendTrace(job.id, 6, Buffer.from('world'))).toEqual({ ok: true, size: 11 });
        expect(await store.appendTrace(job.id, 11, Buffer.alloc(0))).toEqual({ ok: true, size: 11 });
        expect((await store.getJob(job.id))?.traceSize).toBe(11);
        expect((await store.readTrace(job.id)).toString()).toBe('hello world');
      });

      it('accepts exactly one of two concurrent appends at one offset', async () => {
        const job = await pendingJob();
        const results = await Promise.all([
          store.appendTrace(job.id, 0, Buffer.from('aaa')),
          store.appendTrace(job.id, 0, Buffer.from('bb')),
        ]);
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        const size = (await store.getJob(job.id))?.traceSize;
        expect([2, 3]).toContain(size);
        expect((await store.readTrace(job.id)).length).toBe(size);
      });

      it('answers many jobs’ concurrent appends each by its own offset (PostgreSQL batches them)', async () => {
        const jobs = await Promise.all(Array.from({ length: 24 }, () => pendingJob()));
        // Every job gets its first bytes; then, all at once: a right offset, a stale one, a gap,
        // binary bytes, an append to a missing job, and a second append of a job in the same burst.
        await Promise.all(jobs.map((job, i) => store.appendTrace(job.id, 0, Buffer.from(`job ${i}\n`))));
        const sizes = jobs.map((_, i) => Buffer.byteLength(`job ${i}\n`));
        const binary = Buffer.from([0, 255, 1, 254, 92, 120, 39]);
        const burst = jobs.map((job, i) => {
          const size = sizes[i] ?? 0;
          if (i % 4 === 1) return store.appendTrace(job.id, 0, Buffer.from('stale'));
          if (i % 4 === 2) return store.appendTrace(job.id, size + 3, Buffer.from('gap'));
          return store.appendTrace(job.id, size, i % 4 === 3 ? binary : Buffer.from('more\n'));
        });
        const missing = expectCode(store.appendTrace(999_999, 0, Buffer.from('x')), 'FLO_ERR_NOT_FOUND');
        const results = await Promise.all(burst);
        await missing;
        for (const [i, job] of jobs.entries()) {
          const size = sizes[i] ?? 0;
          const added = i % 4 === 0 ? Buffer.from('more\n') : i % 4 === 3 ? binary : Buffer.alloc(0);
          const ok = i % 4 === 0 || i % 4 === 3;
          expect(results[i], `job ${i}`).toEqual({ ok, size: size + added.length });
          const want = Buffer.concat([Buffer.from(`job ${i}\n`), added]);
          expect((await store.readTrace(job.id)).equals(want), `job ${i}'s log`).toBe(true);
          expect((await store.getJob(job.id))?.traceSize).toBe(want.length);
        }
      });

      it('reads byte ranges across chunk boundaries, binary-safe', async () => {
        const job = await pendingJob();
        const parts = [Buffer.from([0, 1, 2, 255]), Buffer.from('é✓'), Buffer.from('\x1b[31mred\x1b[0m\n')];
        let size = 0;
        for (const part of parts) size = (await store.appendTrace(job.id, size, part)).size;
        const whole = Buffer.concat(parts);
        expect((await store.readTrace(job.id)).equals(whole)).toBe(true);
        for (const [offset, limit] of [
          [0, 4],
          [2, 5],
          [4, 5],
          [5, 100],
          [9, 3],
          [size - 1, 1],
          [3, undefined],
        ] as const) {
          const got = await store.readTrace(job.id, offset, limit);
          const want = whole.subarray(offset, limit === undefined ? undefined : offset + limit);
          expect(got.equals(want), `range ${offset}+${String(limit)}`).toBe(true);
        }
        expect((await store.readTrace(job.id, size, 10)).length).toBe(0);
        expect((await store.readTrace(job.id, 1, 0)).length).toBe(0);
        expect((await store.readTrace(job.id + 1000)).length).toBe(0);
      });

      it('refuses an append to a missing job with FLO_ERR_NOT_FOUND', async () => {
        await expectCode(store.appendTrace(999999, 0, Buffer.from('x')), 'FLO_ERR_NOT_FOUND');
      });
    });

    describe('artifacts', () => {
      it('adds and lists a job’s artifacts, sizes over 32 bits included', async () => {
        const job = await pendingJob();
        const expireAt = new Date('2024-06-01T00:00:00.000Z');
        const base = { jobId: job.id, fileFormat: 'zip', filename: 'artifacts.zip', expireAt };
        const a = await store.addArtifact({
          ...base,
          fileType: 'archive',
          size: 5_000_000_000,
          storageKey: 'k/1',
        });
        const b = await store.addArtifact({
          ...base,
          fileType: 'junit',
          size: 12,
          storageKey: 'k/2',
          expireAt: null,
        });
        expect(a).toMatchObject({ ...base, fileType: 'archive', size: 5_000_000_000 });
        expect(a.createdAt).toBeInstanceOf(Date);
        expect(b.expireAt).toBeNull();
        expect(await store.listArtifacts(job.id)).toEqual([a, b]);
        expect(await store.listArtifacts(job.id + 1000)).toEqual([]);
      });
    });

    describe('variables', () => {
      function variable(projectId: number, over: Partial<VariableRecord> = {}): VariableRecord {
        return {
          projectId,
          key: 'TOKEN',
          value: 's3cr3t\nline',
          variableType: 'env_var',
          protected: true,
          masked: false,
          raw: true,
          environmentScope: '*',
          description: null,
          ...over,
        };
      }

      it('creates, gets, lists; duplicates conflict per scope', async () => {
        const p = await project();
        const v = await store.createVariable(variable(p.id));
        expect(v).toEqual(variable(p.id));
        await expectCode(store.createVariable(variable(p.id, { value: 'x' })), 'FLO_ERR_CONFLICT');
        const prod = await store.createVariable(
          variable(p.id, { environmentScope: 'production', masked: true }),
        );
        const other = await store.createVariable(variable(p.id, { key: 'A_FIRST', variableType: 'file' }));
        expect(await store.listVariables(p.id)).toEqual([other, v, prod]);
        expect(await store.getVariable(p.id, 'TOKEN')).toEqual(v);
        expect(await store.getVariable(p.id, 'TOKEN', 'production')).toEqual(prod);
        expect(await store.getVariable(p.id, 'TOKEN', 'staging')).toBeNull();
        expect(await store.getVariable(p.id, 'MISSING')).toBeNull();
      });

      it('updates (including the scope) and deletes', async () => {
        const p = await project();
        await store.createVariable(variable(p.id));
        await store.createVariable(variable(p.id, { environmentScope: 'staging' }));
        const updated = await store.updateVariable(p.id, 'TOKEN', '*', {
          value: 'new',
          masked: true,
          description: 'd',
        });
        expect(updated).toEqual(variable(p.id, { value: 'new', masked: true, description: 'd' }));
        await expectCode(
          store.updateVariable(p.id, 'TOKEN', '*', { environmentScope: 'staging' }),
          'FLO_ERR_CONFLICT',
        );
        const moved = await store.updateVariable(p.id, 'TOKEN', '*', { environmentScope: 'production' });
        expect(moved?.environmentScope).toBe('production');
        expect(await store.updateVariable(p.id, 'TOKEN', '*', { value: 'x' })).toBeNull();
        expect(await store.deleteVariable(p.id, 'TOKEN', 'production')).toBe(true);
        expect(await store.deleteVariable(p.id, 'TOKEN', 'production')).toBe(false);
        expect((await store.listVariables(p.id)).map((x) => x.environmentScope)).toEqual(['staging']);
      });
    });

    describe('child pipelines and bridges', () => {
      const trigger = {
        include: ['child.yml'],
        strategy: 'depend' as const,
        forward: { yamlVariables: true, pipelineVariables: false },
      };
      const bridgeJob = (name: string, over: Partial<NewJob> = {}): NewJob =>
        newJob(name, { definition: { ...definition(name), trigger }, ...over });

      it('links a child pipeline to its parent and bridge, filterable both ways', async () => {
        const { pipeline: parent, jobs } = await pipelineWith([newJob('build'), bridgeJob('deploy')]);
        const bridge = jobs[1] as JobRecord;
        expect(parent).toMatchObject({ parentPipelineId: null, parentJobId: null });
        const link = { parentPipelineId: parent.id, parentJobId: bridge.id };
        const child = await store.createPipeline(
          newPipeline(parent.projectId, { source: 'parent_pipeline', ...link }),
          [newJob('child-job')],
        );
        expect(child.pipeline).toMatchObject({ ...link, source: 'parent_pipeline', iid: 2 });
        expect(await store.getPipeline(child.pipeline.id)).toEqual(child.pipeline);
        const page = { page: 1, perPage: 10 };
        const ids = (list: { items: PipelineRecord[] }) => list.items.map((x) => x.id);
        expect(ids(await store.listPipelines(parent.projectId, {}, page))).toEqual([
          child.pipeline.id,
          parent.id,
        ]);
        expect(
          ids(await store.listPipelines(parent.projectId, { parentPipelineId: parent.id }, page)),
        ).toEqual([child.pipeline.id]);
        expect(ids(await store.listPipelines(parent.projectId, { parentJobId: bridge.id }, page))).toEqual([
          child.pipeline.id,
        ]);
        expect(
          (await store.listPipelines(parent.projectId, { parentJobId: bridge.id + 1000 }, page)).total,
        ).toBe(0);
      });

      it('lists builds and bridges apart, also for retries', async () => {
        const { pipeline, jobs } = await pipelineWith([
          newJob('build'),
          bridgeJob('trigger'),
          newJob('test'),
        ]);
        const bridge = jobs[1] as JobRecord;
        const kinds = async (kind: 'build' | 'bridge') =>
          (await store.listJobs({ pipelineId: pipeline.id, kind })).items.map((j) => j.name);
        expect(await kinds('build')).toEqual(['build', 'test']);
        expect(await kinds('bridge')).toEqual(['trigger']);
        expect((await store.listJobs({ pipelineId: pipeline.id })).total).toBe(3);
        await store.updateJob(bridge.id, { status: 'failed', retried: true });
        await store.createJobs(pipeline.id, pipeline.projectId, [
          bridgeJob('trigger', { retryOfId: bridge.id }),
        ]);
        const page = await store.listJobs(
          { pipelineId: pipeline.id, kind: 'bridge' },
          { page: 1, perPage: 5 },
        );
        expect(page.total).toBe(1);
        expect(page.items[0]?.definition.trigger).toEqual(trigger);
      });

      it('never claims, lists as pending or as stale a bridge', async () => {
        const runner = await store.createRunner(newRunner('rb'));
        const { jobs } = await pipelineWith([
          bridgeJob('bridge', { status: 'pending' }),
          newJob('build', { status: 'pending' }),
          bridgeJob('running-bridge', { status: 'running' }),
        ]);
        const running = jobs[2] as JobRecord;
        await store.updateJob(running.id, { startedAt: new Date('2024-01-01T00:00:00.000Z') });
        expect((await store.listPendingJobs(10)).map((j) => j.name)).toEqual(['build']);
        expect(await store.listStaleRunningJobs(new Date('2024-02-01T00:00:00.000Z'))).toEqual([]);
        const claimed = await store.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf('tb1'));
        expect(claimed?.name).toBe('build');
        expect(await store.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf('tb2'))).toBeNull();
        expect((await store.getJob((jobs[0] as JobRecord).id))?.status).toBe('pending');
      });
    });

    describe('environments and deployments', () => {
      const env = (projectId: number, name: string, over: Partial<NewEnvironment> = {}): NewEnvironment => ({
        projectId,
        name,
        slug: name.replace(/[^a-z0-9]/g, '-'),
        externalUrl: null,
        tier: 'other',
        ...over,
      });

      it('finds or creates one environment per project and name, concurrently too', async () => {
        const p = await project();
        const other = await project();
        const input = env(p.id, 'review/feat_1', { externalUrl: 'https://r.example', tier: 'development' });
        const [a, b] = await Promise.all([
          store.findOrCreateEnvironment(input),
          store.findOrCreateEnvironment(input),
        ]);
        expect(a).toMatchObject({ ...input, state: 'available' });
        expect(a.createdAt).toBeInstanceOf(Date);
        expect(b).toEqual(a);
        expect(await store.findOrCreateEnvironment({ ...input, tier: 'production' })).toEqual(a);
        const elsewhere = await store.findOrCreateEnvironment(env(other.id, 'review/feat_1'));
        expect(elsewhere.id).not.toBe(a.id);
        expect(await store.getEnvironment(a.id)).toEqual(a);
        expect(await store.getEnvironment(a.id + 1000)).toBeNull();
      });

      it('updates state and url; lists by name, search (prefix, folder, escaped) and states', async () => {
        const p = await project();
        const prod = await store.findOrCreateEnvironment(env(p.id, 'production'));
        const review = await store.findOrCreateEnvironment(env(p.id, 'review/Prod_fix'));
        const odd = await store.findOrCreateEnvironment(env(p.id, 'pro%d'));
        const stopped = await store.updateEnvironment(review.id, {
          state: 'stopped',
          externalUrl: 'https://x',
        });
        expect(stopped).toMatchObject({
          state: 'stopped',
          externalUrl: 'https://x',
          name: 'review/Prod_fix',
        });
        expect(await store.updateEnvironment(review.id + 1000, { state: 'stopped' })).toBeNull();
        const page = { page: 1, perPage: 20 };
        const ids = async (filter: EnvironmentFilter) =>
          (await store.listEnvironments(p.id, filter, page)).items.map((e) => e.id);
        expect(await ids({})).toEqual([prod.id, review.id, odd.id]);
        expect(await ids({ name: 'production' })).toEqual([prod.id]);
        expect(await ids({ search: 'PROD' })).toEqual([prod.id, review.id]);
        expect(await ids({ search: 'pro%' })).toEqual([odd.id]);
        expect(await ids({ search: 'prod_' })).toEqual([review.id]);
        expect(await ids({ states: ['available'] })).toEqual([prod.id, odd.id]);
        expect(await ids({ states: [] })).toEqual([]);
        const second = await store.listEnvironments(p.id, {}, { page: 2, perPage: 2 });
        expect(second).toMatchObject({ total: 3 });
        expect(second.items.map((e) => e.id)).toEqual([odd.id]);
      });

      it('numbers deployments per project (start only), mirrors status, filters and orders', async () => {
        const { pipeline, jobs } = await pipelineWith([newJob('deploy'), newJob('stop'), newJob('again')]);
        const [deploy, stop, again] = jobs as [JobRecord, JobRecord, JobRecord];
        const e = await store.findOrCreateEnvironment(env(pipeline.projectId, 'staging'));
        const base = {
          projectId: pipeline.projectId,
          environmentId: e.id,
          pipelineId: pipeline.id,
          ref: 'main',
          sha: pipeline.sha,
          tag: false,
          userId: 1,
        };
        const d1 = await store.createDeployment({
          ...base,
          jobId: deploy.id,
          action: 'start',
          status: 'running',
        });
        const link = await store.createDeployment({
          ...base,
          jobId: stop.id,
          action: 'stop',
          status: 'running',
        });
        const d2 = await store.createDeployment({
          ...base,
          jobId: again.id,
          action: 'start',
          status: 'created',
        });
        expect(d1).toMatchObject({ ...base, iid: 1, jobId: deploy.id, status: 'running', finishedAt: null });
        expect(link.iid).toBeNull();
        expect(d2.iid).toBe(2);
        await expectCode(
          store.createDeployment({ ...base, jobId: deploy.id, action: 'start', status: 'running' }),
          'FLO_ERR_CONFLICT',
        );
        const finishedAt = new Date('2024-05-01T10:05:00.000Z');
        const done = await store.updateDeployment(d1.id, { status: 'success', finishedAt });
        expect(done).toMatchObject({ status: 'success', finishedAt, iid: 1 });
        expect(await store.findDeploymentByJob(deploy.id)).toEqual(done);
        expect(await store.findDeploymentByJob(stop.id)).toEqual(link);
        expect(await store.findDeploymentByJob(999999)).toBeNull();
        const page = { page: 1, perPage: 20 };
        const ids = async (filter: DeploymentFilter) =>
          (await store.listDeployments(pipeline.projectId, filter, page)).items.map((d) => d.id);
        expect(await ids({})).toEqual([d1.id, d2.id]);
        expect(await ids({ allActions: true })).toEqual([d1.id, link.id, d2.id]);
        expect(await ids({ status: 'success' })).toEqual([d1.id]);
        expect(await ids({ environmentId: e.id + 1000 })).toEqual([]);
        expect(await ids({ pipelineId: pipeline.id, sort: 'desc' })).toEqual([d2.id, d1.id]);
        expect(await ids({ orderBy: 'iid', sort: 'desc' })).toEqual([d2.id, d1.id]);
        const other = await project();
        expect((await store.listDeployments(other.id, {}, page)).total).toBe(0);
      });
    });
  });
}
