import { runGit, type GitRunnerOptions } from './run-git.js';
import { KeptGitProcess } from './kept-git-process.js';

const DONE = 'commit: ok\n';

/**
 * One long-lived `git update-ref --stdin` for one repository: each write is its own transaction
 * (`start`, the updates, `commit`), so it is as atomic as `git update-ref`, without a process per
 * write. Writes go one at a time: a refused one ends the process (git's `fatal:` is the error)
 * and fails only itself; the next write starts a new process.
 */
export class RefWriter extends KeptGitProcess<true> {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly git: GitRunnerOptions,
    private readonly dir: string,
    idleMs: number,
    onExit: () => void,
  ) {
    super(git, dir, ['update-ref', '--stdin'], idleMs, onExit);
  }

  /** Sets `ref` to `sha` (a full object id). */
  update(ref: string, sha: string): Promise<void> {
    return this.transaction(`update ${ref} ${sha}\n`, [ref, sha]);
  }

  /** Removes `ref`; removing a missing ref is not an error. */
  delete(ref: string): Promise<void> {
    return this.transaction(`delete ${ref}\n`, ['-d', ref]);
  }

  /**
   * Queued behind the writes before it. When an earlier write ended the process, this one runs
   * as a plain `git update-ref` rather than failing with the earlier write's error.
   */
  private transaction(commands: string, plainArgs: readonly string[]): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.alive) await this.ask(`start\n${commands}commit\n`);
      else await runGit(this.git, this.dir, ['update-ref', ...plainArgs]);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  protected takeAnswer(): { answer: true } | undefined {
    const end = this.buffer.indexOf(DONE);
    if (end < 0) return undefined;
    this.buffer = this.buffer.subarray(end + DONE.length);
    return { answer: true };
  }
}
