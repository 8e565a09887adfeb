/** The shell executor's config: no table of its own (it reads the `[[runners]]` keys every executor reads). */
import { executorConfig } from '../executor-config.js';

export const shellExecutorConfig = executorConfig({
  name: 'shell',
  summary: 'runs them as processes on this host',
  tables: {},
});
