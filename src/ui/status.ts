/** A status as GitLab shows it: an icon shape, a word and a colour (never colour alone). */
import { html } from './html.js';

const ICONS: Record<string, string> = {
  success: '✔',
  failed: '✖',
  canceled: '⊘',
  canceling: '⊘',
  running: '◔',
  pending: '◌',
  created: '○',
  waiting_for_resource: '◌',
  preparing: '◌',
  manual: '⚙',
  scheduled: '⏲',
  skipped: '»',
};

export function StatusBadge({ status, allowFailure }: { status: string; allowFailure?: boolean }) {
  const warn = status === 'failed' && allowFailure;
  const label = warn ? 'failed (allowed to fail)' : status.replace(/_/g, ' ');
  return html`<span class=${`status status-${warn ? 'warning' : status}`} title=${label}
    ><span aria-hidden="true">${ICONS[status] ?? '•'}</span> ${label}</span
  >`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function ago(iso: string | null | undefined): string {
  if (!iso) return '–';
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.round(s)}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}
