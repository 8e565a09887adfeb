/** The docker-autoscaler executor's config: the `[runners.autoscaler]` table (`autoscaler-config.ts`). */
import { executorConfig } from '../executors/executor-config.js';
import { autoscalerConfigSchema, predictiveSchema } from './autoscaler-config.js';

export const dockerAutoscalerExecutorConfig = executorConfig({
  name: 'docker-autoscaler',
  summary: 'in containers on machines that the providers of [runners.autoscaler] create',
  tables: {
    autoscaler: autoscalerConfigSchema
      .optional()
      .describe(
        '[runners.autoscaler]: providers, capacity and idle policy of the docker-autoscaler executor.',
      ),
  },
  requires: {
    key: 'autoscaler',
    message:
      'is required with executor = "docker-autoscaler": add a [runners.autoscaler] table with a plugin',
  },
  docs: [
    {
      heading: '`[runners.autoscaler.predictive]` keys (opt-in predictive idle pool)',
      intro: 'Durations take "30s", "10m", "1h" or seconds. See docs/operations.md (autoscaling decisions).',
      prefix: 'runners.autoscaler.predictive.',
      schema: predictiveSchema,
    },
  ],
});
