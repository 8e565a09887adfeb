/** What openssl itself says of the certificates the providers make. */
import { execFileSync } from 'node:child_process';

/**
 * `openssl verify` of `certFiles` against `caFile`, with `untrusted` intermediates: its output, a
 * `<file>: OK` line per certificate. Throws when one does not verify.
 */
export function opensslVerify(caFile: string, certFiles: string[], untrusted?: string): string {
  const intermediates = untrusted === undefined ? [] : ['-untrusted', untrusted];
  return execFileSync('openssl', ['verify', '-CAfile', caFile, ...intermediates, ...certFiles]).toString();
}

/** A PEM certificate file as `openssl x509 -text` shows it (subject, alternative names...). */
export function certificateText(certFile: string): string {
  return execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-text']).toString();
}
