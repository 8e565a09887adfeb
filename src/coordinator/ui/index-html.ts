/** The one HTML page of the web UI: an import map for the libraries, the stylesheet and the app. */
import { createHash } from 'node:crypto';

import { ASSETS_PREFIX } from './ui-assets.js';

export interface IndexHtml {
  html: string;
  /** base64 SHA-256 of the inline import map, for the Content-Security-Policy. */
  importMapHash: string;
}

const cache = new Map<string, IndexHtml>();

export function renderIndexHtml(importMap: Record<string, string>): IndexHtml {
  const json = JSON.stringify({ imports: importMap });
  const cached = cache.get(json);
  if (cached) return cached;
  const importMapHash = createHash('sha256').update(json).digest('base64');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flotilla</title>
<link rel="stylesheet" href="${ASSETS_PREFIX}app/style.css">
<script type="importmap">${json}</script>
<script type="module" src="${ASSETS_PREFIX}app/main.js"></script>
</head>
<body>
<div id="app"><p class="loading">Loading Flotilla…</p></div>
<noscript>The Flotilla web UI needs JavaScript. The REST API is at /api/v4.</noscript>
</body>
</html>
`;
  const page = { html, importMapHash };
  cache.set(json, page);
  return page;
}
