/** Trace decorations: gitlab-runner's section markers, stage titles and colours. */
import type { BuildStage, JobOutput } from '../../executors/executor.js';

export const ANSI = {
  boldCyan: '\x1b[36;1m',
  boldGreen: '\x1b[32;1m',
  boldRed: '\x1b[31;1m',
  yellow: '\x1b[0;33m',
  reset: '\x1b[0;m',
  clearLine: '\x1b[0K',
} as const;

export function stageTitle(stage: BuildStage, executor: string): string {
  switch (stage) {
    case 'prepare_executor':
      return `Preparing the "${executor}" executor`;
    case 'prepare_script':
      return 'Preparing environment';
    case 'get_sources':
      return 'Getting source from Git repository';
    case 'restore_cache':
      return 'Restoring cache';
    case 'download_artifacts':
      return 'Downloading artifacts';
    case 'step_script':
      return 'Executing "step_script" stage of the job script';
    case 'after_script':
      return 'Running after_script';
    case 'archive_cache':
      return 'Saving cache for successful job';
    case 'archive_cache_on_failure':
      return 'Saving cache for failed job';
    case 'upload_artifacts_on_success':
      return 'Uploading artifacts for successful job';
    case 'upload_artifacts_on_failure':
      return 'Uploading artifacts for failed job';
    case 'cleanup_file_variables':
      return 'Cleaning up project directory and file based variables';
  }
}

export function sectionStart(unixSeconds: number, name: string): string {
  return `section_start:${unixSeconds}:${name}\r${ANSI.clearLine}`;
}

export function sectionEnd(unixSeconds: number, name: string): string {
  return `section_end:${unixSeconds}:${name}\r${ANSI.clearLine}`;
}

/** Writes a stage's opening marker (when enabled) and bold cyan title. */
export function openStage(
  output: JobOutput,
  stage: BuildStage,
  executor: string,
  nowSeconds: number,
  sections: boolean,
): void {
  output.write(
    `${sections ? sectionStart(nowSeconds, stage) : ''}${ANSI.clearLine}${ANSI.boldCyan}${stageTitle(stage, executor)}${ANSI.reset}\n`,
  );
}

export function closeStage(
  output: JobOutput,
  stage: BuildStage,
  nowSeconds: number,
  sections: boolean,
): void {
  if (sections) output.write(sectionEnd(nowSeconds, stage));
}
