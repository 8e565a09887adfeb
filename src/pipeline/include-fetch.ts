import { LIMITS } from './limits.js';
import { compileGlob } from './glob.js';
import type { PipelineContext } from './types.js';

/** The outcome of reading one include: its text, or a GitLab-worded error message. */
export type Fetched = { ok: true; file: string; text: string } | { ok: false; message: string };

const YAML_EXT = /\.ya?ml$/;

/** `include:local`, globs included (files sorted, only .yml/.yaml). */
export async function fetchLocal(context: PipelineContext, path: string): Promise<Fetched[]> {
  const clean = path.replace(/^\//, '');
  if (!clean.includes('*') && !YAML_EXT.test(clean))
    return [{ ok: false, message: `Included file \`${path}\` does not have YAML extension!` }];
  if (!context.readFile)
    return [{ ok: false, message: `Local file \`${path}\` cannot be read: no repository access here` }];
  const paths = clean.includes('*') ? await globFiles(context, clean) : [clean];
  if (paths.length === 0) return [{ ok: false, message: `Local file \`${path}\` does not exist!` }];
  const out: Fetched[] = [];
  for (const p of paths) {
    const text = await context.readFile(p);
    out.push(
      text === null
        ? { ok: false, message: `Local file \`${p}\` does not exist!` }
        : { ok: true, file: p, text },
    );
  }
  return out;
}

async function globFiles(context: PipelineContext, glob: string): Promise<string[]> {
  const files = context.listFiles ? await context.listFiles() : [];
  const matcher = compileGlob(glob);
  return files.filter((f) => YAML_EXT.test(f) && matcher.test(f)).sort();
}

/** `include:remote`: http(s) only, with a timeout. */
export async function fetchRemote(context: PipelineContext, url: string): Promise<Fetched> {
  if (!/^https?:\/\/[^\s]+$/.test(url))
    return { ok: false, message: `Remote file \`${url}\` does not have a valid address!` };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timeout')), LIMITS.remoteTimeoutMs);
  try {
    const text = await (context.fetchRemote ?? defaultFetch)(url, controller.signal);
    return { ok: true, file: url, text };
  } catch (err) {
    const reason = controller.signal.aborted ? 'a timeout' : err instanceof Error ? err.message : 'an';
    return { ok: false, message: `Remote file \`${url}\` could not be fetched because of ${reason} error!` };
  } finally {
    clearTimeout(timer);
  }
}

async function defaultFetch(url: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(url, { signal, redirect: 'follow' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const text = await response.text();
  if (Buffer.byteLength(text) > LIMITS.maxFileBytes) throw new Error('a size');
  return text;
}

/** `include:project` through the coordinator's callback. */
export async function fetchProject(
  context: PipelineContext,
  project: string,
  ref: string | null,
  file: string,
): Promise<Fetched> {
  if (!context.readProjectFile) {
    return {
      ok: false,
      message: `Project \`${project}\` file \`${file}\` cannot be included: other projects are not reachable here`,
    };
  }
  const text = await context.readProjectFile(project, ref, file.replace(/^\//, ''));
  if (text === null) return { ok: false, message: `Project \`${project}\` file \`${file}\` does not exist!` };
  return { ok: true, file: `${project}/${file.replace(/^\//, '')}`, text };
}
