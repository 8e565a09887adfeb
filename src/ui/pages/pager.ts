/** Previous / next page links that keep the other filters of the URL. */
import { html } from '../html.js';

export function Pager(props: {
  base: string;
  page: number;
  totalPages: number | null;
  params: URLSearchParams;
}) {
  const { base, page, totalPages, params } = props;
  const link = (p: number): string => {
    const q = new URLSearchParams(params);
    q.set('page', String(p));
    return `${base}?${q.toString()}`;
  };
  const last = totalPages ?? page;
  if (last <= 1) return null;
  return html`<nav class="pager" aria-label="Pages">
    ${page > 1 ? html`<a href=${link(page - 1)} rel="prev">← Previous</a>` : null}
    <span>Page ${page} of ${last}</span>
    ${page < last ? html`<a href=${link(page + 1)} rel="next">Next →</a>` : null}
  </nav>`;
}
