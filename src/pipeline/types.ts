/**
 * The pipeline engine's output: what the coordinator needs to create jobs. Produced from a
 * `.gitlab-ci.yml` by `compilePipeline` (compile.ts). Pure data, JSON-serialisable, stored as is
 * on each job so a job's spec never changes after its pipeline was created.
 */

/** Where a value came from, for error messages: 1-based line and column. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** One configuration error, worded as GitLab words it, e.g. "jobs:build:script config should be ...". */
export interface PipelineError {
  /** Keyword path in GitLab's colon form: `jobs:build:script`, `root`, `stages`. */
  path: string;
  message: string;
  position?: SourcePosition;
}

export type JobWhen = 'on_success' | 'on_failure' | 'always' | 'manual' | 'delayed' | 'never';

export interface JobVariableDefinition {
  key: string;
  value: string;
  /** false when `expand: false` was given: the value is passed raw, never expanded. */
  expand: boolean;
}

export interface NeedDefinition {
  job: string;
  artifacts: boolean;
  optional: boolean;
}

export interface ArtifactsDefinition {
  name: string | null;
  paths: string[];
  exclude: string[];
  untracked: boolean;
  when: 'on_success' | 'on_failure' | 'always';
  expireIn: string | null;
  /** `artifacts:reports`, as report type → paths (`junit`, `dotenv`, ...). Absent when not given. */
  reports?: Record<string, string[]>;
  /**
   * Who may download the archive over the REST API: `all` (default), `developer` (`public: false`)
   * or `none`. Jobs that depend on it always get it with their job token.
   */
  access: 'all' | 'developer' | 'none';
}

export interface ImageDefinition {
  name: string;
  entrypoint?: string[];
  command?: string[];
  alias?: string;
  pullPolicy?: string[];
  variables?: JobVariableDefinition[];
  docker?: { user?: string; platform?: string };
}

export interface CacheDefinition {
  key: string;
  /** `key:files` and `key:prefix`: resolved by the coordinator against the commit's files. */
  keyFiles?: string[];
  keyPrefix?: string;
  paths: string[];
  untracked: boolean;
  policy: 'pull' | 'push' | 'pull-push';
  when: 'on_success' | 'on_failure' | 'always';
  fallbackKeys: string[];
  /** `unprotect: true`: protected and unprotected refs share this cache. */
  unprotect: boolean;
}

/** A job's `environment:`; name and url are expanded by the coordinator with the job's variables. */
export interface EnvironmentDefinition {
  name: string;
  url: string | null;
  /** start, prepare, stop, verify or access. */
  action: string;
  /** `deployment_tier`: production, staging, testing, development or other; null → guessed from the name. */
  deploymentTier: string | null;
  /** The job that stops this environment (checked to exist, share the name and have action stop). */
  onStop: string | null;
  /** `auto_stop_in` in seconds; null when absent or `never`. */
  autoStopInSeconds: number | null;
}

export interface JobDefinition {
  name: string;
  stage: string;
  /** Index of `stage` in PipelineDefinition.stages. */
  stageIndex: number;
  beforeScript: string[];
  script: string[];
  afterScript: string[];
  /**
   * Job-level variables only (global ones are on the pipeline), in file order; includes the
   * `parallel:matrix` values of this instance and the matching rule's `variables` (last wins).
   */
  variables: JobVariableDefinition[];
  /**
   * `inherit:variables`: when present, only these global variables apply to this job (`false` gives
   * `[]`). Absent: every global variable applies.
   */
  inheritedGlobalVariables?: string[];
  when: JobWhen;
  /** Seconds; null means the project/runner default. */
  startInSeconds: number | null;
  allowFailure: boolean;
  /** Exit codes that count as allowed failures (`allow_failure:exit_codes`); empty when not given. */
  allowFailureExitCodes: number[];
  timeoutSeconds: number | null;
  /** null: the job waits for all earlier stages. An array (possibly empty): DAG edges only. */
  needs: NeedDefinition[] | null;
  /** null: artifacts of all jobs in earlier stages (or of `needs`). An array: only those jobs. */
  dependencies: string[] | null;
  artifacts: ArtifactsDefinition | null;
  tags: string[];
  image: ImageDefinition | null;
  services: ImageDefinition[];
  cache: CacheDefinition[];
  retry: { max: number; when: string[]; exitCodes: number[] };
  interruptible: boolean;
  resourceGroup: string | null;
  coverageRegex: string | null;
  environment: EnvironmentDefinition | null;
  preGetSourcesScript: string[];
  /** `parallel: N` / matrix: 1-based index and total, when the job is one of several. */
  nodeIndex: number | null;
  nodeTotal: number | null;
  /** Name of the job before parallel expansion (`test` for `test 1/3`). */
  baseName: string;
  /**
   * Set for a `trigger:` job (a bridge): the coordinator creates a child pipeline from `include`
   * (local paths of this repository) instead of sending the job to a runner. Such a job has no script.
   */
  trigger?: TriggerDefinition;
}

