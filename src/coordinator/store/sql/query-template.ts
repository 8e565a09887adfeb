/**
 * Hot statements compiled once. Kysely builds a query as a tree of frozen nodes and compiles the
 * tree to SQL on every call; for the statements that run on every job (the claim, the finish's
 * compare-and-set, the pipeline's job list and status write, the pipeline read), that work and its
 * garbage were a tenth of the coordinator's CPU under 1,000 runner clients, for SQL text that never
 * changes. A template is built once per dialect and shape (the `key`) with `Slot`s standing for
 * the values; each call only puts its values in place of the slots and runs the compiled SQL.
 *
 * The SQL is the one kysely compiles for the same builder, so nothing changes in what runs; only
 * the builder must have the same shape for the same key (the key names every choice it makes).
 */
import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import type { SqlContext } from './flavor.js';
import type { Database } from './schema.js';

/** Stands for the call's `values[index]` in a template's builder. */
export class Slot {
  constructor(readonly index: number) {}
}

interface Compiled {
  sql: string;
  parameters: readonly unknown[];
}

/** Shapes kept; the store has a few dozen (one per key), the bound only guards against a bug. */
const MAX_TEMPLATES = 1000;

const templates = new Map<string, Compiled>();

/** The slot of `values[index]`, typed as whatever the builder expects in its place. */
export type SlotOf = (index: number) => never;

const slotOf: SlotOf = (index) => new Slot(index) as never;

/**
 * The SQL texts of the templates, each with a statement name of its own. PostgreSQL's connections
 * run these as named prepared statements (see `postgres/dialect.ts`): the server parses and plans a
 * template's SQL once per connection instead of on every call. The names are as bounded as the
 * templates (one per SQL text, never reused for another text).
 */
const statementNames = new Map<string, string>();

/** The statement name of a template's SQL, or undefined for SQL that is not a template's. */
export function statementNameOf(sql: string): string | undefined {
  return statementNames.get(sql);
}

/** Names `sql` as a statement run on every job (a template's, or a hand-written hot statement). */
export function nameStatement(sql: string): void {
  if (!statementNames.has(sql) && statementNames.size < MAX_TEMPLATES)
    statementNames.set(sql, `flotilla_${statementNames.size + 1}`);
}

function compiled(key: string, build: () => Compilable<unknown>): Compiled {
  const found = templates.get(key);
  if (found !== undefined) return found;
  const query = build().compile();
  const entry = { sql: query.sql, parameters: query.parameters };
  if (templates.size < MAX_TEMPLATES) {
    templates.set(key, entry);
    nameStatement(entry.sql);
  }
  return entry;
}

/**
 * Runs the query that `build(slot)` makes, with `values[i]` in place of `slot(i)`, and returns its rows. The
 * template is compiled on the first call for `key` in this dialect and reused after that.
 */
export async function runTemplate<R>(
  ctx: Pick<SqlContext, 'db' | 'flavor'>,
  key: string,
  values: readonly unknown[],
  build: (slot: SlotOf) => Compilable<unknown>,
): Promise<R[]> {
  const template = compiled(`${ctx.flavor.name}:${key}`, () => build(slotOf));
  const parameters = template.parameters.map((p) => (p instanceof Slot ? values[p.index] : p));
  const db: Kysely<Database> = ctx.db;
  const result = await db.executeQuery<R>(CompiledQuery.raw(template.sql, parameters));
  return result.rows;
}
