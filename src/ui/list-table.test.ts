import type { VNode } from 'preact';
import { describe, expect, it } from 'vitest';

import { html } from './html.js';
import { listTable } from './list-table.js';

type Node = VNode<{ children?: unknown; 'aria-label'?: string; scope?: string; class?: string }>;

const elements = (children: unknown): Node[] =>
  (Array.isArray(children) ? children.flat(Infinity) : [children]).filter(
    (c): c is Node => typeof c === 'object' && c !== null && 'type' in c,
  );

describe('listTable', () => {
  it('is a list table with its label, one header cell per column and the rows in its body', () => {
    const rows = ['a', 'b'].map(
      (r) =>
        html`<tr key=${r}>
          <td>${r}</td>
        </tr>`,
    );
    const table = listTable('Things', ['Name', 'Size'], rows) as Node;
    expect(table.type).toBe('table');
    expect(table.props.class).toBe('list');
    expect(table.props['aria-label']).toBe('Things');
    const [thead, tbody] = elements(table.props.children);
    expect([thead?.type, tbody?.type]).toEqual(['thead', 'tbody']);
    const [tr] = elements(thead?.props.children);
    const ths = elements(tr?.props.children);
    expect(ths.map((th) => [th.type, th.props.scope, th.props.children])).toEqual([
      ['th', 'col', 'Name'],
      ['th', 'col', 'Size'],
    ]);
    expect(elements(tbody?.props.children)).toEqual(rows);
  });

  it('has no label when given none', () => {
    expect((listTable(undefined, ['Project'], []) as Node).props['aria-label']).toBeUndefined();
  });
});
