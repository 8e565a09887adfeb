import { describe, expect, it } from 'vitest';

import { describeKeys, renderConfigDocs } from './docs.js';
import { configSchema, runnerConfigSchema } from './schema.js';

describe('config docs', () => {
  it.each([
    ['global', describeKeys(configSchema.shape)],
    ['runners', describeKeys(runnerConfigSchema.shape)],
  ])('every %s key has a description', (_name, docs) => {
    expect(docs.filter((d) => d.description.trim() === '').map((d) => d.key)).toEqual([]);
  });

  it('renders defaults from the schema', () => {
    const text = renderConfigDocs();
    expect(text).toContain('| `concurrent` | `1` |');
    expect(text).toContain('| `runners.output_limit` | `4096` |');
    expect(text).toContain('`kubernetes`');
    expect(text).toContain('`runners.docker`');
  });
});

describe('docs/config.md', () => {
  it('is the rendering of the schema (regenerate with npm run docs:config)', async () => {
    const { readFile } = await import('node:fs/promises');
    const onDisk = await readFile(new URL('../../../docs/config.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderConfigDocs());
  });
});
