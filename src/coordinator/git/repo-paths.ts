import { join } from 'node:path';
import { FlotillaError } from '../../shared/errors.js';

/** One path segment of a namespace or project: GitLab-like, never `.`/`..`, never hidden or an option. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const MAX_SEGMENTS = 20;
const MAX_FULL_PATH = 255;
/** What `git http-backend` may be asked for below a repository (smart and dumb protocol paths). */
const PATH_INFO = /^(\/[A-Za-z0-9_.-]+)+$/;
/** A full object name: SHA-1 (40) or SHA-256 (64) hex. */
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * Checks a `namespace/project` path (nested groups allowed) and returns it unchanged.
 * Throws FLO_ERR_BAD_REQUEST; the path is joined under the repository root, so this is the only
 * thing that keeps a caller inside it.
 */
export function validateFullPath(fullPath: string): string {
  const segments = fullPath.split('/');
  const ok =
    fullPath.length <= MAX_FULL_PATH &&
    segments.length >= 2 &&
    segments.length <= MAX_SEGMENTS &&
    segments.every((s) => SEGMENT.test(s) && !s.endsWith('.git') && !s.includes('..'));
  if (!ok) {
    throw new FlotillaError(
      'FLO_ERR_BAD_REQUEST',
      `"${fullPath}" is not a repository path; use namespace/project with letters, digits, "_", "-" and "."`,
      { details: { fullPath } },
    );
  }
  return fullPath;
}

/** `<root>/<fullPath>.git`, after validation. */
export function repositoryDir(root: string, fullPath: string): string {
  return join(root, `${validateFullPath(fullPath)}.git`);
}

/** Checks the part of a git URL after `<project>.git`, e.g. `/info/refs`. Throws FLO_ERR_BAD_REQUEST. */
export function validatePathInfo(pathInfo: string): string {
  if (!PATH_INFO.test(pathInfo) || pathInfo.split('/').some((s) => s === '.' || s === '..')) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', `"${pathInfo}" is not a git HTTP path`, {
      details: { pathInfo },
    });
  }
  return pathInfo;
}

export function isObjectId(value: string): boolean {
  return OBJECT_ID.test(value);
}

/** Throws FLO_ERR_BAD_REQUEST unless `value` is a full lowercase hex object name. */
export function validateObjectId(value: string, what = 'sha'): string {
  if (!isObjectId(value)) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', `${what} "${value}" is not a full commit sha`, {
      details: { [what]: value },
    });
  }
  return value;
}

/** True for `0000…` (git's "no object" in push updates). */
export function isZeroId(value: string): boolean {
  return /^0+$/.test(value);
}

export function zeroIdLike(objectId: string): string {
  return '0'.repeat(objectId.length);
}

/**
 * A conservative check for branch and tag names given by callers. It refuses everything git's
 * revision syntax would interpret (`~`, `^`, `:`, `@{`, `..`), spaces, control characters and a
 * leading `-`, so a name can never turn into another revision or an option.
 */
export function isPlainRefName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 255 &&
    /^[A-Za-z0-9_./+@-]+$/.test(name) &&
    !name.startsWith('-') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.') &&
    !name.endsWith('.lock') &&
    !name.includes('..') &&
    !name.includes('//') &&
    !name.includes('@{') &&
    name !== '@'
  );
}

/**
 * A branch name that `isPlainRefName` accepts and `git check-ref-format refs/heads/<name>` would:
 * on top of the plain check, git refuses a path component that starts with `.` or ends with
 * `.lock` (its rules 1; the others are already outside the plain names). No git process.
 */
export function isValidBranchName(name: string): boolean {
  return (
    isPlainRefName(name) && name.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'))
  );
}

/** Normalises a file path inside a tree (`./a//b` → `a/b`); null if it leaves the tree or is empty. */
export function treePath(path: string): string | null {
  if (/[\0\n\r]/.test(path)) return null;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return null;
  return parts.join('/');
}
