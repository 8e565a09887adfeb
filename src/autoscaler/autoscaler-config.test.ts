import { describe, expect, it } from 'vitest';

import { configIssueLines } from '../shared/config-issues.js';
import { autoscalerConfigSchema } from './autoscaler-config.js';

function issues(predictive: Record<string, unknown>): string[] {
  const input = { plugin: 'fake', predictive: { enabled: true, ...predictive } };
  const r = autoscalerConfigSchema.safeParse(input);
  return r.success ? [] : configIssueLines(r.error, input);
}

describe('[runners.autoscaler.predictive] announced jobs', () => {
  it('takes "due" with its lead and keep in boot times, and announced_reserve', () => {
    expect(issues({ announced_jobs: 'due', announced_due_lead: 1.5, announced_due_keep: 4 })).toEqual([]);
    expect(issues({ announced_jobs: 'uncovered', announced_reserve: true })).toEqual([]);
    const c = autoscalerConfigSchema.parse({ plugin: 'fake', predictive: { announced_jobs: 'due' } });
    expect(c.predictive.announced_due_lead).toBeUndefined();
    expect(c.predictive.announced_reserve).toBe(false);
  });

  it('names the key that its mode does not use', () => {
    expect(issues({ announced_jobs: 'uncovered', announced_due_lead: 2 })).toEqual([
      '  predictive.announced_due_lead: announced_due_lead needs announced_jobs = "due" (announced_jobs is "uncovered") (got 2)',
    ]);
    expect(issues({ announced_due_keep: 8 })).toEqual([
      '  predictive.announced_due_keep: announced_due_keep needs announced_jobs = "due" (announced_jobs is "off") (got 8)',
    ]);
    expect(issues({ announced_reserve: true })).toEqual([
      '  predictive.announced_reserve: announced_reserve needs announced_jobs (it is "off")',
    ]);
  });

  it('refuses an unknown mode and a lead that is not positive, naming the key', () => {
    expect(issues({ announced_jobs: 'soon' })[0]).toMatch(
      /^ {2}predictive\.announced_jobs: .*'due'.* \(got "soon"\)$/,
    );
    expect(issues({ announced_jobs: 'due', announced_due_lead: 0 })[0]).toMatch(
      /^ {2}predictive\.announced_due_lead: /,
    );
  });
});
