import type { GitRunnerOptions } from './run-git.js';
import { KeptGitProcess } from './kept-git-process.js';

export interface ObjectInfo {
  oid: string;
  type: 'blob' | 'tree' | 'commit' | 'tag';
  size: number;
}

export interface ObjectContents {
  info: ObjectInfo;
  content: Buffer;
}

type Answer = ObjectContents | ObjectInfo | null;

/**
 * One long-lived `git cat-file --batch-command` for one repository: object lookups and reads
 * without a process per call. git resolves refs, loose objects and new packs again on every
 * command, so pushes made by other processes are seen.
 */
export class CatFileBatch extends KeptGitProcess<Answer> {
  private readonly kinds: Array<'info' | 'contents'> = [];

  constructor(runner: GitRunnerOptions, dir: string, idleMs: number, onExit: () => void) {
    super(runner, dir, ['cat-file', '--batch-command'], idleMs, onExit);
  }

  /** `<oid> <type> <size>` of what `spec` names, or null when it names nothing. */
  info(spec: string): Promise<ObjectInfo | null> {
    return this.command('info', spec) as Promise<ObjectInfo | null>;
  }

  /** The object `spec` names with its bytes, or null when it names nothing. */
  contents(spec: string): Promise<ObjectContents | null> {
    return this.command('contents', spec) as Promise<ObjectContents | null>;
  }

  private command(kind: 'info' | 'contents', spec: string): Promise<Answer> {
    if (spec.includes('\n')) return Promise.resolve(null);
    const answer = this.ask(`${kind} ${spec}\n`);
    if (this.alive) this.kinds.push(kind);
    return answer;
  }

  protected takeAnswer(): { answer: Answer } | undefined {
    const eol = this.buffer.indexOf(10);
    const kind = this.kinds[0];
    if (kind === undefined || eol < 0) return undefined;
    const info = parseHeader(this.buffer.subarray(0, eol).toString('utf8'));
    if (info === null || kind === 'info') {
      this.buffer = this.buffer.subarray(eol + 1);
      this.kinds.shift();
      return { answer: info };
    }
    const end = eol + 1 + info.size;
    if (this.buffer.length < end + 1) return undefined;
    const content = Buffer.from(this.buffer.subarray(eol + 1, end));
    this.buffer = this.buffer.subarray(end + 1);
    this.kinds.shift();
    return { answer: { info, content } };
  }
}

/** `<oid> <type> <size>`, or `<spec> missing` / `<spec> ambiguous` → null. */
export function parseHeader(line: string): ObjectInfo | null {
  const [oid, type, size, extra] = line.split(' ');
  if (oid === undefined || size === undefined || extra !== undefined || !isObjectType(type)) return null;
  if (!/^[0-9a-f]{40,64}$/.test(oid) || !/^\d+$/.test(size)) return null;
  return { oid, type, size: Number(size) };
}

function isObjectType(type: string | undefined): type is ObjectInfo['type'] {
  return type === 'blob' || type === 'tree' || type === 'commit' || type === 'tag';
}
