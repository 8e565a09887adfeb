/** The web UI's entry: session check, sign-in, navigation, the connection banner and the router. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { currentSession, onConnection, signOut, type Session } from './api.js';
import { matchRoute, queryOf, useHashRoute } from './hooks.js';
import { html } from './html.js';
import { FleetPage } from './pages/fleet.js';
import { JobPage } from './pages/job.js';
import { PipelinePage } from './pages/pipeline.js';
import { PipelinesPage } from './pages/pipelines.js';
import { ProjectsPage } from './pages/projects.js';
import { SignIn } from './pages/sign-in.js';

function ConnectionBanner() {
  const [lost, setLost] = useState(false);
  useEffect(() => onConnection(setLost), []);
  if (!lost) return null;
  return html`<div class="banner" role="alert">
    Connection to the coordinator lost — retrying every few seconds…
  </div>`;
}

function Page({ route }: { route: string }) {
  const query = queryOf(route);
  let m = matchRoute('/projects/:id/pipelines/:pid', route);
  if (m) return html`<${PipelinePage} projectId=${m['id']} pipelineId=${m['pid']} />`;
  m = matchRoute('/projects/:id/jobs/:jid', route);
  if (m) return html`<${JobPage} projectId=${m['id']} jobId=${m['jid']} />`;
  m = matchRoute('/projects/:id', route);
  if (m) return html`<${PipelinesPage} projectId=${m['id']} query=${query} />`;
  if (matchRoute('/fleet', route)) return html`<${FleetPage} />`;
  return html`<${ProjectsPage} query=${query} />`;
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const route = useHashRoute();
  useEffect(() => {
    currentSession().then(setSession, () => setSession(null));
  }, []);
  if (session === undefined) return html`<p class="loading">Loading…</p>`;
  if (session === null) return html`<${SignIn} onSignedIn=${setSession} />`;
  const out = async (): Promise<void> => {
    await signOut();
    setSession(null);
  };
  return html`<header class="top">
      <a class="brand" href="#/">Flotilla</a>
      <nav aria-label="Main">
        <a href="#/" aria-current=${route.startsWith('/projects') || route === '/' ? 'page' : undefined}
          >Projects</a
        >
        <a href="#/fleet" aria-current=${route === '/fleet' ? 'page' : undefined}>Fleet</a>
      </nav>
      <span class="who">${session.user.name} (@${session.user.username})</span>
      <button type="button" onClick=${out}>Sign out</button>
    </header>
    <${ConnectionBanner} />
    <main id="content"><${Page} route=${route} /></main>`;
}

const root = document.getElementById('app');
if (root) render(html`<${App} />`, root);
