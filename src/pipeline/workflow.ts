import { addError, type Diagnostics } from './diagnostics.js';
import { keyPositionOf } from './positions.js';
import { checkKeys, childSite, keyError, type Site } from './report.js';
import { isMap, type RawMap } from './raw.js';
import { WORKFLOW_RULE_KEYS, firstMatchingRule, parseRules, type RuleEnv } from './rules.js';
import type { JobVariableDefinition, PipelineDefinition } from './types.js';

export interface WorkflowOutcome {
  /** false: no pipeline for this context. */
  run: boolean;
  /** The matching rule's `variables` (they override global ones). */
  variables: JobVariableDefinition[];
  name: string | null;
  autoCancel: PipelineDefinition['autoCancel'] | null;
}

const AUTO_CANCEL_KEYS = ['on_new_commit', 'on_job_failure'];

/** Validates and evaluates `workflow:` (`rules`, `name`, `auto_cancel`). */
export function evaluateWorkflow(root: RawMap, env: RuleEnv, diag: Diagnostics): WorkflowOutcome {
  const none: WorkflowOutcome = { run: true, variables: [], name: null, autoCancel: null };
  const raw = root['workflow'];
  if (raw === undefined || raw === null) return none;
  if (!isMap(raw)) {
    addError(diag, 'workflow', 'workflow config should be a hash', keyPositionOf(root, 'workflow'));
    return none;
  }
  const site: Site = { diag, path: 'workflow', map: raw };
  checkKeys(site, ['rules', 'name', 'auto_cancel']);
  const name = raw['name'];
  if (name !== undefined && typeof name !== 'string') keyError(site, 'name', 'config should be a string');
  const autoCancel = parseAutoCancel(site, raw['auto_cancel']);
  const rules = parseRules(site, WORKFLOW_RULE_KEYS, ['always', 'never']);
  const base = { ...none, name: typeof name === 'string' ? name : null, autoCancel };
  if (rules === null) return base;
  const rule = firstMatchingRule(rules, env);
  if (!rule || rule.when === 'never') return { ...base, run: false };
  return { ...base, variables: rule.variables };
}

function parseAutoCancel(site: Site, raw: unknown): WorkflowOutcome['autoCancel'] {
  if (raw === undefined || raw === null) return null;
  if (!isMap(raw)) {
    keyError(site, 'auto_cancel', 'config should be a hash');
    return null;
  }
  const inner = childSite(site, 'auto_cancel', raw);
  checkKeys(inner, AUTO_CANCEL_KEYS);
  const value = (k: string): string | null => (typeof raw[k] === 'string' ? (raw[k] as string) : null);
  return { onNewCommit: value('on_new_commit'), onJobFailure: value('on_job_failure') };
}
