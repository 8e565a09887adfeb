/**
 * How an executor owns its part of config.toml (as gitlab-runner's and buildkite-agent's executors
 * do): its `executor` name, the `[runners.<key>]` tables it reads, and the sections of
 * docs/config.md that document them. Each executor declares one `ExecutorConfig` next to its code;
 * the tables are listed statically (`config-registry.ts`, and the autoscaler's own entry), and the
 * runner's config.toml schema is composed from them, so the runner's config never reaches into an
 * executor's internals.
 */
import type { z } from 'zod';

/** A section of docs/config.md: one table of keys, rendered from a schema's `.describe()`s. */
export interface ConfigDocSection {
  /** The heading's text, after `## `. */
  readonly heading: string;
  /** A paragraph under the heading. */
  readonly intro?: string;
  /** The keys' prefix in the table, e.g. `runners.cache.`. */
  readonly prefix: string;
  readonly schema: z.AnyZodObject;
  /** Keys documented in a section of their own. */
  readonly omit?: readonly string[];
}

/** Some `[[runners]]` keys (tables) and their documentation, owned by one part of the executors. */
export interface ConfigTables<Tables extends z.ZodRawShape = z.ZodRawShape> {
  /** The keys of a `[[runners]]` entry, each with its default or `.optional()` and `.describe()`. */
  readonly tables: Tables;
  /** Sections of docs/config.md beyond the `[[runners]]` rows (sub-tables documented key by key). */
  readonly docs?: readonly ConfigDocSection[];
}

/** What an executor registers: its `executor` value, the tables it owns and which one it needs. */
export interface ExecutorConfig<
  Name extends string = string,
  Tables extends z.ZodRawShape = z.ZodRawShape,
> extends ConfigTables<Tables> {
  /** The config.toml `executor` value. */
  readonly name: Name;
  /** How it runs jobs, for the `executor` key's description ("runs them as processes on this host"). */
  readonly summary: string;
  /** A table this executor cannot run without, and the message when it is missing. */
  readonly requires?: { readonly key: keyof Tables & string; readonly message: string };
}

/** Declares an executor's config, keeping its name and tables' types for the composed schema. */
export function executorConfig<const Name extends string, Tables extends z.ZodRawShape>(
  config: ExecutorConfig<Name, Tables>,
): ExecutorConfig<Name, Tables> {
  return config;
}
