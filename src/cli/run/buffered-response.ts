/**
 * A `Response` for an answer whose body is already one buffer in this process (the in-process
 * fetch's Runner API and REST answers). Node's `Response` wraps a body in a web stream, and
 * reading it back (`json()`, `text()`) goes through that stream: for the small JSON answers of a
 * local run, most of the cost of a call. Here `text()`, `json()` and `arrayBuffer()` decode the
 * buffer directly (UTF-8, a leading BOM dropped, as fetch does; once only, as fetch allows);
 * `body`, `blob()`, `formData()` and `clone()` fall back to a full `Response` made on first use.
 *
 * The answer and its headers (`AnswerHeaders`) are plain objects with the members of `Response`
 * and `Headers`, not instances of them: Node 20 loads its fetch implementation (undici, ~18 ms of
 * CPU) on the first use of either global, and a local run whose jobs upload no artifacts then
 * never loads it. The fallback above still makes a real `Response` when a caller wants a stream.
 */

import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

import { NODE_BODY } from '../../shared/node-body.js';

const decoder = new TextDecoder();

/** What a caller may pass as the answer's headers: a record, pairs, or anything with `forEach`. */
export type AnswerHeadersInit =
  | Record<string, string | readonly string[]>
  | Iterable<readonly [string, string]>
  | { forEach(cb: (value: string, key: string) => void): void };

export interface AnswerInit {
  status?: number;
  statusText?: string;
  headers?: AnswerHeadersInit | AnswerHeaders;
}

/**
 * `Headers` for answers: names case-insensitive, several values of one name joined by `, ` (each
 * `set-cookie` kept apart, as `getSetCookie()` gives them), iteration in name order. Read-only in
 * use; `append`, `set` and `delete` are there for callers that adjust an answer's headers.
 */
export class AnswerHeaders {
  readonly #values = new Map<string, string[]>();

  constructor(init?: AnswerHeadersInit) {
    if (init === undefined || init === null) return;
    if (typeof (init as { forEach?: unknown }).forEach === 'function' && !Array.isArray(init)) {
      (init as { forEach(cb: (value: string, key: string) => void): void }).forEach((value, key) =>
        this.append(key, value),
      );
    } else if (Symbol.iterator in Object(init)) {
      for (const [key, value] of init as Iterable<readonly [string, string]>) this.append(key, value);
    } else {
      for (const [key, value] of Object.entries(init as Record<string, string | readonly string[]>)) {
        for (const one of typeof value === 'string' ? [value] : value) this.append(key, one);
      }
    }
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const list = this.#values.get(key);
    const v = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    if (list) list.push(v);
    else this.#values.set(key, [v]);
  }

  set(name: string, value: string): void {
    this.#values.delete(name.toLowerCase());
    this.append(name, value);
  }

  delete(name: string): void {
    this.#values.delete(name.toLowerCase());
  }

  get(name: string): string | null {
    return this.#values.get(name.toLowerCase())?.join(', ') ?? null;
  }

  getSetCookie(): string[] {
    return [...(this.#values.get('set-cookie') ?? [])];
  }

  has(name: string): boolean {
    return this.#values.has(name.toLowerCase());
  }

  *entries(): IterableIterator<[string, string]> {
    for (const key of [...this.#values.keys()].sort()) {
      const list = this.#values.get(key) ?? [];
      if (key === 'set-cookie') for (const one of list) yield [key, one];
      else yield [key, list.join(', ')];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  forEach(cb: (value: string, key: string, parent: AnswerHeaders) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) cb.call(thisArg, value, key, this);
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }
}

/** The members of an answer that do not depend on its body. */
function answerHead(status: number, statusText: string, headers: AnswerHeaders) {
  return {
    type: 'default',
    url: '',
    redirected: false,
    status,
    statusText,
    ok: status >= 200 && status <= 299,
    headers,
  } as const;
}

/** The members a real `Response` answers (made on first use): blob, formData, clone. */
function fromComplete(complete: () => Response) {
  return {
    blob: () => complete().blob(),
    formData: () => complete().formData(),
    clone: () => complete().clone(),
    [Symbol.toStringTag]: 'Response',
  };
}

/** The answer, as `fetch` gives it; `bytes` null for a status without a body. */
export function bufferedResponse(bytes: Buffer | null, init: AnswerInit): Response {
  const status = init.status ?? 200;
  const statusText = init.statusText ?? '';
  const headers = init.headers instanceof AnswerHeaders ? init.headers : new AnswerHeaders(init.headers);
  let used = false;
  let full: Response | null = null;
  const complete = (): Response =>
    (full ??= new Response(used ? null : bytes, { status, statusText, headers: [...headers] }));
  const take = (): Buffer | null => {
    if (full) return null;
    if (used) throw new TypeError('Body is unusable: Body has already been read');
    used = true;
    return bytes ?? Buffer.alloc(0);
  };
  const text = async (): Promise<string> => {
    const own = take();
    return own ? decoder.decode(own) : complete().text();
  };
  const answer = {
    ...answerHead(status, statusText, headers),
    get body() {
      return bytes === null && !full ? null : complete().body;
    },
    get bodyUsed() {
      return used || (full?.bodyUsed ?? false);
    },
    text,
    json: async (): Promise<unknown> => JSON.parse(await text()),
    arrayBuffer: async (): Promise<ArrayBuffer> => {
      const own = take();
      if (!own) return complete().arrayBuffer();
      return own.buffer.slice(own.byteOffset, own.byteOffset + own.byteLength) as ArrayBuffer;
    },
    ...fromComplete(complete),
  };
  return answer as unknown as Response;
}

/**
 * The answer, as `fetch` gives it, for a body that arrives as a Node stream (artifact downloads):
 * `body` is a web stream over it and the Node stream itself is there as `NODE_BODY`, so a caller
 * writing it to disk goes through no web stream; `text()`, `json()` and `arrayBuffer()` collect
 * it. No `Response` unless `blob()`, `formData()` or `clone()` is called.
 */
export function streamedResponse(source: Readable, init: AnswerInit): Response {
  const status = init.status ?? 200;
  const statusText = init.statusText ?? '';
  const headers = init.headers instanceof AnswerHeaders ? init.headers : new AnswerHeaders(init.headers);
  let used = false;
  let web: WebReadableStream<Uint8Array> | null = null;
  let full: Response | null = null;
  const take = (): Readable => {
    if (used || web || full) throw new TypeError('Body is unusable: Body has already been read');
    used = true;
    return source;
  };
  const collect = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of take()) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const webBody = (): WebReadableStream<Uint8Array> =>
    (web ??= Readable.toWeb(take()) as WebReadableStream<Uint8Array>);
  const complete = (): Response =>
    (full ??= new Response(webBody() as unknown as ReadableStream<Uint8Array>, {
      status,
      statusText,
      headers: [...headers],
    }));
  const answer = {
    ...answerHead(status, statusText, headers),
    get body() {
      return full ? full.body : webBody();
    },
    get bodyUsed() {
      return used || (full?.bodyUsed ?? false) || (web?.locked ?? false);
    },
    get [NODE_BODY]() {
      return take();
    },
    text: async (): Promise<string> => decoder.decode(await collect()),
    json: async (): Promise<unknown> => JSON.parse(decoder.decode(await collect())),
    arrayBuffer: async (): Promise<ArrayBuffer> => {
      const own = await collect();
      return own.buffer.slice(own.byteOffset, own.byteOffset + own.byteLength) as ArrayBuffer;
    },
    ...fromComplete(complete),
  };
  return answer as unknown as Response;
}
