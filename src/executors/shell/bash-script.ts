/**
 * Generates the bash scripts the shell executor runs, like gitlab-runner's bash shell writer: strict
 * mode, then each command echoed in green as `$ cmd` before it runs.
 */

const GREEN = '\x1b[32;1m';
const RESET = '\x1b[0;m';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Variables that change how bash starts, reads or runs (`BASH_ENV` would be sourced twice, `TMOUT`
 * would end a wait, `CDPATH` would move a `cd`), or that bash ignores or refuses (read-only).
 */
const SHELL_SENSITIVE = new Set([
  'ENV',
  'SHELLOPTS',
  'POSIXLY_CORRECT',
  'TMOUT',
  'IFS',
  'PS4',
  'CDPATH',
  'GLOBIGNORE',
  'UID',
  'EUID',
  'PPID',
  'GROUPS',
]);

/**
 * Whether a bash process can set `key` by `export`, and pass it on, with the same effect as a
 * process started with it in its environment (the chained checkout's switch of environments, the
 * zygote's launches); a process whose environment has another name is started as it is.
 */
export function bashSettable(key: string): boolean {
  return IDENTIFIER.test(key) && !key.startsWith('BASH') && !SHELL_SENSITIVE.has(key);
}

/** Quotes any text as a bash ANSI-C string ($'...') that `echo` prints verbatim. */
export function bashQuote(text: string): string {
  let out = "$'";
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\' || ch === "'") out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + "'";
}

/** What is echoed for a command: multi-line commands show their first line only. */
export function commandEcho(command: string): string {
  const lines = command.split('\n');
  const first = lines[0] ?? '';
  return lines.filter((l) => l.trim() !== '').length > 1 ? `${first} # collapsed multi-line command` : first;
}

/** One bash script: `set -eo pipefail`, then each command echoed and run. */
export function buildBashScript(commands: readonly string[]): string {
  const lines = ['set -eo pipefail', 'set +o noclobber'];
  for (const command of commands) {
    if (command.trim() === '') continue;
    lines.push(`echo ${bashQuote(`${GREEN}$ ${commandEcho(command)}${RESET}`)}`);
    lines.push(command);
  }
  return lines.join('\n') + '\n';
}
