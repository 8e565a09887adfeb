import { describe, expect, it } from 'vitest';

import type { JobVariable } from '../../../api/runner-api.js';
import { deploymentStatusOf } from './environment-jobs.js';
import { environmentSlug, guessTier, resolveEnvironment } from './environment-names.js';

// GitLab's own slug table, with its digest stubbed to 64 'a's (suffix q517sa).
const stub = (): string => 'a'.repeat(64);

describe('environmentSlug', () => {
  it.each([
    ['staging-12345678901234567', 'staging-123456789-q517sa'],
    ['9-staging-123456789012345', 'env-9-staging-123-q517sa'],
    ['staging-1234567890123456', 'staging-1234567890123456'],
    ['staging-1234567890123456-', 'staging-123456789-q517sa'],
    ['production', 'production'],
    ['PRODUCTION', 'production-q517sa'],
    ['review/1-foo', 'review-1-foo-q517sa'],
    ['1-foo', 'env-1-foo-q517sa'],
    ['1/foo', 'env-1-foo-q517sa'],
    ['foo-', 'foo'],
    ['foo--bar', 'foo-bar-q517sa'],
    ['foo**bar', 'foo-bar-q517sa'],
    ['*-foo', 'env-foo-q517sa'],
    ['staging-12345678-', 'staging-12345678'],
  ])('%s → %s', (name, slug) => {
    expect(environmentSlug(name, stub)).toBe(slug);
  });

  it('derives the suffix from the name (sha256, base 36)', () => {
    const a = environmentSlug('review/feature-a');
    expect(a).toMatch(/^review-feature-a-[0-9a-z]{6}$/);
    expect(environmentSlug('review/feature-a')).toBe(a);
    expect(environmentSlug('review/feature-b')).not.toBe(a);
  });
});

describe('guessTier', () => {
  it.each([
    ['production', 'production'],
    ['prd', 'production'],
    ['live', 'production'],
    ['staging', 'staging'],
    ['pre-prod', 'staging'],
    ['review/feature', 'development'],
    ['dev', 'development'],
    ['qa', 'testing'],
    ['test', 'testing'],
    ['sandbox', 'other'],
  ] as const)('%s → %s', (name, tier) => {
    expect(guessTier(name)).toBe(tier);
  });
});

describe('resolveEnvironment', () => {
  const vars: JobVariable[] = [
    { key: 'CI_COMMIT_REF_SLUG', value: 'feat-1', public: true, masked: false },
    { key: 'DOMAIN', value: 'example.test', public: true, masked: false },
  ];

  it('expands name and url with the job variables; unknown ones become empty', () => {
    const env = resolveEnvironment(
      {
        name: 'review/$CI_COMMIT_REF_SLUG',
        url: 'https://${CI_COMMIT_REF_SLUG}.$DOMAIN$NOPE',
        action: 'start',
        deploymentTier: null,
        onStop: null,
        autoStopInSeconds: null,
      },
      vars,
    );
    expect(env).toMatchObject({
      name: 'review/feat-1',
      url: 'https://feat-1.example.test',
      action: 'start',
      tier: 'development',
    });
    expect(env?.slug).toMatch(/^review-feat-1-[0-9a-z]{6}$/);
  });

  const spec = (name: string, url: string | null, action: string, deploymentTier: string | null = null) => ({
    name,
    url,
    action,
    deploymentTier,
    onStop: null,
    autoStopInSeconds: null,
  });

  it('gives nothing for no environment or a name that expands to nothing', () => {
    expect(resolveEnvironment(null, vars)).toBeNull();
    expect(resolveEnvironment(spec('$NOPE', null, 'start'), vars)).toBeNull();
    expect(resolveEnvironment(spec('prod', '$NOPE', 'stop'), vars)?.url).toBeNull();
  });

  it('takes deployment_tier over the guess from the name', () => {
    expect(resolveEnvironment(spec('review/x', null, 'start'), vars)?.tier).toBe('development');
    expect(resolveEnvironment(spec('review/x', null, 'start', 'staging'), vars)?.tier).toBe('staging');
  });
});

describe('deploymentStatusOf', () => {
  it.each([
    ['created', 'created'],
    ['pending', 'created'],
    ['manual', 'blocked'],
    ['running', 'running'],
    ['canceling', 'running'],
    ['success', 'success'],
    ['failed', 'failed'],
    ['canceled', 'canceled'],
    ['skipped', 'skipped'],
  ] as const)('job %s → deployment %s', (job, deployment) => {
    expect(deploymentStatusOf(job)).toBe(deployment);
  });
});
