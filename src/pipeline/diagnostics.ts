import { LIMITS } from './limits.js';
import type { PipelineError, SourcePosition } from './types.js';

/** Collects every error and warning of one compilation, so several are reported together. */
export interface Diagnostics {
  errors: PipelineError[];
  warnings: string[];
  /** Errors dropped after LIMITS.maxErrors. */
  dropped: number;
}

export function createDiagnostics(): Diagnostics {
  return { errors: [], warnings: [], dropped: 0 };
}

export function addError(diag: Diagnostics, path: string, message: string, position?: SourcePosition): void {
  if (diag.errors.length >= LIMITS.maxErrors) {
    diag.dropped += 1;
    return;
  }
  const duplicate = diag.errors.some((e) => e.path === path && e.message === message);
  if (duplicate) return;
  diag.errors.push(position ? { path, message, position } : { path, message });
}

export function addWarning(diag: Diagnostics, message: string): void {
  if (!diag.warnings.includes(message)) diag.warnings.push(message);
}

export function hasErrors(diag: Diagnostics): boolean {
  return diag.errors.length > 0;
}

/** The errors, plus a summary line when some were dropped. */
export function finalErrors(diag: Diagnostics): PipelineError[] {
  if (diag.dropped === 0) return diag.errors;
  // placed where the last reported error is: the dropped ones come after it
  const position = diag.errors.at(-1)?.position;
  const summary = `${diag.dropped} more errors were not reported`;
  return [
    ...diag.errors,
    position ? { path: 'root', message: summary, position } : { path: 'root', message: summary },
  ];
}

/** A path's GitLab-style prefix text: `jobs:build:script config ...`. */
export function joinPath(...parts: (string | number)[]): string {
  return parts.map(String).join(':');
}
