import { addError, type Diagnostics } from './diagnostics.js';
import { fetchLocal, fetchProject, fetchRemote, type Fetched } from './include-fetch.js';
import { LIMITS } from './limits.js';
import { deepMerge } from './merge.js';
import { copyPositions, keyPositionOf } from './positions.js';
import { isMap, newMap, stringOrArray, type RawMap } from './raw.js';
import { INCLUDE_RULE_KEYS, firstMatchingRule, parseRules, type RuleEnv } from './rules.js';
import type { SourcePosition } from './types.js';

/** Parses one file's text (header, inputs) into its configuration map; null after reporting errors. */
export type DocumentLoader = (text: string, file: string, inputs: Record<string, unknown>) => RawMap | null;

export interface IncludeState {
  env: RuleEnv;
  diag: Diagnostics;
  load: DocumentLoader;
  count: number;
  /** The files being included, outermost first (each with its inputs), to find cycles. */
  chain?: { file: string; key: string }[];
}

const ENTRY_KEYS = ['local', 'remote', 'project', 'file', 'ref', 'template', 'component', 'inputs', 'rules'];

/**
 * Replaces `include:` of `root` by the included files (each expanded recursively), deep-merged in
 * order, with `root`'s own keys merged last so the including file wins. GitLab's limits: 150
 * files per pipeline, 100 levels. A file that includes itself (directly or through others) with the
 * same inputs is an error naming the cycle (GitLab only reports the nesting limit).
 */
export async function expandIncludes(root: RawMap, state: IncludeState, depth: number): Promise<RawMap> {
  const raw = root['include'];
  if (raw === undefined || raw === null) return root;
  const pos = keyPositionOf(root, 'include');
  let merged = newMap();
  for (const entry of Array.isArray(raw) ? raw : [raw]) {
    for (const fetched of await fetchEntry(entry, state)) {
      const child = await includeOne(fetched, entry, state, depth, pos);
      if (child) merged = deepMerge(merged, child);
    }
  }
  const own = newMap();
  copyPositions(root, own, Object.keys(root));
  for (const [k, v] of Object.entries(root)) if (k !== 'include') own[k] = v;
  return deepMerge(merged, own);
}

async function includeOne(
  fetched: Fetched,
  entry: unknown,
  state: IncludeState,
  depth: number,
  pos?: SourcePosition,
): Promise<RawMap | null> {
  if (!fetched.ok) return report(state, fetched.message, pos);
  state.count += 1;
  if (state.count > LIMITS.maxIncludes)
    return report(state, `Maximum of ${LIMITS.maxIncludes} nested includes are allowed!`, pos);
  if (depth + 1 > LIMITS.maxIncludeDepth)
    return report(state, `Maximum of ${LIMITS.maxIncludeDepth} levels of nested includes are allowed!`, pos);
  const inputs = isMap(entry) && isMap(entry['inputs']) ? entry['inputs'] : {};
  const chain = (state.chain ??= []);
  const link = { file: fetched.file, key: `${fetched.file}\n${JSON.stringify(inputs)}` };
  if (chain.some((l) => l.key === link.key)) {
    const start = chain.findIndex((l) => l.key === link.key);
    const files = [...chain.slice(start), link].map((l) => l.file).join(' → ');
    return report(state, `Include \`${fetched.file}\` is circular: ${files}`, pos);
  }
  const loaded = state.load(fetched.text, fetched.file, inputs);
  if (!loaded) return null;
  chain.push(link);
  try {
    return await expandIncludes(loaded, state, depth + 1);
  } finally {
    chain.pop();
  }
}

function report(state: IncludeState, message: string, pos?: SourcePosition): null {
  addError(state.diag, 'include', message, pos);
  return null;
}

async function fetchEntry(entry: unknown, state: IncludeState): Promise<Fetched[]> {
  const { context } = state.env;
  if (typeof entry === 'string') {
    return /^https?:\/\//.test(entry) ? [await fetchRemote(context, entry)] : fetchLocal(context, entry);
  }
  if (!isMap(entry))
    return [
      { ok: false, message: 'include config should be a hash, a string or an array of hashes and strings' },
    ];
  const unknown = Object.keys(entry).filter((k) => !ENTRY_KEYS.includes(k));
  if (unknown.length > 0)
    return [{ ok: false, message: `include config contains unknown keys: ${unknown.join(', ')}` }];
  if (!includeRulesAllow(entry, state)) return [];
  return fetchByKind(entry, state);
}

async function fetchByKind(entry: RawMap, state: IncludeState): Promise<Fetched[]> {
  const { context } = state.env;
  if (typeof entry['local'] === 'string') return fetchLocal(context, entry['local']);
  if (typeof entry['remote'] === 'string') return [await fetchRemote(context, entry['remote'])];
  if (typeof entry['template'] === 'string') {
    return [
      {
        ok: false,
        message: `Template \`${entry['template']}\` is not supported here: copy it into the repository and include it with include:local`,
      },
    ];
  }
  if (typeof entry['component'] === 'string') {
    return [
      {
        ok: false,
        message: `Component \`${entry['component']}\` is not supported here: include its template file with include:project`,
      },
    ];
  }
  if (typeof entry['project'] === 'string') return fetchProjectFiles(entry, state);
  return [
    {
      ok: false,
      message: 'include config should contain one of: local, remote, project, template, component',
    },
  ];
}

async function fetchProjectFiles(entry: RawMap, state: IncludeState): Promise<Fetched[]> {
  const project = String(entry['project']);
  const files = stringOrArray(entry['file']);
  if (!files)
    return [
      {
        ok: false,
        message: `include config with project \`${project}\` needs a file (a string or an array of strings)`,
      },
    ];
  const ref = typeof entry['ref'] === 'string' ? entry['ref'] : null;
  const out: Fetched[] = [];
  for (const file of files) out.push(await fetchProject(state.env.context, project, ref, file));
  return out;
}

/** `include:rules`: only the context's variables are visible (not the file's own). */
function includeRulesAllow(entry: RawMap, state: IncludeState): boolean {
  const rules = parseRules({ diag: state.diag, path: 'include', map: entry }, INCLUDE_RULE_KEYS, [
    'always',
    'never',
  ]);
  if (rules === null) return true;
  const rule = firstMatchingRule(rules, state.env);
  return rule !== null && rule.when !== 'never';
}
