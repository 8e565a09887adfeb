/**
 * Runs a route whose async code answers with `reply.send` itself, without handing fastify a promise
 * that resolves to the reply. When an async handler returns the reply, the reply's `then` is called
 * before the response is written (the durability hook is still waiting), and fastify then listens
 * for the end of the response stream on every request (`eos`, three listeners): about 2 % of the
 * coordinator's CPU on the runner API's hot routes. A rejection goes to the error handler exactly as
 * a rejected async handler's does. The route's async code must not return the reply either
 * (`answered`): an async function that returns a thenable calls its `then` too.
 */
import type { FastifyReply } from 'fastify';

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * What a route's async code returns after `reply.send(...)`: nothing. Returning the reply itself
 * from an async function makes the promise call the reply's `then` (see above).
 */
export function answered(_sent: FastifyReply): undefined {
  return undefined;
}

export function answerWith(reply: FastifyReply, run: () => Promise<unknown>): void {
  run().catch((err: unknown) => {
    if (reply.sent) return;
    reply.send(asError(err));
  });
}
