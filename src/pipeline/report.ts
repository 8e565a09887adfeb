import { addError, type Diagnostics } from './diagnostics.js';
import { keyPositionOf, positionOf } from './positions.js';
import type { RawMap } from './raw.js';

/** Where a keyword lives while it is validated: the collector, its colon path and its parent map. */
export interface Site {
  diag: Diagnostics;
  /** `jobs:build`, `default`, `workflow` ... */
  path: string;
  map: RawMap;
}

/** Reports `<path>:<key> <text>` at the key's position, GitLab style ("jobs:build:when config should ..."). */
export function keyError(site: Site, key: string, text: string): void {
  const path = joinKey(site.path, key);
  addError(site.diag, path, `${path} ${text}`, keyPositionOf(site.map, key));
}

/**
 * Reports `<path> <text>` ("jobs:build config contains unknown keys: foo") at the position of
 * `atKey` when given, else of the map itself.
 */
export function siteError(site: Site, text: string, atKey?: string): void {
  const position = atKey === undefined ? positionOf(site.map) : keyPositionOf(site.map, atKey);
  addError(site.diag, site.path, `${site.path} ${text}`, position);
}

export function childSite(site: Site, key: string, map: RawMap): Site {
  return { diag: site.diag, path: joinKey(site.path, key), map };
}

/** `jobs:build` + `script` → `jobs:build:script`; the root site has the empty path. */
export function joinKey(path: string, key: string): string {
  return path === '' ? key : `${path}:${key}`;
}

/** Reports keys of `site.map` outside `allowed` ("config contains unknown keys: a, b"). */
export function checkKeys(site: Site, allowed: readonly string[]): void {
  const unknown = Object.keys(site.map).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) siteError(site, `config contains unknown keys: ${unknown.join(', ')}`);
}
