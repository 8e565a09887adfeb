import { describe, expect, it } from 'vitest';

import { parseDbStats, perJob } from './db-stats.js';

const scrape = (listJobs: number, claim: number): string =>
  [
    '# TYPE flotilla_coordinator_db_query_duration_seconds histogram',
    'flotilla_coordinator_db_query_duration_seconds_bucket{le="0.001",operation="listJobs"} 3',
    `flotilla_coordinator_db_query_duration_seconds_sum{operation="listJobs"} ${listJobs / 1000}`,
    `flotilla_coordinator_db_query_duration_seconds_count{operation="listJobs"} ${listJobs}`,
    `flotilla_coordinator_db_query_duration_seconds_sum{operation="claimJob"} ${claim / 100}`,
    `flotilla_coordinator_db_query_duration_seconds_count{operation="claimJob"} ${claim}`,
  ].join('\n');

describe('store calls from the coordinator metrics', () => {
  it('reads count and sum per operation and reports the difference per job, busiest first', () => {
    const before = parseDbStats(scrape(10, 1));
    expect(before.get('listJobs')).toEqual({ count: 10, seconds: 0.01 });
    const after = parseDbStats(scrape(410, 101));
    expect(perJob(before, after, 100)).toEqual([
      'claimJob 1.00 calls/job, 10.00 ms/job',
      'listJobs 4.00 calls/job, 4.00 ms/job',
    ]);
  });
});
