/**
 * A job's `environment:` as GitLab resolves it: the name and url expanded with the job's variables
 * (unknown variables become empty), GitLab's environment slug, and the tier (`deployment_tier`, or
 * GitLab's guess from the name).
 */
import { createHash } from 'node:crypto';

import type { JobVariable } from '../../../api/runner-api.js';
import type { JobDefinition } from '../../../pipeline/types.js';
import { expandVariables } from '../../../pipeline/variables.js';
import type { EnvironmentTier } from '../../store/store.js';

export interface ResolvedEnvironment {
  name: string;
  slug: string;
  url: string | null;
  /** start, stop, prepare, verify or access. */
  action: string;
  tier: EnvironmentTier;
}

const SLUG_MAX = 24;
const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');
const SLUG_KEEP = 17;

/**
 * GitLab's `CI_ENVIRONMENT_SLUG`: lowercase letters, digits and single dashes, starting with a
 * letter, at most 24 characters; a name that had to change gets a 6-character suffix derived from
 * the name (so two names never share a slug by accident).
 */
export function environmentSlug(name: string, digestHex = sha256Hex): string {
  let slug = name.toLowerCase().replace(/[^a-z0-9]/g, '-');
  if (!/^[a-z]/.test(slug)) slug = `env-${slug}`;
  slug = slug.replace(/-+/g, '-');
  if (slug.length <= SLUG_MAX && slug === name) return slug.replace(/-$/, '');
  const digest = BigInt(`0x${digestHex(name)}`);
  const suffix = digest.toString(36).slice(-6);
  const head = slug.slice(0, SLUG_KEEP);
  return `${head}${head.endsWith('-') ? '' : '-'}${suffix}`;
}

const TIER_GUESSES: [RegExp, EnvironmentTier][] = [
  [/(dev|review|trunk)/i, 'development'],
  [/(test|tst|int|ac(ce|)pt|qa|qc|control|quality)/i, 'testing'],
  [/(st(a|)g|mod(e|)l|pre|demo|non)/i, 'staging'],
  [/(pr(o|)d|live)/i, 'production'],
];

/** GitLab's tier guess from an environment name, for environments without `deployment_tier`. */
export function guessTier(name: string): EnvironmentTier {
  return TIER_GUESSES.find(([re]) => re.test(name))?.[1] ?? 'other';
}

/** The job's environment with its variables expanded; null when it has none (or an empty name). */
export function resolveEnvironment(
  spec: JobDefinition['environment'],
  variables: readonly JobVariable[],
): ResolvedEnvironment | null {
  if (!spec) return null;
  const vars: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const v of variables) vars[v.key] = v.value;
  const name = expandVariables(spec.name, vars, { keepUnknown: false }).trim();
  if (name === '') return null;
  const url = spec.url === null ? null : expandVariables(spec.url, vars, { keepUnknown: false }).trim();
  return {
    name,
    slug: environmentSlug(name),
    url: url === '' ? null : url,
    action: spec.action,
    tier: (spec.deploymentTier as EnvironmentTier | null) ?? guessTier(name),
  };
}
