import { checkKeys, childSite, keyError, type Site } from './report.js';
import { isMap, stringOrArray, type RawMap } from './raw.js';
import type { ImageDefinition } from './types.js';
import { parseVariables } from './variables.js';

const IMAGE_KEYS = ['name', 'entrypoint', 'docker', 'pull_policy'];
const SERVICE_KEYS = [...IMAGE_KEYS, 'command', 'alias', 'variables'];
const PULL_POLICIES = ['always', 'never', 'if-not-present'];

/** `image`: a string or `{name, entrypoint, docker: {user, platform}, pull_policy}`. */
export function parseImage(site: Site, key = 'image'): ImageDefinition | null {
  const raw = site.map[key];
  if (raw === undefined || raw === null) return null;
  return parseImageLike(site, key, raw, IMAGE_KEYS);
}

/** `services`: an array of strings or service hashes. */
export function parseServices(site: Site): ImageDefinition[] {
  const raw = site.map['services'];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    keyError(site, 'services', 'config should be a array');
    return [];
  }
  const out: ImageDefinition[] = [];
  raw.forEach((item, i) => {
    const holder = childSite(site, 'services', raw as unknown as RawMap);
    const parsed = parseImageLike(holder, String(i), item, SERVICE_KEYS);
    if (parsed) out.push(parsed);
  });
  return out;
}

function parseImageLike(site: Site, key: string, raw: unknown, allowed: string[]): ImageDefinition | null {
  if (typeof raw === 'string') return { name: raw };
  if (!isMap(raw)) {
    keyError(site, key, 'config should be a hash or a string');
    return null;
  }
  const inner = childSite(site, key, raw);
  checkKeys(inner, allowed);
  if (typeof raw['name'] !== 'string') {
    keyError(inner, 'name', 'config should be a string');
    return null;
  }
  return { name: raw['name'], ...optionalImageFields(inner, raw) };
}

function optionalImageFields(site: Site, raw: RawMap): Partial<ImageDefinition> {
  const out: Partial<ImageDefinition> = {};
  const entrypoint = listField(site, raw, 'entrypoint');
  if (entrypoint) out.entrypoint = entrypoint;
  const command = listField(site, raw, 'command');
  if (command) out.command = command;
  if (raw['alias'] !== undefined) {
    if (typeof raw['alias'] === 'string') out.alias = raw['alias'];
    else keyError(site, 'alias', 'config should be a string');
  }
  const pull = listField(site, raw, 'pull_policy');
  if (pull) {
    if (pull.every((p) => PULL_POLICIES.includes(p))) out.pullPolicy = pull;
    else keyError(site, 'pull_policy', `config contains invalid pull_policy: ${pull.join(', ')}`);
  }
  if (raw['variables'] !== undefined) out.variables = parseVariables(site);
  const docker = parseDocker(site, raw['docker']);
  if (docker) out.docker = docker;
  return out;
}

function listField(site: Site, raw: RawMap, key: string): string[] | null {
  if (raw[key] === undefined || raw[key] === null) return null;
  const list = stringOrArray(raw[key]);
  if (!list) keyError(site, key, 'config should be a string or an array of strings');
  return list;
}

function parseDocker(site: Site, raw: unknown): { user?: string; platform?: string } | null {
  if (raw === undefined || raw === null) return null;
  if (!isMap(raw)) {
    keyError(site, 'docker', 'config should be a hash');
    return null;
  }
  const docker = childSite(site, 'docker', raw);
  checkKeys(docker, ['user', 'platform']);
  const out: { user?: string; platform?: string } = {};
  for (const k of ['user', 'platform'] as const) {
    const v = raw[k];
    if (typeof v === 'string') out[k] = v;
    else if (v !== undefined) keyError(docker, k, 'config should be a string');
  }
  return out;
}
