import { ExpressionError, parseExpression, type Expr } from './expression.js';
import { evaluateExpression } from './expression-eval.js';
import { anyPathMatches } from './glob.js';
import { JOB_WHEN, durationSeconds } from './job-flow.js';
import { parseNeeds, type NeedRef } from './job-needs.js';
import { checkKeys, childSite, keyError, siteError, type Site } from './report.js';
import { isMap, stringOrArray, type RawMap } from './raw.js';
import type { JobVariableDefinition, JobWhen, PipelineContext } from './types.js';
import { expandVariables, parseVariables } from './variables.js';

/** One validated rule. Absent keys are null. */
export interface Rule {
  condition: Expr | null;
  changes: string[] | null;
  exists: string[] | null;
  when: JobWhen | null;
  allowFailure: boolean | null;
  variables: JobVariableDefinition[];
  needs: NeedRef[] | null;
  startInSeconds: number | null;
  interruptible: boolean | null;
}

/** What a rule may see: variables for `if`, the commit's files for `changes`/`exists`. */
export interface RuleEnv {
  vars: Record<string, string>;
  context: PipelineContext;
  /** Repository paths (from context.listFiles), null when unknown. */
  files: string[] | null;
}

export const JOB_RULE_KEYS = [
  'if',
  'changes',
  'exists',
  'when',
  'allow_failure',
  'variables',
  'needs',
  'start_in',
  'interruptible',
];
export const WORKFLOW_RULE_KEYS = ['if', 'changes', 'exists', 'when', 'variables', 'auto_cancel'];
export const INCLUDE_RULE_KEYS = ['if', 'changes', 'exists', 'when'];

/** Validates `site.map.rules` (an array of hashes). Null when absent. */
export function parseRules(
  site: Site,
  allowed: string[],
  whens: readonly string[] = JOB_WHEN,
): Rule[] | null {
  const raw = site.map['rules'];
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw) || !raw.every(isMap)) {
    keyError(site, 'rules', 'config should be an array of hashes');
    return [];
  }
  const holder = childSite(site, 'rules', raw as unknown as RawMap);
  return raw.map((rule) => parseRule(childSite(holder, 'rule', rule), allowed, whens));
}

function parseRule(site: Site, allowed: string[], whens: readonly string[]): Rule {
  checkKeys(site, allowed);
  const when = site.map['when'];
  if (when !== undefined && (typeof when !== 'string' || !whens.includes(when))) {
    siteError(site, `when unknown value: ${String(when)}`, 'when');
  }
  const allowFailure = site.map['allow_failure'];
  if (allowFailure !== undefined && typeof allowFailure !== 'boolean')
    keyError(site, 'allow_failure', 'config should be a boolean value');
  const interruptible = site.map['interruptible'];
  return {
    condition: parseIf(site),
    changes: parsePathList(site, 'changes'),
    exists: parsePathList(site, 'exists'),
    when: typeof when === 'string' && whens.includes(when) ? (when as JobWhen) : null,
    allowFailure: typeof allowFailure === 'boolean' ? allowFailure : null,
    variables: parseVariables(site),
    needs: parseNeeds(site),
    startInSeconds: site.map['start_in'] === undefined ? null : startIn(site),
    interruptible: typeof interruptible === 'boolean' ? interruptible : null,
  };
}

function startIn(site: Site): number | null {
  const seconds = durationSeconds(site.map['start_in']);
  if (seconds === null) keyError(site, 'start_in', 'config should be a duration');
  return seconds;
}

function parseIf(site: Site): Expr | null {
  const raw = site.map['if'];
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'string') {
    keyError(site, 'if', 'config should be a string');
    return null;
  }
  try {
    return parseExpression(raw);
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    siteError(site, `if invalid expression syntax (${err.message})`, 'if');
    return null;
  }
}

/** `changes`/`exists`: a list of globs or `{paths: [...]}` (`compare_to`, `project` refused or noted). */
export function parsePathList(site: Site, key: string): string[] | null {
  const raw = site.map[key];
  if (raw === undefined || raw === null) return null;
  const list = stringOrArray(raw);
  if (list) return list;
  if (isMap(raw)) {
    const inner = childSite(site, key, raw);
    checkKeys(inner, key === 'changes' ? ['paths', 'compare_to'] : ['paths']);
    if (raw['compare_to'] !== undefined)
      keyError(site, key, 'compare_to is not supported by this coordinator; changes are those of the push');
    const paths = stringOrArray(raw['paths']);
    if (paths) return paths;
  }
  keyError(site, key, 'config should be an array of strings or a hash with paths');
  return [];
}

/** The first rule whose `if`, `changes` and `exists` all hold; null when none does. */
export function firstMatchingRule(rules: Rule[], env: RuleEnv): Rule | null {
  return rules.find((rule) => ruleMatches(rule, env)) ?? null;
}

function ruleMatches(rule: Rule, env: RuleEnv): boolean {
  if (rule.condition && !evaluateExpression(rule.condition, env.vars)) return false;
  if (rule.changes && !changesMatch(rule.changes, env)) return false;
  if (rule.exists && !existsMatch(rule.exists, env)) return false;
  return true;
}

/** Unknown changes (no push diff: tags, schedules, web...) count as changed, as in GitLab. */
export function changesMatch(globs: string[], env: RuleEnv): boolean {
  const changed = env.context.changedFiles;
  if (changed === undefined) return true;
  return anyPathMatches(
    globs.map((g) => expandVariables(g, env.vars)),
    changed,
  );
}

/** Unknown file lists count as existing (the coordinator always provides them). */
export function existsMatch(globs: string[], env: RuleEnv): boolean {
  if (env.files === null) return true;
  return anyPathMatches(
    globs.map((g) => expandVariables(g, env.vars)),
    env.files,
  );
}
