import { ExpressionError, parseExpression, slashPattern, type Expr } from './expression.js';
import { evaluateExpression } from './expression-eval.js';
import { checkKeys, childSite, keyError, type Site } from './report.js';
import { isMap, stringOrArray } from './raw.js';
import { changesMatch, parsePathList, type RuleEnv } from './rules.js';

/** A validated `only:` or `except:` policy; absent parts are null. */
export interface RefPolicy {
  refs: string[] | null;
  variables: Expr[] | null;
  changes: string[] | null;
}

const POLICY_KEYS = ['refs', 'variables', 'changes', 'kubernetes'];
const SOURCE_KEYWORDS: Record<string, string[]> = {
  api: ['api'],
  web: ['web'],
  pushes: ['push'],
  schedules: ['schedule'],
  triggers: ['trigger'],
  pipelines: ['pipeline', 'parent_pipeline'],
  merge_requests: ['merge_request_event'],
  external: ['external'],
  external_pull_requests: ['external_pull_request_event'],
  chat: ['chat'],
};

/** `only`/`except` (`key`): a list of refs or `{refs, variables, changes}`. */
export function parsePolicy(site: Site, key: 'only' | 'except'): RefPolicy | null {
  const raw = site.map[key];
  if (raw === undefined || raw === null) return null;
  const refs = stringOrArray(raw);
  if (refs) return { refs: checkRefs(site, key, refs), variables: null, changes: null };
  if (!isMap(raw)) {
    keyError(site, key, 'config should be an array of strings or a hash');
    return null;
  }
  const inner = childSite(site, key, raw);
  checkKeys(inner, POLICY_KEYS);
  if (raw['kubernetes'] !== undefined) keyError(inner, 'kubernetes', 'is not supported by this coordinator');
  const hashRefs = raw['refs'] === undefined ? null : stringOrArray(raw['refs']);
  if (raw['refs'] !== undefined && !hashRefs) keyError(inner, 'refs', 'config should be an array of strings');
  return {
    refs: hashRefs && checkRefs(inner, 'refs', hashRefs),
    variables: parsePolicyVariables(inner),
    changes: parsePathList(inner, 'changes'),
  };
}

function checkRefs(site: Site, key: string, refs: string[]): string[] {
  for (const ref of refs) {
    try {
      slashPattern(ref);
    } catch (err) {
      if (err instanceof ExpressionError)
        keyError(site, key, `config contains an invalid regular expression: ${err.message}`);
      else throw err;
    }
  }
  return refs;
}

function parsePolicyVariables(site: Site): Expr[] | null {
  const raw = site.map['variables'];
  if (raw === undefined || raw === null) return null;
  const list = stringOrArray(raw);
  if (!list) {
    keyError(site, 'variables', 'config should be an array of strings');
    return null;
  }
  const out: Expr[] = [];
  for (const text of list) {
    try {
      out.push(parseExpression(text));
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      keyError(site, 'variables', `invalid expression syntax (${err.message})`);
    }
  }
  return out;
}

/** Whether the job runs: `only` (default `[branches, tags]`) must hold and `except` must not. */
export function policiesAllow(only: RefPolicy | null, except: RefPolicy | null, env: RuleEnv): boolean {
  const include = only ?? { refs: ['branches', 'tags'], variables: null, changes: null };
  if (!policyHolds(include, env, 'all')) return false;
  return except === null || !policyHolds(except, env, 'any');
}

/** `only` needs every given part to hold; `except` excludes when any given part holds. */
function policyHolds(policy: RefPolicy, env: RuleEnv, mode: 'all' | 'any'): boolean {
  const parts: boolean[] = [];
  if (policy.refs) parts.push(policy.refs.some((ref) => refMatches(ref, env)));
  if (policy.variables) parts.push(policy.variables.some((e) => evaluateExpression(e, env.vars)));
  if (policy.changes) parts.push(changesMatch(policy.changes, env));
  return mode === 'all' ? parts.every(Boolean) : parts.some(Boolean);
}

function refMatches(ref: string, env: RuleEnv): boolean {
  const { context } = env;
  const [name, project] = ref.split('@', 2) as [string, string | undefined];
  if (project !== undefined && project !== context.projectPath) return false;
  if (name === 'branches') return !context.tag && context.source !== 'merge_request_event';
  if (name === 'tags') return context.tag;
  const sources = SOURCE_KEYWORDS[name];
  if (sources) return sources.includes(context.source);
  const regex = slashPattern(name);
  return regex ? regex.test(context.ref) : name === context.ref;
}
