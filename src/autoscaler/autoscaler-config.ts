/**
 * The `[runners.autoscaler]` table of config.toml (executor = "docker-autoscaler"), in
 * gitlab-runner's vocabulary (plugin, capacity_per_instance, max_use_count, max_instances,
 * instance_ready_command, delete_instances_on_shutdown, [[runners.autoscaler.policy]]), plus
 * Flotilla's keys for several providers with failover, the cleaners and the exporter.
 * Durations take "30s", "10m", "1h" or a number of seconds.
 */
import { z } from 'zod';

import { parseDuration } from '../shared/duration.js';

const duration = (
  fallback: string,
): z.ZodEffects<z.ZodDefault<z.ZodUnion<[z.ZodString, z.ZodNumber]>>, number> =>
  z
    .union([z.string(), z.number().min(0)])
    .default(fallback)
    .transform((v, ctx) => {
      try {
        return parseDuration(v);
      } catch (err) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
        return z.NEVER;
      }
    });

type DurationSchema = ReturnType<typeof duration>;

/**
 * Duration keys from one record of key → [default, description], to spread into a `z.object` shape
 * in the record's order (the order docs/config.md lists them in).
 */
function durations<K extends string>(
  keys: Record<K, readonly [fallback: string, description: string]>,
): Record<K, DurationSchema> {
  const entries = Object.entries<readonly [string, string]>(keys);
  return Object.fromEntries(
    entries.map(([key, [fallback, description]]) => [key, duration(fallback).describe(description)]),
  ) as Record<K, DurationSchema>;
}

export const policySchema = z
  .object({
    periods: z
      .array(z.string())
      .default(['* * * * *'])
      .describe('5-field cron expressions; the last matching policy wins.'),
    timezone: z.string().default('UTC').describe('IANA time zone of periods.'),
    idle_count: z.number().int().min(0).default(0).describe('Idle job slots to keep (slots, not machines).'),
    idle_time: duration('0s').describe(
      'Idle machines past this (since their last job, or creation) are removed unless needed for idle_count.',
    ),
    scale_factor: z
      .number()
      .min(0)
      .default(0)
      .describe('Idle slots as a multiple of in-use slots; idle_count is then the minimum.'),
    scale_factor_limit: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('The most idle slots scale_factor may ask for; 0 = no limit.'),
    preemptive_mode: z
      .boolean()
      .optional()
      .describe('Accepted for compatibility; jobs are always taken first and machines provisioned after.'),
  })
  .strict();

