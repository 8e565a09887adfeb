/** Sign-in with a personal access token (the coordinator keeps a session cookie afterwards). */
import { useState } from 'preact/hooks';

import { signIn, type Session } from '../api.js';
import { html } from '../html.js';

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(token.trim()));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="sign-in">
    <h1>Sign in to Flotilla</h1>
    <form onSubmit=${submit}>
      <label for="token">Personal access token</label>
      <input
        id="token"
        name="token"
        type="password"
        autocomplete="current-password"
        required
        value=${token}
        onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)}
      />
      <p class="hint">
        The root token is in the file <code>flotilla up</code> prints; any token that works with the REST API
        (<code>PRIVATE-TOKEN</code>) works here.
      </p>
      ${error ? html`<p class="error" role="alert" id="sign-in-error">${error}</p>` : null}
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>
  </main>`;
}
