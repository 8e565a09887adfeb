/**
 * The executors of this part, registered statically: the config each one owns (a new executor adds
 * its `ExecutorConfig` here), and the `[runners.cache]` table they all read. The runner's config.toml
 * schema is composed from this table (and the autoscaler's docker-autoscaler entry).
 */
import { cacheConfigTables } from './cache/cache-config.js';
import { dockerExecutorConfig } from './docker/docker-executor-config.js';
import { shellExecutorConfig } from './shell/shell-config.js';

export const EXECUTOR_CONFIGS = [shellExecutorConfig, dockerExecutorConfig] as const;

/** `[[runners]]` tables that no one executor owns: the distributed cache. */
export const SHARED_EXECUTOR_TABLES = [cacheConfigTables] as const;