export const predictiveSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "Size the idle pool from measured demand (arrivals, boot times, job durations); the policies' idle_count/scale_factor stay a floor.",
      ),
    wait_percentile: z
      .number()
      .min(1)
      .max(100)
      .default(95)
      .describe('Share of jobs (percent) that should find a ready slot on arrival, not wait for a boot.'),
    ...durations({
      use_within: [
        '30m',
        'An idle slot is held only if measured arrivals are expected to use it within this time.',
      ],
      history: ['1h', 'How far back arrivals are measured.'],
      time_of_day_bucket: [
        '30m',
        'Arrivals of earlier days from this time of day to this far ahead count too (learned while the manager runs, kept across restarts beside the state file).',
      ],
    }),
    history_days: z.number().int().min(0).default(7).describe('Days of time-of-day history kept.'),
    initial_boot_time: duration('1m').describe(
      'Boot time assumed until a machine of the provider was measured.',
    ),
    boot_time_percentile: z
      .number()
      .min(1)
      .max(100)
      .default(90)
      .describe("Percentile of the provider's measured boot times taken as one boot time."),
    trend_window: duration('0s').describe(
      'Burst detection (off by default, see docs/benchmarks.md): when the jobs of this last span (e.g. "10m") exceed what the measured rate expects by more than one large burst, the pool follows the recent rate (up to 4×); 0 = off.',
    ),
    last_use_within: duration('0s').describe(
      'A slot is held only if a burst reached it within this last span, or on at least half of the earlier days in their coming time_of_day_bucket (e.g. "30m", as use_within): after a spike, its slots go once no burst has reached them for this long, not when the spike leaves history; 0 = off (off by default, see docs/benchmarks.md).',
    ),
    announced_jobs: z
      .enum(['off', 'uncovered', 'next', 'keep', 'due'])
      .default('off')
      .describe(
        'Idle slots held, on top of the forecast pool, for jobs the coordinator announces before they are pending (created jobs of running pipelines\' later stages; a Flotilla coordinator extension, absent from GitLab): "uncovered" = the next stages\' jobs that the machines of the current stages\' jobs will not serve, "due" = those expected to be pending soon (estimated from how long the current stage\'s jobs have run and the measured job durations; see announced_due_lead and announced_due_keep), "keep" = only keep a stage\'s freed machines for them, "next" = every next-stage job, "off" = none (the default; see docs/benchmarks.md).',
      ),
    announced_due_lead: z
      .number()
      .positive()
      .optional()
      .describe(
        'With announced_jobs = "due": machines are booted ahead for the uncovered announced jobs expected to be pending within this many boot times (default 2; see docs/benchmarks.md).',
      ),
    announced_due_keep: z
      .number()
      .positive()
      .optional()
      .describe(
        'With announced_jobs = "due": a machine freed by a stage\'s early job is kept for the uncovered jobs of its next stage expected within this many boot times (default 8).',
      ),
    announced_reserve: z
      .boolean()
      .default(false)
      .describe(
        "With announced_jobs: the slots the forecast expects running jobs to free within a boot leave out the machines their pipelines' next stages will take (off by default, see docs/benchmarks.md).",
      ),
    remove_surplus_at_floor: z
      .boolean()
      .default(false)
      .describe(
        'While the pool kept is no larger than the idle_count floor (the forecast asks for no more, e.g. at night), idle machines above the floor go without waiting idle_time, once their billing_minimum is used (off by default, see docs/benchmarks.md).',
      ),
    cancel_surplus_boots: z
      .boolean()
      .default(false)
      .describe(
        'Once no job waits and none arrived for one boot time, remove machines still booting beyond the kept slots (off by default, see docs/benchmarks.md).',
      ),
    cancel_surplus_boots_at_once: z
      .boolean()
      .default(false)
      .describe(
        'Remove machines still booting beyond the kept slots whenever no job waits, not only once a burst is over (off by default, see docs/benchmarks.md); a booting machine whose paid time left is longer than one boot and billing_minimum (an hourly bill) is kept.',
      ),
    ...durations({
      scale_in_delay: [
        '5m',
        'The idle pool shrinks only to the highest size wanted during this last span (hysteresis).',
      ],
      billing_minimum: [
        '1m',
        "The provider's minimum billed time; an idle machine is kept until it is used while jobs arrive.",
      ],
      billing_increment: [
        '1s',
        "The provider's billing step (1s per-second, 3600 hourly); idle machines go when a paid step ends.",
      ],
    }),
    boot_hedge: z
      .number()
      .min(0)
      .max(4)
      .default(0.5)
      .describe(
        'Extra machines created for jobs that wait for a boot, as a share of them: the jobs take the first machines ready (cutting the slow tail of boot times), the others join the idle pool.',
      ),
    boot_hedge_over: z
      .enum(['uncovered', 'waiting'])
      .default('uncovered')
      .describe(
        'Which jobs boot_hedge counts: "uncovered" (no ready or booting machine covers them) or "waiting" (every job waiting for a slot, also those a booting machine covers).',
      ),
    max_idle: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('The most idle slots the forecast may ask for; 0 = no limit.'),
  })
  .strict();

/** Keys of `announced_jobs` that its mode must use, named in the error. */
function checkAnnounced(p: z.output<typeof predictiveSchema>, ctx: z.RefinementCtx): void {
  for (const key of ['announced_due_lead', 'announced_due_keep'] as const)
    if (p[key] !== undefined && p.announced_jobs !== 'due')
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['predictive', key],
        message: `${key} needs announced_jobs = "due" (announced_jobs is "${p.announced_jobs}")`,
      });
  if (p.announced_reserve && p.announced_jobs === 'off')
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['predictive', 'announced_reserve'],
      message: 'announced_reserve needs announced_jobs (it is "off")',
    });
}

