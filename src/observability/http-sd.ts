/**
 * Prometheus HTTP service discovery (`http_sd_configs`): the JSON both the coordinator and the
 * runner manager serve, `[{ "targets": ["host:port"], "labels": { ... } }]`, and the address
 * helpers that turn a bound listen address into one a scraper can reach.
 *
 * Labels starting with `__meta_` are only visible to relabeling (deploy/prometheus/prometheus.yml
 * maps `__meta_flotilla_component` to `job`); the others are attached to every scraped series.
 */

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** The `Content-Type` Prometheus expects from an HTTP SD endpoint. */
export const HTTP_SD_CONTENT_TYPE = 'application/json; charset=utf-8';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Splits `host:port` / `[v6]:port`; the host comes back without brackets. */
export function splitHostPort(address: string): { host: string; port: string } {
  const i = address.lastIndexOf(':');
  if (i < 0) return { host: address, port: '' };
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: address.slice(i + 1) };
}

/** `host:port`, bracketing IPv6 hosts. */
export function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True for the wildcard addresses (`0.0.0.0`, `::`, empty) a scraper cannot connect to. */
export function isUnspecifiedHost(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** `::ffff:10.0.0.5` → `10.0.0.5` (what Node reports for IPv4 peers on a dual-stack socket). */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice('::ffff:'.length) : ip;
}

/**
 * The address to publish for a server bound to `bound`: the bound host, or `fallbackHost` (a bare
 * host: the peer IP the coordinator saw, or the host of the Host header a scraper used) when bound
 * to a wildcard. Null when neither gives a usable address.
 */
export function reachableAddress(bound: string, fallbackHost: string | undefined): string | null {
  const { host, port } = splitHostPort(bound);
  if (port === '' || !/^\d+$/.test(port)) return null;
  if (!isUnspecifiedHost(host)) return joinHostPort(host, port);
  if (!fallbackHost) return null;
  return joinHostPort(plainIp(fallbackHost), port);
}

/** The host part of an HTTP Host header (`example:9252` → `example`, `[::1]:80` → `::1`). */
export function hostOfHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  if (header.startsWith('[')) return header.slice(1, header.indexOf(']'));
  const i = header.lastIndexOf(':');
  return i < 0 ? header : header.slice(0, i);
}

/** Drops label names Prometheus would reject and non-string values. */
export function cleanLabels(labels: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) {
    if (LABEL_NAME.test(name) && typeof value === 'string') out[name] = value;
  }
  return out;
}
