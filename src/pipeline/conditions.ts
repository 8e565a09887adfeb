import type { NeedRef } from './job-needs.js';
import type { JobSpec } from './job.js';
import { parsePolicy, policiesAllow, type RefPolicy } from './only-except.js';
import type { Site } from './report.js';
import { JOB_RULE_KEYS, firstMatchingRule, parseRules, type Rule, type RuleEnv } from './rules.js';
import type { JobDefinition, JobVariableDefinition } from './types.js';
import { mergeVariables, variablesToRecord } from './variables.js';

/** A job's `rules`, or its `only`/`except`, validated. */
export interface JobConditions {
  rules: Rule[] | null;
  only: RefPolicy | null;
  except: RefPolicy | null;
}

export function parseConditions(site: Site): JobConditions {
  return {
    rules: parseRules(site, JOB_RULE_KEYS),
    only: parsePolicy(site, 'only'),
    except: parsePolicy(site, 'except'),
  };
}

/** The variables `rules:if` sees for a job: global YAML, then job YAML, then the context's (highest). */
export function jobRuleEnv(base: RuleEnv, globals: Record<string, string>, def: JobDefinition): RuleEnv {
  const job = variablesToRecord(def.variables);
  return { ...base, vars: mergeVariables(globals, job, base.context.variables) };
}

/**
 * Applies rules (first match wins; none or `when: never` drops the job) or only/except to a job.
 * Returns the job as it will run, with its needs, or null when it is not part of this pipeline.
 */
export function applyConditions(
  spec: JobSpec,
  cond: JobConditions,
  env: RuleEnv,
): { def: JobDefinition; needs: NeedRef[] | null } | null {
  if (cond.rules === null) {
    return policiesAllow(cond.only, cond.except, env) ? { def: spec.def, needs: spec.needs } : null;
  }
  const rule = firstMatchingRule(cond.rules, env);
  if (!rule) return null;
  const when = rule.when ?? spec.def.when;
  if (when === 'never') return null;
  const def: JobDefinition = {
    ...spec.def,
    when,
    allowFailure: ruleAllowFailure(spec, rule),
    startInSeconds: when === 'delayed' ? (rule.startInSeconds ?? spec.def.startInSeconds) : null,
    variables: overrideVariables(spec.def.variables, rule.variables),
    interruptible: rule.interruptible ?? spec.def.interruptible,
  };
  return { def, needs: rule.needs ?? spec.needs };
}

/** GitLab: a job made manual by a rule does not allow failure unless told so. */
function ruleAllowFailure(spec: JobSpec, rule: Rule): boolean {
  if (rule.allowFailure !== null) return rule.allowFailure;
  if (spec.allowFailureGiven) return spec.def.allowFailure;
  if (rule.when === 'manual') return false;
  return spec.def.allowFailure;
}

/** `base` with `override`'s keys replaced in place and new ones appended. */
export function overrideVariables(
  base: JobVariableDefinition[],
  override: JobVariableDefinition[],
): JobVariableDefinition[] {
  const keys = new Set(override.map((v) => v.key));
  return [...base.filter((v) => !keys.has(v.key)), ...override];
}
