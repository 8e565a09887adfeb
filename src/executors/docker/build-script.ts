/**
 * The scripts of the build container. The container's command is gitlab-runner's shell detection
 * (bash when the image has it, else sh); the script itself arrives on stdin, wrapped in `{ ... }` so
 * the shell reads all of it before running anything (a command that reads stdin gets EOF, never the
 * script). Variables are exported by the script, so they never show in `docker inspect`.
 */
import type { JobVariable } from '../../api/runner-api.js';
import { commandEcho } from '../shell/bash-script.js';

const GREEN = '\x1b[32;1m';
const RESET = '\x1b[0;m';

const SHELLS = [
  '/usr/local/bin/bash',
  '/usr/bin/bash',
  '/bin/bash',
  '/usr/local/bin/sh',
  '/usr/bin/sh',
  '/bin/sh',
  '/busybox/sh',
];

/** `sh -c` text that execs the first shell found; the shell then reads the script on stdin. */
export const SHELL_DETECTION =
  SHELLS.map((s, i) => `${i === 0 ? 'if' : 'elif'} [ -x ${s} ]; then\n\texec ${s}\n`).join('') +
  'else\n\techo shell not found\n\texit 1\nfi\n';

/** POSIX single-quoting: any text, verbatim. */
export function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `export` lines for the variables (last definition wins); file variables become files in tmpDir. */
export function exportLines(variables: readonly JobVariable[], tmpDir: string): string[] {
  const last = new Map<string, JobVariable>();
  for (const v of variables) if (NAME.test(v.key)) last.set(v.key, v);
  const lines: string[] = [];
  for (const v of last.values()) {
    if (v.file) {
      const path = `${tmpDir}/${v.key}`;
      lines.push(`printf '%s' ${shQuote(v.value)} > ${shQuote(path)}`, `export ${v.key}=${shQuote(path)}`);
    } else {
      lines.push(`export ${v.key}=${shQuote(v.value)}`);
    }
  }
  return lines;
}

export interface ScriptInput {
  commands: readonly string[];
  variables: readonly JobVariable[];
  projectDir: string;
  tmpDir: string;
}

/** The whole stdin script of one stage: strict mode, variables, cd, then each command echoed. */
export function buildStageScript(input: ScriptInput): string {
  const lines = [
    '{',
    '(set -o pipefail) 2>/dev/null && set -o pipefail',
    'set -e',
    `mkdir -p ${shQuote(input.projectDir)} && mkdir -p ${shQuote(input.tmpDir)} && chmod 700 ${shQuote(input.tmpDir)}`,
    ...exportLines(input.variables, input.tmpDir),
    `cd ${shQuote(input.projectDir)}`,
  ];
  for (const command of input.commands) {
    if (command.trim() === '') continue;
    lines.push(`printf '%s\\n' ${shQuote(`${GREEN}$ ${commandEcho(command)}${RESET}`)}`);
    lines.push(command);
  }
  lines.push('}', '');
  return lines.join('\n');
}
