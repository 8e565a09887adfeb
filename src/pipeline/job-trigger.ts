import { checkKeys, childSite, keyError, type Site } from './report.js';
import { isMap, type RawMap } from './raw.js';
import type { TriggerDefinition } from './types.js';

const TRIGGER_KEYS = ['include', 'strategy', 'forward', 'project', 'branch'];

/** `trigger:` with a local `include` (child pipeline). Multi-project triggers are refused. */
export function parseTrigger(site: Site): TriggerDefinition | null {
  const raw = site.map['trigger'];
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string' || (isMap(raw) && raw['project'] !== undefined)) {
    keyError(site, 'trigger', 'multi-project pipelines (trigger:project) are not supported here');
    return null;
  }
  if (!isMap(raw)) {
    keyError(site, 'trigger', 'config should be a hash or a string');
    return null;
  }
  const t = childSite(site, 'trigger', raw);
  checkKeys(t, TRIGGER_KEYS);
  const include = triggerIncludes(t, raw['include']);
  const strategy = raw['strategy'];
  if (strategy !== undefined && strategy !== 'depend') keyError(t, 'strategy', 'config should be depend');
  return {
    include,
    strategy: strategy === 'depend' ? 'depend' : null,
    forward: parseForward(t, raw['forward']),
  };
}

function triggerIncludes(site: Site, raw: unknown): string[] {
  if (raw === undefined || raw === null) {
    keyError(site, 'include', "config can't be blank");
    return [];
  }
  const list = Array.isArray(raw) ? raw : [raw];
  const out: string[] = [];
  for (const item of list) {
    const path = typeof item === 'string' ? item : localOf(site, item);
    if (path !== null) out.push(path);
  }
  return out;
}

function localOf(site: Site, item: unknown): string | null {
  if (isMap(item) && typeof item['local'] === 'string' && Object.keys(item).length === 1)
    return item['local'];
  const kind = isMap(item) ? Object.keys(item).join(', ') : typeof item;
  keyError(site, 'include', `config only supports local child pipeline files here (got ${kind})`);
  return null;
}

function parseForward(site: Site, raw: unknown): TriggerDefinition['forward'] {
  const defaults = { yamlVariables: true, pipelineVariables: false };
  if (raw === undefined || raw === null) return defaults;
  if (!isMap(raw)) {
    keyError(site, 'forward', 'config should be a hash');
    return defaults;
  }
  checkKeys(childSite(site, 'forward', raw), ['yaml_variables', 'pipeline_variables']);
  return {
    yamlVariables: bool(raw, 'yaml_variables', true),
    pipelineVariables: bool(raw, 'pipeline_variables', false),
  };
}

function bool(map: RawMap, key: string, fallback: boolean): boolean {
  return typeof map[key] === 'boolean' ? (map[key] as boolean) : fallback;
}
