/**
 * The boot script that `tls = true` puts in front of a cloud machine's user data (or GCE startup
 * script): it writes the manager's CA and the machine's issuing CA to `/etc/flotilla/engine-tls`,
 * signs a server certificate for the machine's addresses (every global IPv4 address of its
 * interfaces, plus the public one from the cloud's metadata server when the manager uses public
 * addresses), deletes the issuing key, then runs the user's own script, which starts dockerd with
 * those files (docs/providers/). `FLOTILLA_ROOT` (unset on a real machine) prefixes every path. PURE.
 */
import type { MachineIssuer } from './machine-tls.js';

/** Where the engine's TLS files land on the machine. */
export const ENGINE_TLS_DIR = '/etc/flotilla/engine-tls';

const PEM_END = 'FLOTILLA_PEM';
const USER_END = 'FLOTILLA_USER_DATA';

export interface TlsBoot {
  /** The manager's CA certificate: the engine accepts clients it signed. */
  caPem: string;
  issuer: MachineIssuer;
  /** The machine id, the certificate's common name. */
  machine: string;
  /** A shell command printing the machine's public IPv4 address (cloud metadata), when the manager uses it. */
  publicIpCommand?: string | undefined;
}

function heredoc(file: string, text: string, end: string): string {
  if (text.split('\n').includes(end)) throw new Error(`a boot script part contains the line ${end}`);
  return `cat >"${file}" <<'${end}'\n${text.replace(/\n?$/, '\n')}${end}\n`;
}

/** The shell lines that make the engine's TLS files. */
export function tlsBootLines(b: TlsBoot): string {
  const pub = b.publicIpCommand ? ` $( (${b.publicIpCommand}) 2>/dev/null || true)` : '';
  return [
    `# Flotilla: the Docker Engine's TLS files of ${b.machine}, made at boot (see the provider's docs)`,
    'umask 077',
    `TLS="\${FLOTILLA_ROOT:-}${ENGINE_TLS_DIR}"`,
    'mkdir -p "$TLS"',
    heredoc('$TLS/ca.pem', b.caPem, PEM_END) +
      heredoc('$TLS/issuer.pem', b.issuer.cert, PEM_END) +
      heredoc('$TLS/issuer-key.pem', b.issuer.key, PEM_END).trimEnd(),
    'SAN="IP:127.0.0.1"',
    `for ip in $(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1)${pub}; do SAN="$SAN,IP:$ip"; done`,
    `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${b.machine}" -keyout "$TLS/server-key.pem" -out "$TLS/server.csr" 2>/dev/null`,
    `printf 'subjectAltName=%s\\nextendedKeyUsage=serverAuth\\n' "$SAN" >"$TLS/server.ext"`,
    'openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/issuer.pem" -CAkey "$TLS/issuer-key.pem" -CAcreateserial -days 825 -extfile "$TLS/server.ext" -out "$TLS/leaf.pem" 2>/dev/null',
    'cat "$TLS/leaf.pem" "$TLS/issuer.pem" >"$TLS/server-cert.pem"',
    'rm -f "$TLS/issuer-key.pem" "$TLS/issuer.srl" "$TLS/server.csr" "$TLS/server.ext" "$TLS/leaf.pem"',
    'umask 022',
  ].join('\n');
}

/** The whole user data: the TLS lines, then `user` (a shell script of its own) run by its interpreter. */
export function tlsUserData(b: TlsBoot, user: string | undefined): string {
  const lines = ['#!/bin/sh', 'set -eu', tlsBootLines(b)];
  if (user) {
    lines.push(
      heredoc('${FLOTILLA_ROOT:-}/etc/flotilla/user-data', user, USER_END).trimEnd(),
      'chmod 700 "${FLOTILLA_ROOT:-}/etc/flotilla/user-data"',
      'exec "${FLOTILLA_ROOT:-}/etc/flotilla/user-data"',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Why `user` cannot follow the TLS lines (named by `key`), or null. PURE. */
export function tlsUserDataProblem(user: string | undefined, key: string): string | null {
  if (user === undefined || user.startsWith('#!')) return null;
  return `${key} must be a shell script starting with "#!" when tls = true (the provider puts the engine's TLS lines in front of it; a #cloud-config cannot follow them), got "${user.split('\n')[0] ?? ''}"`;
}
