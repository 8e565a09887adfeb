/**
 * SVG lines from each needed job's card to the cards of the jobs that need it, drawn over the
 * pipeline's columns. Decorative (`aria-hidden`): every card also says "needs: …" in text.
 */
import type { RefObject } from 'preact';
import { useLayoutEffect, useState } from 'preact/hooks';

import { html } from '../html.js';
import type { NeedEdge } from '../needs.js';

interface Drawn {
  key: string;
  d: string;
}

function cardOf(container: HTMLElement, id: number): HTMLElement | null {
  return container.querySelector<HTMLElement>(`[data-job-id="${id}"]`);
}

/** A curve from the right edge of `from` to the left edge of `to`, in the container's coordinates. */
function pathBetween(container: HTMLElement, from: HTMLElement, to: HTMLElement): string {
  const box = container.getBoundingClientRect();
  const a = from.getBoundingClientRect();
  const b = to.getBoundingClientRect();
  const x1 = a.right - box.left + container.scrollLeft;
  const y1 = a.top + a.height / 2 - box.top + container.scrollTop;
  const x2 = b.left - box.left + container.scrollLeft;
  const y2 = b.top + b.height / 2 - box.top + container.scrollTop;
  const bend = Math.max(12, (x2 - x1) / 2);
  return `M${x1.toFixed(1)},${y1.toFixed(1)} C${(x1 + bend).toFixed(1)},${y1.toFixed(1)} ${(x2 - bend).toFixed(1)},${y2.toFixed(1)} ${x2.toFixed(1)},${y2.toFixed(1)}`;
}

function measure(container: HTMLElement, edges: readonly NeedEdge[]): Drawn[] {
  const out: Drawn[] = [];
  for (const { from, to } of edges) {
    const a = cardOf(container, from.id);
    const b = cardOf(container, to.id);
    if (a && b) out.push({ key: `${from.id}-${to.id}`, d: pathBetween(container, a, b) });
  }
  return out;
}

export function NeedLines({ container, edges }: { container: RefObject<HTMLElement>; edges: NeedEdge[] }) {
  const [drawn, setDrawn] = useState<{ lines: Drawn[]; width: number; height: number }>({
    lines: [],
    width: 0,
    height: 0,
  });
  useLayoutEffect(() => {
    const redraw = (): void => {
      const el = container.current;
      if (!el) return;
      const next = { lines: measure(el, edges), width: el.scrollWidth, height: el.scrollHeight };
      setDrawn((prev) => (JSON.stringify(prev) === JSON.stringify(next) ? prev : next));
    };
    redraw();
    addEventListener('resize', redraw);
    return () => removeEventListener('resize', redraw);
  });
  return html`<svg
    class="need-lines"
    aria-hidden="true"
    data-lines=${drawn.lines.length}
    width=${drawn.width}
    height=${drawn.height}
  >
    ${drawn.lines.map((l) => html`<path key=${l.key} data-edge=${l.key} d=${l.d} />`)}
  </svg>`;
}
