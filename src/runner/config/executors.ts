/**
 * The executors a runner's config.toml knows, as they register their config: the executors part's
 * static table and the autoscaler's docker-autoscaler entry. The `[[runners]]` schema (`schema.ts`)
 * takes its `executor` values, the executors' tables, the tables they need and their docs/config.md
 * sections from here, so an executor's keys are declared once, next to the executor.
 */
import { z } from 'zod';

import { dockerAutoscalerExecutorConfig } from '../../autoscaler/executor-config.js';
import type { ConfigDocSection, ConfigTables } from '../../executors/executor-config.js';
import { EXECUTOR_CONFIGS, SHARED_EXECUTOR_TABLES } from '../../executors/config-registry.js';

export const EXECUTORS = [...EXECUTOR_CONFIGS, dockerAutoscalerExecutorConfig] as const;

export type ExecutorName = (typeof EXECUTORS)[number]['name'];

/** Executors this build can run, in registration order. */
export const SUPPORTED_EXECUTORS = EXECUTORS.map((e) => e.name) as unknown as readonly [
  ExecutorName,
  ...ExecutorName[],
];

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/** The tables of several owners as one shape; a key that two owners claim is a programming error. */
function mergeTables<T extends readonly ConfigTables[]>(owners: T): UnionToIntersection<T[number]['tables']> {
  const merged: z.ZodRawShape = {};
  for (const owner of owners) {
    for (const [key, schema] of Object.entries(owner.tables)) {
      if (key in merged) throw new Error(`[runners.${key}] is registered by two executors`);
      merged[key] = schema;
    }
  }
  return merged as UnionToIntersection<T[number]['tables']>;
}

/** The `[[runners]]` tables the executors own (`docker`, `autoscaler`), in registration order. */
export const executorTables = mergeTables(EXECUTORS);

/** The `[[runners]]` tables every executor reads (`cache`). */
export const sharedExecutorTables = mergeTables(SHARED_EXECUTOR_TABLES);

/** The description of the `executor` key: each executor's name and how it runs jobs. */
export const executorKeyDescription = `How jobs run: ${EXECUTORS.map((e) => `"${e.name}" ${e.summary}`).join('; ')}.`;

/** Adds an issue for each table that the entry's executor needs and the entry lacks. */
export function checkRequiredTables(
  entry: { readonly executor: string } & Readonly<Record<string, unknown>>,
  ctx: z.RefinementCtx,
): void {
  for (const e of EXECUTORS) {
    if (!('requires' in e) || !e.requires || entry.executor !== e.name) continue;
    if (entry[e.requires.key] === undefined)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [e.requires.key], message: e.requires.message });
  }
}

/** The docs/config.md sections of the shared tables and of the executors' tables. */
export const sharedTableDocs: readonly ConfigDocSection[] = SHARED_EXECUTOR_TABLES.flatMap((t) => t.docs);
export const executorDocs: readonly ConfigDocSection[] = EXECUTORS.flatMap((e) => e.docs ?? []);
