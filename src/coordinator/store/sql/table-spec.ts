/**
 * Tables written as data: a table's columns as a list of one-line specs, built into kysely's
 * `create table` for one dialect. A column spec is `name type`, then `!` right after the type for
 * NOT NULL, `unique`, `pk` (primary key) and `-> table.column cascade|set-null` (a foreign key with
 * its ON DELETE). The types are `text`, `integer`, `bigint`, `double` (double precision) and the
 * dialect's own `date`, `bool` and `binary`; the spec `id` alone is the table's generated id.
 */
import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely } from 'kysely';

import type { SqlFlavor } from './flavor.js';

type Table = CreateTableBuilder<string, string>;

export interface TableSpec {
  readonly name: string;
  readonly columns: readonly string[];
  /** Named constraints, added after the columns in this order. */
  readonly unique?: Readonly<Record<string, readonly string[]>>;
  readonly primaryKey?: Readonly<Record<string, readonly string[]>>;
}

interface ColumnSpec {
  name: string;
  type: string;
  notNull: boolean;
  unique: boolean;
  primaryKey: boolean;
  references: { target: string; onDelete: 'cascade' | 'set null' } | undefined;
}

/** The `create table` of `spec`, ready to execute. */
export function createTableFromSpec(db: Kysely<unknown>, flavor: SqlFlavor, spec: TableSpec): Table {
  let tb: Table = db.schema.createTable(spec.name);
  for (const line of spec.columns) tb = addColumn(tb, flavor, line);
  for (const [name, cols] of Object.entries(spec.unique ?? {})) tb = tb.addUniqueConstraint(name, [...cols]);
  for (const [name, cols] of Object.entries(spec.primaryKey ?? {})) {
    tb = tb.addPrimaryKeyConstraint(name, [...cols]);
  }
  return tb;
}

function addColumn(tb: Table, flavor: SqlFlavor, line: string): Table {
  if (line === 'id') {
    return tb.addColumn('id', 'integer', (c) =>
      flavor.name === 'sqlite'
        ? c.primaryKey().autoIncrement()
        : c.primaryKey().generatedByDefaultAsIdentity(),
    );
  }
  const column = parseColumn(line);
  return tb.addColumn(column.name, sqlType(flavor, column.type, line), (c) => modifiers(c, column));
}

function modifiers(c: ColumnDefinitionBuilder, column: ColumnSpec): ColumnDefinitionBuilder {
  let out = c;
  if (column.primaryKey) out = out.primaryKey();
  if (column.notNull) out = out.notNull();
  if (column.unique) out = out.unique();
  if (column.references) out = out.references(column.references.target).onDelete(column.references.onDelete);
  return out;
}

function sqlType(flavor: SqlFlavor, type: string, line: string) {
  switch (type) {
    case 'text':
    case 'integer':
    case 'bigint':
      return type;
    case 'double':
      return 'double precision';
    case 'date':
    case 'bool':
    case 'binary':
      return flavor.columnTypes[type];
    default:
      throw new Error(`column spec "${line}": unknown type ${type}`);
  }
}

/** Parses one column spec (see the module comment); throws on anything else. */
export function parseColumn(line: string): ColumnSpec {
  const [name, typeToken, ...rest] = line.split(' ');
  if (!name || !typeToken) throw new Error(`column spec "${line}": needs a name and a type`);
  const column: ColumnSpec = {
    name,
    type: typeToken.replace(/!$/, ''),
    notNull: typeToken.endsWith('!'),
    unique: false,
    primaryKey: false,
    references: undefined,
  };
  while (rest.length > 0) {
    const word = rest.shift();
    if (word === 'unique') column.unique = true;
    else if (word === 'pk') column.primaryKey = true;
    else if (word === '->') column.references = foreignKey(line, rest.shift(), rest.shift());
    else throw new Error(`column spec "${line}": unknown word ${String(word)}`);
  }
  return column;
}

function foreignKey(line: string, target: string | undefined, action: string | undefined) {
  if (!target?.includes('.') || (action !== 'cascade' && action !== 'set-null')) {
    throw new Error(`column spec "${line}": a foreign key is "-> table.column cascade|set-null"`);
  }
  return { target, onDelete: action === 'cascade' ? ('cascade' as const) : ('set null' as const) };
}
