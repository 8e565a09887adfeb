/** JSX-like templates without a build step: htm bound to Preact's `h`. */
import htm from 'htm';
import { h } from 'preact';

export const html = htm.bind(h);
