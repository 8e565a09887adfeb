import { describe, expect, it } from 'vitest';

import type { JobStatus } from '../../../api/job-status.js';
import { compositeStatus, type StatusItem } from './composite-status.js';

const s = (status: JobStatus, allowFailure = false): StatusItem => ({ status, allowFailure });

describe('compositeStatus', () => {
  it.each<[string, StatusItem[], string | null]>([
    ['empty', [], null],
    ['all success', [s('success'), s('success')], 'success'],
    ['success and skipped', [s('success'), s('skipped')], 'success'],
    ['only skipped', [s('skipped')], 'skipped'],
    ['allowed failure counts as ignored', [s('success'), s('failed', true)], 'success'],
    ['failure', [s('success'), s('failed')], 'failed'],
    ['running wins over success', [s('success'), s('running')], 'running'],
    ['pending and created', [s('pending'), s('created')], 'pending'],
    ['success then created is running', [s('success'), s('created')], 'running'],
    ['blocking manual', [s('success'), s('manual')], 'manual'],
    ['optional manual is ignored', [s('success'), s('manual', true)], 'success'],
    ['canceled', [s('success'), s('canceled')], 'canceled'],
    ['canceled and failed', [s('canceled'), s('failed')], 'failed'],
    ['canceling', [s('success'), s('canceling')], 'canceling'],
    ['scheduled', [s('success'), s('scheduled')], 'scheduled'],
    ['only created', [s('created')], 'created'],
  ])('%s', (_name, items, expected) => {
    expect(compositeStatus(items)).toBe(expected);
  });

  it('treats a failure with an allowed exit code as ignored', () => {
    const item: StatusItem = {
      status: 'failed',
      allowFailure: false,
      exitCode: 3,
      allowFailureExitCodes: [3],
    };
    expect(compositeStatus([s('success'), item])).toBe('success');
    expect(compositeStatus([s('success'), { ...item, exitCode: 4 }])).toBe('failed');
  });
});
