/**
 * An answer's body as a Node stream, for `fetch`-like clients of this process (`flotilla run`'s
 * in-process fetch): a caller that writes the body to disk takes it from here instead of going
 * through a web stream and back (and the answer needs no `Response`, whose first use makes Node
 * 20 load its fetch implementation). Answers of the real fetch have no such member.
 */
import type { Readable } from 'node:stream';

export const NODE_BODY: unique symbol = Symbol.for('flotilla.answer.nodeBody');

export interface WithNodeBody {
  /** The body as a Node stream, null without a body; taking it marks the body used. */
  readonly [NODE_BODY]: Readable | null;
}

/** The answer's body as a Node stream when its client offers one, else undefined. */
export function nodeBodyOf(answer: Response): Readable | null | undefined {
  return NODE_BODY in answer ? (answer as unknown as WithNodeBody)[NODE_BODY] : undefined;
}
