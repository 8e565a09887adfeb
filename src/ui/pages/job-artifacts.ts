/**
 * A job's artifacts archive to browse: its files (from the coordinator's entry list,
 * `GET .../artifacts_entries`), each downloadable on its own (`GET .../artifacts/<path>`, as
 * GitLab), and the whole archive.
 */
import { useState } from 'preact/hooks';

import { get } from '../api.js';
import { html } from '../html.js';
import { listTable } from '../list-table.js';

interface Entry {
  path: string;
  size: number;
  directory: boolean;
  symlink: boolean;
}

function size(bytes: number): string {
  return bytes < 1024
    ? `${bytes} B`
    : bytes < 1048576
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1048576).toFixed(1)} MiB`;
}

export function JobArtifacts({ path, archiveSize }: { path: string; archiveSize: number }) {
  const [entries, setEntries] = useState<{ entries: Entry[]; truncated: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = (open: boolean): void => {
    if (!open || entries) return;
    get<{ entries: Entry[]; truncated: boolean }>(`${path}/artifacts_entries`).then(
      setEntries,
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
  };
  const files = entries?.entries.filter((e) => !e.directory) ?? [];
  const href = (p: string): string =>
    `/api/v4${path}/artifacts/${p.split('/').map(encodeURIComponent).join('/')}`;
  return html`<section class="artifacts" aria-label="Artifacts">
    <h2>Artifacts</h2>
    <p><a href=${`/api/v4${path}/artifacts`} download>Download the archive (${size(archiveSize)})</a></p>
    <details onToggle=${(e: Event) => load((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>Browse the files</summary>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${entries === null && !error ? html`<p class="loading">Loading…</p>` : null}
      ${entries && files.length === 0 ? html`<p>The archive has no files.</p>` : null}
      ${
        files.length > 0
          ? listTable(
              'Artifact files',
              ['File', 'Size'],
              files.map(
                (f) =>
                  html`<tr key=${f.path}>
                    <td>
                      ${f.symlink ? html`${f.path} (link)` : html`<a href=${href(f.path)} download>${f.path}</a>`}
                    </td>
                    <td>${size(f.size)}</td>
                  </tr>`,
              ),
            )
          : null
      }
      ${entries?.truncated ? html`<p class="hint">Only the first 10,000 entries are listed.</p>` : null}
    </details>
  </section>`;
}
