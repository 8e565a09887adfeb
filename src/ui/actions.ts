/** Buttons that change something through the REST API and say what happened. */
import { useState } from 'preact/hooks';

import { post } from './api.js';
import { html } from './html.js';

export function ActionButton(props: { label: string; path: string; onDone?: () => void; danger?: boolean }) {
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const run = async (): Promise<void> => {
    setState({ busy: true, error: null });
    try {
      await post(props.path);
      setState({ busy: false, error: null });
      props.onDone?.();
    } catch (err) {
      setState({ busy: false, error: err instanceof Error ? err.message : String(err) });
    }
  };
  return html`<span class="action">
    <button type="button" class=${props.danger ? 'danger' : ''} disabled=${state.busy} onClick=${run}>
      ${props.label}
    </button>
    ${state.error ? html`<span class="error" role="alert">${state.error}</span>` : null}
  </span>`;
}