export const providerEntrySchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, - or _'),
    plugin: z.string().min(1),
    plugin_config: z.record(z.unknown()).default({}),
    backup: z
      .boolean()
      .default(false)
      .describe('Paused until the primary providers fail for failover_after.'),
  })
  .strict();

export const autoscalerConfigSchema = z
  .object({
    plugin: z.string().min(1).optional().describe('The provider (e.g. "local") when only one is used.'),
    plugin_config: z.record(z.unknown()).default({}).describe("The provider's own settings."),
    providers: z
      .array(providerEntrySchema)
      .default([])
      .describe('Several providers: primaries first, backups paused until failover.'),
    failover_after: duration('1m').describe(
      'How long the primaries must fail (errors or no capacity) before a backup is unpaused.',
    ),
    failover_on_capacity: z
      .boolean()
      .default(true)
      .describe(
        'A primary that answers "no capacity" counts as failed at once (not after failover_after): the machines it could not create are asked of the backups in the same call; the primary is tried again after its backoff (1 s doubling to 1 min).',
      ),
    capacity_per_instance: z.number().int().min(1).default(1).describe('Jobs one machine runs at a time.'),
    max_use_count: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Jobs a machine runs before it is removed; 0 = no limit.'),
    max_instances: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('The most machines in any state; 0 = no limit.'),
    instance_ready_command: z
      .string()
      .optional()
      .describe(
        'Run on the manager (sh -c) with DOCKER_HOST (and DOCKER_CERT_PATH) of a new machine; non-zero = not ready, removed.',
      ),
    ...durations({
      instance_ready_timeout: ['5m', 'A machine not ready within this is removed.'],
      instance_acquire_timeout: ['15m', 'How long a job waits for a machine slot.'],
      update_interval: ['1m', 'How often the provider is listed when nothing is expected.'],
      update_interval_when_expecting: [
        '2s',
        'How often it is listed while machines are being created or removed.',
      ],
      deletion_retry_interval: ['1m', 'Wait before retrying a failed removal.'],
    }),
    delete_instances_on_shutdown: z
      .boolean()
      .default(false)
      .describe('Remove all machines when the manager stops.'),
    state_file: z.string().optional().describe('Machine state file; default beside config.toml.'),
    scale_throttle: z
      .object({
        limit: z
          .number()
          .min(-1)
          .default(0)
          .describe('Machine creations per second per provider; 0 → 100, -1 = no limit.'),
        burst: z.number().int().min(0).default(0).describe('Creations at once; 0 → max_instances (or 10).'),
      })
      .strict()
      .default({}),
    cleaner: z
      .object({
        ...durations({
          interval: ['10m', 'How often the orphan and zero-id cleaners run inside the manager; 0 = never.'],
          orphan_min_age: ['15m', 'Machines at the provider but in no state, older than this, are removed.'],
          zero_id_max_age: ['15m', 'State entries without a provider id older than this are removed.'],
        }),
      })
      .strict()
      .default({}),
    policy: z.array(policySchema).default([]),
    predictive: predictiveSchema
      .default({})
      .describe('[runners.autoscaler.predictive]: the opt-in predictive idle pool (Flotilla).'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.plugin && c.providers.length === 0)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'set plugin, or list [[runners.autoscaler.providers]]',
      });
    checkAnnounced(c.predictive, ctx);
  })
  .describe('[runners.autoscaler]: machines for the docker-autoscaler executor.');

export type AutoscalerConfig = z.output<typeof autoscalerConfigSchema>;
export type AutoscalerConfigInput = z.input<typeof autoscalerConfigSchema>;
export type PolicyConfig = z.output<typeof policySchema>;
export type PredictiveConfig = z.output<typeof predictiveSchema>;
export type ProviderEntry = z.output<typeof providerEntrySchema>;

/** The provider list: `providers`, or the single `plugin` named after itself. PURE. */
export function providerEntries(config: AutoscalerConfig): ProviderEntry[] {
  if (config.providers.length > 0) return config.providers;
  return [
    {
      name: config.plugin ?? 'default',
      plugin: config.plugin ?? '',
      plugin_config: config.plugin_config,
      backup: false,
    },
  ];
}
