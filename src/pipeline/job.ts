import { parseArtifacts, parseCache } from './job-artifacts.js';
import { parseAllowFailure, parseRetry, parseStartIn, parseTimeout, parseWhen } from './job-flow.js';
import { parseImage, parseServices } from './job-images.js';
import { parseDependencies, parseNeeds, type NeedRef } from './job-needs.js';
import {
  parseBoolean,
  parseCoverage,
  parseHooks,
  parseOptionalString,
  parseScript,
  parseTags,
} from './job-scripts.js';
import { parseEnvironment } from './job-environment.js';
import { parseTrigger } from './job-trigger.js';
import { parseParallel, type ParallelSpec } from './parallel.js';
import { checkKeys, keyError, siteError, type Site } from './report.js';
import type { JobDefinition } from './types.js';
import { parseVariables } from './variables.js';

export const JOB_KEYS = [
  'script',
  'before_script',
  'after_script',
  'stage',
  'variables',
  'needs',
  'when',
  'start_in',
  'allow_failure',
  'timeout',
  'artifacts',
  'dependencies',
  'tags',
  'image',
  'services',
  'cache',
  'retry',
  'interruptible',
  'resource_group',
  'coverage',
  'environment',
  'parallel',
  'rules',
  'only',
  'except',
  'extends',
  'inherit',
  'trigger',
  'hooks',
];
/** Keywords GitLab knows that this coordinator cannot honour: refused, never silently ignored. */
export const UNSUPPORTED_JOB_KEYS = [
  'id_tokens',
  'secrets',
  'release',
  'pages',
  'dast_configuration',
  'identity',
  'run',
  'manual_confirmation',
];
const BRIDGE_KEYS = [
  'trigger',
  'stage',
  'allow_failure',
  'only',
  'except',
  'when',
  'start_in',
  'extends',
  'variables',
  'needs',
  'rules',
  'parallel',
  'inherit',
  'resource_group',
  'environment',
  'retry',
];

/** A job after validation, before rules, `parallel` expansion and the needs graph. */
export interface JobSpec {
  def: JobDefinition;
  site: Site;
  needs: NeedRef[] | null;
  parallel: ParallelSpec | null;
  /** `allow_failure` written explicitly (rules' `when: manual` then keeps it). */
  allowFailureGiven: boolean;
}

/** Validates one job's (already merged with `default`) keywords into a JobSpec. */
export function buildJob(site: Site, stages: string[]): JobSpec {
  checkJobKeys(site);
  const stage = parseStage(site, stages);
  const when = parseWhen(site);
  const allow = parseAllowFailure(site, when);
  const trigger = parseTrigger(site);
  const def: JobDefinition = {
    name: site.path.slice('jobs:'.length),
    stage,
    stageIndex: Math.max(0, stages.indexOf(stage)),
    beforeScript: parseScript(site, 'before_script') ?? [],
    script: parseMainScript(site, trigger !== null),
    afterScript: parseScript(site, 'after_script') ?? [],
    variables: parseVariables(site),
    when,
    startInSeconds: parseStartIn(site, when),
    allowFailure: allow.allowFailure,
    allowFailureExitCodes: allow.exitCodes,
    timeoutSeconds: parseTimeout(site),
    needs: null,
    dependencies: parseDependencies(site),
    artifacts: parseArtifacts(site),
    tags: parseTags(site),
    image: parseImage(site),
    services: parseServices(site),
    cache: parseCache(site),
    retry: parseRetry(site),
    interruptible: parseBoolean(site, 'interruptible', false),
    resourceGroup: parseOptionalString(site, 'resource_group'),
    coverageRegex: parseCoverage(site),
    environment: parseEnvironment(site),
    preGetSourcesScript: parseHooks(site),
    nodeIndex: null,
    nodeTotal: null,
    baseName: site.path.slice('jobs:'.length),
    ...(trigger ? { trigger } : {}),
  };
  const allowFailureGiven = site.map['allow_failure'] !== undefined && site.map['allow_failure'] !== null;
  return { def, site, needs: parseNeeds(site), parallel: parseParallel(site), allowFailureGiven };
}

function checkJobKeys(site: Site): void {
  const unsupported = Object.keys(site.map).filter((k) => UNSUPPORTED_JOB_KEYS.includes(k));
  for (const k of unsupported) keyError(site, k, 'is not supported by this coordinator');
  const isBridge = site.map['trigger'] !== undefined;
  checkKeys(site, [...(isBridge ? BRIDGE_KEYS : JOB_KEYS), ...unsupported]);
  if (site.map['rules'] !== undefined) {
    const clash = ['only', 'except'].filter((k) => site.map[k] !== undefined);
    if (clash.length > 0) siteError(site, `config key may not be used with \`rules\`: ${clash.join(', ')}`);
  }
}

function parseMainScript(site: Site, isBridge: boolean): string[] {
  const script = parseScript(site, 'script');
  if (script === null && !isBridge)
    siteError(site, 'config should implement the script:, run:, or trigger: keyword');
  return script ?? [];
}

function parseStage(site: Site, stages: string[]): string {
  const raw = site.map['stage'];
  if (raw === undefined || raw === null) return 'test';
  if (typeof raw !== 'string') {
    keyError(site, 'stage', 'config should be a string');
    return 'test';
  }
  if (!stages.includes(raw)) {
    siteError(site, `chosen stage ${raw} does not exist; available stages are ${stages.join(', ')}`, 'stage');
  }
  return raw;
}
