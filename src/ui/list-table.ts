/** The pages' list tables: `<table class="list">` with one header row of column names over the rows. */
import { html } from './html.js';

export function listTable(label: string | undefined, columns: readonly string[], rows: unknown) {
  return html`<table class="list" aria-label=${label}>
    <thead>
      <tr>
        ${columns.map((c) => html`<th key=${c} scope="col">${c}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}
