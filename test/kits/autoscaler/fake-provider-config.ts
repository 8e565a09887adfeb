/** The `plugin_config` of the `fake` provider: a simulated cloud for unit tests and the benchmark. */
import { z } from 'zod';

export const fakeProviderConfigSchema = z
  .object({
    boot_seconds_min: z.number().min(0).default(20).describe('Shortest boot time.'),
    boot_seconds_max: z
      .number()
      .min(0)
      .default(40)
      .describe('Longest boot time (uniform between min and max).'),
    delete_seconds: z.number().min(0).default(5).describe('Time a machine stays `deleting`.'),
    max_size: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Quota: the most machines (0 = no limit); beyond it increase fails with `capacity`.'),
    requests_per_minute: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('API rate limit (0 = none); beyond it calls fail with `rate_limit`.'),
    fail_boot_ratio: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe('Share of machines that never become ready (`timeout`).'),
    docker_host_prefix: z
      .string()
      .default('tcp://fake-')
      .describe('dockerHost of connect info: prefix + id + :2375.'),
  })
  .strict();

export type FakeProviderConfig = z.output<typeof fakeProviderConfigSchema>;
