/**
 * Where the web UI's files come from: the page's own modules, built by `npm run build` into
 * `dist/ui`, and the front-end libraries (Preact, its hooks, htm) straight from the installed
 * packages, so nothing is fetched from outside at run time and there is no bundling step.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The URL prefix all UI files are served under. */
export const ASSETS_PREFIX = '/-/ui/';

/** Bare module names of the UI's libraries (import map entries). */
const VENDOR_MODULES = ['preact', 'preact/hooks', 'htm'] as const;

export interface UiAssets {
  /** Directory of the built UI modules (`dist/ui`), or null when it is not built. */
  appDir: string | null;
  /** Vendor file name served under `${ASSETS_PREFIX}vendor/` → absolute path. */
  vendor: Map<string, string>;
  /** Bare specifier → URL, for the page's import map. */
  importMap: Record<string, string>;
}

function packageRoot(from: string): string {
  let dir = path.dirname(from);
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return path.dirname(from);
    dir = up;
  }
  return dir;
}

export function locateUiAssets(): UiAssets {
  const here = fileURLToPath(import.meta.url);
  const appDir = path.join(packageRoot(here), 'dist', 'ui');
  const vendor = new Map<string, string>();
  const importMap: Record<string, string> = {};
  const require = createRequire(import.meta.url);
  for (const specifier of VENDOR_MODULES) {
    // The package's ES module build, next to whichever entry the resolver finds.
    const file = require.resolve(specifier).replace(/\.(m?js)$/, '.mjs');
    const name = `${specifier.replace('/', '-')}.mjs`;
    vendor.set(name, file);
    importMap[specifier] = `${ASSETS_PREFIX}vendor/${name}`;
  }
  return { appDir: existsSync(path.join(appDir, 'main.js')) ? appDir : null, vendor, importMap };
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

export function contentTypeOf(file: string): string | undefined {
  return TYPES[path.extname(file)];
}

/** The file under `root` that `relative` names, or null when it would leave `root`. */
export function fileInside(root: string, relative: string): string | null {
  const file = path.resolve(root, relative);
  return file.startsWith(root + path.sep) ? file : null;
}
