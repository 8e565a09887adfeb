import type { CommitInfo } from './git-host.js';

const IDENT = /^(.*) <([^>]*)> (\d+) [+-]\d{4}$/;

/**
 * A commit's details from its raw object (`cat-file commit`): the author's name and email, the
 * committer's date and the message, as `git log --format=%an %ae %cI %B` gives them. Null for a
 * commit with an `encoding` header other than UTF-8 (git log re-encodes those) or a header it
 * cannot read; the caller then asks git log.
 */
export function parseCommit(oid: string, raw: Buffer): CommitInfo | null {
  const text = raw.toString('utf8');
  const blank = text.indexOf('\n\n');
  const headerText = blank < 0 ? text : text.slice(0, blank);
  const message = blank < 0 ? '' : text.slice(blank + 2);
  let author: RegExpExecArray | null = null;
  let committer: RegExpExecArray | null = null;
  for (const line of headerText.split('\n')) {
    if (line.startsWith('author ')) author = IDENT.exec(line.slice('author '.length));
    else if (line.startsWith('committer ')) committer = IDENT.exec(line.slice('committer '.length));
    else if (line.startsWith('encoding ') && !/^encoding utf-?8$/i.test(line)) return null;
  }
  if (!author || !committer) return null;
  const when = new Date(Number(committer[3]) * 1000);
  return commitInfoOf(oid, author[1] ?? '', author[2] ?? '', when, message);
}

export function commitInfoOf(
  sha: string,
  authorName: string,
  authorEmail: string,
  committedAt: Date,
  body: string,
): CommitInfo {
  const message = body.replace(/\n+$/, '');
  return { sha, title: message.split('\n', 1)[0] ?? '', message, authorName, authorEmail, committedAt };
}
