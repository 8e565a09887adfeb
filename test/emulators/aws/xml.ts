/**
 * EC2 Query API answers (test part only): XML in EC2's 2016-11-15 namespace, the instance item as
 * DescribeInstances and RunInstances give it, and EC2's error document.
 */
import { randomUUID } from 'node:crypto';

import type { EmuAnswer } from '../http-server.js';

export const EC2_VERSION = '2016-11-15';
const NS = `http://ec2.amazonaws.com/doc/${EC2_VERSION}/`;

/** An XML node: text, a list of children, or absent (left out). */
export type Xml = string | number | boolean | undefined | XmlEl[];
export interface XmlEl {
  n: string;
  v: Xml;
}

export const el = (n: string, v: Xml): XmlEl => ({ n, v });
/** An EC2 list: `<name><item>...</item>...</name>`. */
export const set = (n: string, items: XmlEl[][]): XmlEl =>
  el(
    n,
    items.map((i) => el('item', i)),
  );

const escape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function render(e: XmlEl): string {
  if (e.v === undefined) return '';
  if (Array.isArray(e.v))
    return e.v.length === 0 ? `<${e.n}/>` : `<${e.n}>${e.v.map(render).join('')}</${e.n}>`;
  return `<${e.n}>${escape(String(e.v))}</${e.n}>`;
}

const XML_TYPE = { 'content-type': 'text/xml;charset=UTF-8' };

/** A successful `<ActionResponse>` with its requestId. */
export function ec2Answer(action: string, children: XmlEl[]): EmuAnswer {
  const body = [el('requestId', randomUUID()), ...children].map(render).join('');
  return {
    status: 200,
    text: `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}">${body}</${action}Response>`,
    headers: XML_TYPE,
  };
}

/** EC2's error document. */
export function ec2Error(status: number, code: string, message: string): EmuAnswer {
  const errors = el('Errors', [el('Error', [el('Code', code), el('Message', message)])]);
  return {
    status,
    text: `<?xml version="1.0" encoding="UTF-8"?>\n${render(el('Response', [errors, el('RequestID', randomUUID())]))}`,
    headers: XML_TYPE,
  };
}

/** The HTTP status EC2 answers an error code with. PURE. */
export function errorStatus(code: string): number {
  if (code === 'RequestLimitExceeded' || code === 'Unavailable') return 503;
  if (code === 'InternalError' || code === 'InsufficientInstanceCapacity') return 500;
  if (code === 'AuthFailure') return 401;
  return 400;
}

export const STATE_CODES = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};
export type Ec2State = keyof typeof STATE_CODES;

export const stateEl = (n: string, s: Ec2State): XmlEl => el(n, [el('code', STATE_CODES[s]), el('name', s)]);
