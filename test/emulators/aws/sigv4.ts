/**
 * Verifies AWS Signature Version 4 on a request, as AWS does (test part only): the credential
 * scope (access key, date, region, service), the signed headers and the signature over the
 * canonical request, so a test proves the provider's credential chain found the right secret.
 */
import { createHash, createHmac } from 'node:crypto';
import type http from 'node:http';

export interface SigV4Key {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
}

const hash = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string): Buffer =>
  createHmac('sha256', key).update(s, 'utf8').digest();
const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

function header(headers: http.IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return (Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ');
}

function canonicalQuery(query: URLSearchParams): string {
  const enc = (s: string): string =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return [...query.entries()]
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .sort()
    .join('&');
}

/** Null when the request is signed with `key`, else why not (the message AWS would give). */
export function sigV4Problem(
  r: {
    method: string;
    path: string;
    query: URLSearchParams;
    headers: http.IncomingHttpHeaders;
    text: string;
  },
  key: SigV4Key,
): string | null {
  const m = AUTH.exec(header(r.headers, 'authorization'));
  if (!m)
    return 'Authorization header requires AWS4-HMAC-SHA256 with Credential, SignedHeaders and Signature.';
  const [, akid, date, region, service, signedHeaders = '', signature] = m;
  if (akid !== key.accessKeyId) return 'AWS was not able to validate the provided access credentials';
  if (region !== key.region || service !== key.service)
    return `Credential should be scoped to a valid region.`;
  const amzDate = header(r.headers, 'x-amz-date');
  if (!amzDate.startsWith(date ?? '-')) return 'Date in Credential scope does not match the X-Amz-Date.';
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return 'The host header must be signed.';
  const canonical = [
    r.method,
    r.path,
    canonicalQuery(r.query),
    ...names.map((n) => `${n}:${header(r.headers, n)}`),
    '',
    signedHeaders,
    hash(r.text),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hash(canonical)].join('\n');
  let k: Buffer | string = `AWS4${key.secretAccessKey}`;
  for (const part of [date ?? '', region ?? '', service ?? '', 'aws4_request']) k = hmac(k, part);
  const expected = hmac(k, toSign).toString('hex');
  return expected === signature
    ? null
    : 'The request signature we calculated does not match the signature you provided.';
}
