/**
 * The bash code of the zygote (zygote.ts): its loop, and what it sources for one launch.
 */
import { bashQuote, bashSettable } from './bash-script.js';
import type { LaunchRequest } from './launcher.js';

/** Variables the zygote's bash exports of its own (its environment is empty). */
const ZYGOTE_EXPORTS = 'PWD SHLVL OLDPWD';

/**
 * The zygote (bash 4 or later). Each line on stdin wakes it; the line's text does not matter: it
 * sources the request files it has not seen yet (a file appears whole: it is renamed into place),
 * each launch one fork of the zygote, and with job control (`set -m`) each command leads a process
 * group of its own. Then it reports each command that has ended: one that bash has reaped already
 * is no longer there for `kill -0`, and `wait` gives its stored status; what it left in its group
 * is killed. A command's end does not wake a `read` (bash runs no trap there): this process
 * wakes the zygote with an empty line when a command's output ends, which is mostly when it exits
 * (then it looks again 5, 10 and 15 ms later, for an exit bash has not reaped yet), and while
 * commands run it also wakes every 250 ms (a command whose background children keep its output
 * open). Request lines carry their id (a partial line read at a timeout only makes it look for new
 * files once more). The end of stdin (this process is gone or closed it) ends the zygote.
 */
export const ZYGOTE_SCRIPT = [
  '(( BASH_VERSINFO[0] >= 4 )) || exit 3',
  'set -m',
  'declare -A seen ids',
  'launch() {',
  '  local f id',
  '  for f in "$1"/*.req; do',
  '    id=${f##*/}; id=${id%.req}',
  '    [ -n "${seen[$id]}" ] || [ ! -f "$f" ] && continue',
  '    seen[$id]=1',
  '    . "$f"',
  '  done',
  '}',
  'reap() {',
  '  local p rc',
  '  for p in "${!ids[@]}"; do',
  '    kill -0 "$p" 2>/dev/null && continue',
  '    wait "$p"; rc=$?',
  `    printf 'exit %s %s\\n' "\${ids[$p]}" "$rc"`,
  `    unset 'ids[$p]'`,
  '    kill -9 -"$p" 2>/dev/null',
  '  done',
  '}',
  `printf 'ready\\n'`,
  'fast=0',
  'while :; do',
  '  if ((${#ids[@]} == 0)); then read -r line',
  '  elif ((fast > 0)); then ((fast--)); read -r -t 0.005 line',
  '  else read -r -t 0.25 line; fi',
  '  st=$?',
  '  ((st == 0 || st > 128)) || break',
  '  if ((st == 0)) && [ -z "$line" ]; then fast=3',
  '  elif [ -n "$line" ]; then launch "$1"; fi',
  '  reap',
  'done',
].join('\n');

/** The environment as bash `export` commands, or null when bash cannot reproduce it exactly. */
export function exportCommands(env: NodeJS.ProcessEnv): string | null {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || key === '_') continue;
    if (!bashSettable(key)) return null;
    if (value.includes('\0')) return null;
    // single quotes keep every byte but their own as it is (the common case, without a loop)
    parts.push(`${key}=${value.includes("'") ? bashQuote(value) : `'${value}'`}`);
  }
  return parts.length > 0 ? `export ${parts.join(' ')}` : ':';
}

/** The zygote's commands for one launch (see the protocol above). */
export function requestScript(
  id: number,
  address: string,
  token: string,
  request: LaunchRequest,
  exports: string,
): string {
  const command = [request.command, ...request.args].map(bashQuote).join(' ');
  const stdin = request.stdin === 'pipe' ? '<&3' : '</dev/null';
  const cwd = bashQuote(request.cwd);
  return [
    `if [ ! -d ${cwd} ]; then printf 'nocwd %s\\n' ${id}`,
    `elif ! exec 3<>/dev/tcp/${address}; then printf 'fail %s\\n' ${id}`,
    'else',
    `  printf '%s %s\\n' ${token} ${id} >&3`,
    `  ( cd -- ${cwd} || exit 127; unset ${ZYGOTE_EXPORTS}; ${exports}; exec -- ${command} ) ${stdin} >&3 2>&3 3>&- &`,
    `  ids[$!]=${id}`,
    `  printf 'pid %s %s\\n' ${id} $!`,
    '  exec 3>&-',
    'fi',
    '',
  ].join('\n');
}
