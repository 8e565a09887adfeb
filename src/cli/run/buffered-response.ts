/**
 * A `Response` for an answer whose body is already one buffer in this process (the in-process
 * fetch's Runner API and REST answers). Node's `Response` wraps a body in a web stream, and
 * reading it back (`json()`, `text()`) goes through that stream: for the small JSON answers of a
 * local run, most of the cost of a call. Here `text()`, `json()` and `arrayBuffer()` decode the
 * buffer directly (UTF-8, a leading BOM dropped, as fetch does; once only, as fetch allows);
 * `body`, `blob()`, `formData()` and `clone()` fall back to a full `Response` made on first use.
 */

const decoder = new TextDecoder();

type Init = ConstructorParameters<typeof Response>[1];

export function bufferedResponse(bytes: Buffer, init: Init): Response {
  const answer = new Response(null, init);
  let used = false;
  let full: Response | null = null;
  const complete = (): Response => (full ??= new Response(used ? null : bytes, init));
  const take = (): Buffer | null => {
    if (full) return null;
    if (used) throw new TypeError('Body is unusable: Body has already been read');
    used = true;
    return bytes;
  };
  const text = async (): Promise<string> => {
    const own = take();
    return own ? decoder.decode(own) : complete().text();
  };
  const fallback = <K extends 'blob' | 'formData' | 'clone'>(key: K) => ({
    value: (...args: []) => (complete()[key] as (...a: []) => unknown)(...args),
  });
  Object.defineProperties(answer, {
    body: { get: () => complete().body },
    bodyUsed: { get: () => used || (full?.bodyUsed ?? false) },
    text: { value: text },
    json: { value: async (): Promise<unknown> => JSON.parse(await text()) },
    arrayBuffer: {
      value: async (): Promise<ArrayBuffer> => {
        const own = take();
        if (!own) return complete().arrayBuffer();
        return own.buffer.slice(own.byteOffset, own.byteOffset + own.byteLength) as ArrayBuffer;
      },
    },
    blob: fallback('blob'),
    formData: fallback('formData'),
    clone: fallback('clone'),
  });
  return answer;
}