export interface TriggerDefinition {
  /** Local files of the child pipeline configuration, in order. */
  include: string[];
  /** `depend`: the bridge mirrors the child pipeline's status. null: it succeeds once created. */
  strategy: 'depend' | null;
  /** `trigger:forward` (GitLab defaults: yaml variables true, pipeline variables false). */
  forward: { yamlVariables: boolean; pipelineVariables: boolean };
}

export interface PipelineDefinition {
  stages: string[];
  /** Global `variables`, in file order. */
  variables: JobVariableDefinition[];
  /** Jobs in definition order; hidden (`.name`) and templates removed, `when: never` dropped. */
  jobs: JobDefinition[];
  workflowName: string | null;
  warnings: string[];
  /** `workflow:auto_cancel`, when given. */
  autoCancel?: { onNewCommit: string | null; onJobFailure: string | null };
}

/** What the engine knows about the commit a pipeline runs for. */
export interface PipelineContext {
  ref: string;
  sha: string;
  beforeSha: string;
  tag: boolean;
  /** `push`, `web`, `api`, `trigger`, `schedule`, `merge_request_event`, `parent_pipeline`. */
  source: string;
  defaultBranch: string;
  projectPath: string;
  /** Variables visible to `rules:if` and expansion: predefined + project + pipeline ones. */
  variables: Record<string, string>;
  /** Reads a file of the repository at this commit; null when it does not exist. */
  readFile?: (path: string) => Promise<string | null>;
  /** Lists repository paths at this commit (for `exists`, `local` globs). */
  listFiles?: () => Promise<string[]>;
  /** Paths changed by the push (for `changes`); undefined means "unknown: treat as changed". */
  changedFiles?: string[];
  /**
   * Reads `path` of another project at `ref` (null: its default branch) for `include:project`;
   * null when it does not exist. Without it, `include:project` is an error.
   */
  readProjectFile?: (project: string, ref: string | null, path: string) => Promise<string | null>;
  /**
   * Fetches an `include:remote` URL's body; defaults to the global `fetch` with a timeout. Rejects
   * on any failure. The signal aborts after the engine's timeout.
   */
  fetchRemote?: (url: string, signal: AbortSignal) => Promise<string>;
  /** Values for the main file's `spec:inputs` (pipeline inputs). */
  inputs?: Record<string, string | number | boolean | string[]>;
}

/**
 * `ok: false` with `reason: 'invalid'` (or no reason): the configuration has errors; the coordinator
 * stores a failed pipeline with these `yaml_errors`.
 * `ok: false` with `reason: 'filtered'`: the configuration is valid but no pipeline is created for
 * this context: either `workflow:rules` matched nothing / `when: never` (single error path
 * `workflow`, message "Pipeline filtered out by workflow rules."), or rules/only/except removed every
 * job (single error path `jobs`, GitLab's "Pipeline will not run for the selected trigger. ..."
 * message). GitLab creates no pipeline in both cases.
 */
export type CompileResult =
  | { ok: true; pipeline: PipelineDefinition }
  | { ok: false; errors: PipelineError[]; warnings: string[]; reason?: 'invalid' | 'filtered' };
