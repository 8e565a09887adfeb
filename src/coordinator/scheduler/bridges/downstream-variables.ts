/**
 * The variables a bridge (trigger job) passes to its child pipeline, as GitLab computes them: its
 * YAML variables (the job's `variables` plus the inherited global ones) when
 * `trigger:forward:yaml_variables` is true (default), then the parent's pipeline variables (API,
 * web, trigger, schedule) when `trigger:forward:pipeline_variables` is true (default false).
 * Values are expanded against the bridge's scope, except `expand: false` ones; a later key wins.
 * They become the child's pipeline variables, so they take precedence there as "trigger variables".
 */
import { expandVariables, mergeVariables, variablesToRecord } from '../../../pipeline/variables.js';
import type { JobVariableDefinition, TriggerDefinition } from '../../../pipeline/types.js';
import type { PipelineVariable } from '../../store/store.js';

export interface DownstreamInput {
  forward: TriggerDefinition['forward'];
  /** The parent's global `variables`. */
  globals: JobVariableDefinition[];
  /** `inherit:variables` of the bridge: the global keys it inherits; undefined: all of them. */
  inherited?: string[] | undefined;
  /** The bridge's own `variables`. */
  jobVariables: JobVariableDefinition[];
  /** The parent pipeline's variables (given when it was created). */
  pipelineVariables: PipelineVariable[];
  /** What `$NAME` expands to: predefined, project and pipeline variables of the parent. */
  scope: Record<string, string>;
}

function lastWins(list: PipelineVariable[]): PipelineVariable[] {
  const byKey = new Map<string, PipelineVariable>();
  for (const v of list) {
    byKey.delete(v.key);
    byKey.set(v.key, v);
  }
  return [...byKey.values()];
}

export function downstreamVariables(input: DownstreamInput): PipelineVariable[] {
  const inherited = input.inherited;
  const globals = inherited ? input.globals.filter((g) => inherited.includes(g.key)) : input.globals;
  const yaml = [...globals, ...input.jobVariables];
  const scope = mergeVariables(
    input.scope,
    variablesToRecord(input.pipelineVariables.map((v) => ({ ...v, expand: true }))),
    variablesToRecord(yaml),
  );
  const out: PipelineVariable[] = [];
  if (input.forward.yamlVariables) {
    for (const v of yaml) {
      const value = v.expand ? expandVariables(v.value, scope) : v.value;
      out.push({ key: v.key, value, variableType: 'env_var' });
    }
  }
  if (input.forward.pipelineVariables) {
    for (const v of input.pipelineVariables) {
      out.push({ ...v, value: expandVariables(v.value, scope) });
    }
  }
  return lastWins(out);
}
