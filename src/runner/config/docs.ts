/**
 * Renders the config.toml reference (docs/config.md) from the schema, so the documentation can
 * never drift from what is accepted: one row per key with its default and description.
 */
import { z } from 'zod';

import { PROVIDERS } from '../../autoscaler/providers/registry.js';
import type { ConfigDocSection } from '../../executors/executor-config.js';
import { executorDocs, sharedTableDocs } from './executors.js';
import {
  configSchema,
  consulConfigSchema,
  runnerConfigSchema,
  UNSUPPORTED_GLOBAL_KEYS,
  UNSUPPORTED_RUNNER_KEYS,
} from './schema.js';

export interface KeyDoc {
  key: string;
  default: string;
  description: string;
}

function unwrap(type: z.ZodTypeAny): { inner: z.ZodTypeAny; fallback: unknown } {
  let inner = type;
  let fallback: unknown;
  for (;;) {
    if (inner instanceof z.ZodDefault) {
      fallback = (inner._def as { defaultValue: () => unknown }).defaultValue();
      inner = inner._def.innerType as z.ZodTypeAny;
    } else if (inner instanceof z.ZodOptional || inner instanceof z.ZodEffects) {
      inner = (inner instanceof z.ZodOptional ? inner._def.innerType : inner._def.schema) as z.ZodTypeAny;
    } else return { inner, fallback };
  }
}

export function describeKeys(shape: z.ZodRawShape, prefix = ''): KeyDoc[] {
  return Object.entries(shape).map(([key, type]) => {
    const { fallback } = unwrap(type);
    return {
      key: `${prefix}${key}`,
      default:
        fallback === undefined || (Array.isArray(fallback) && fallback.length === 0)
          ? ''
          : JSON.stringify(fallback),
      description: type.description ?? '',
    };
  });
}

function table(rows: KeyDoc[]): string {
  const lines = rows.map(
    (r) => `| \`${r.key}\` | ${r.default ? `\`${r.default}\`` : ''} | ${r.description} |`,
  );
  return ['| Key | Default | Description |', '|---|---|---|', ...lines].join('\n');
}

/** A section that an executor (or the cache) documents: heading, intro, its keys but the omitted ones. */
function section(s: ConfigDocSection): string[] {
  const omitted = new Set((s.omit ?? []).map((key) => `${s.prefix}${key}`));
  return [
    `## ${s.heading}`,
    '',
    ...(s.intro ? [s.intro, ''] : []),
    table(describeKeys(s.schema.shape, s.prefix).filter((d) => !omitted.has(d.key))),
    '',
  ];
}

/** The `plugin_config` keys of each built-in provider, as the provider documents them (`configDocs`). */
function providerSections(): string[] {
  return [...PROVIDERS.values()].flatMap((f) =>
    f.configDocs
      ? [
          `## \`[runners.autoscaler.plugin_config]\` keys of \`plugin = "${f.name}"\``,
          '',
          f.configDocs.intro,
          '',
          table(describeKeys(f.configDocs.schema.shape)),
          '',
        ]
      : [],
  );
}

export function renderConfigDocs(): string {
  return [
    '# Runner manager config.toml',
    '',
    "Generated from `src/runner/config/schema.ts` and the schemas the executors and the built-in providers own. Key names are gitlab-runner's.",
    '',
    '## Global keys',
    '',
    table(describeKeys(configSchema.shape).filter((d) => d.key !== 'runners')),
    '',
    '## `[[runners]]` keys',
    '',
    table(describeKeys(runnerConfigSchema.shape, 'runners.')),
    '',
    ...sharedTableDocs.flatMap(section),
    '## `[consul]` keys',
    '',
    table(describeKeys(consulConfigSchema.shape, 'consul.')),
    '',
    ...executorDocs.flatMap(section),
    ...providerSections(),
    '## Accepted but not supported yet (warned and ignored)',
    '',
    `Global: ${UNSUPPORTED_GLOBAL_KEYS.map((k) => `\`${k}\``).join(', ')}.`,
    '',
    `\`[[runners]]\`: ${UNSUPPORTED_RUNNER_KEYS.map((k) => `\`${k}\``).join(', ')}.`,
    '',
  ].join('\n');
}
