import { describe, expect, it } from 'vitest';

import { parseColumn } from './table-spec.js';

describe('column specs', () => {
  it('reads type, NOT NULL, unique, primary key and a foreign key', () => {
    expect(parseColumn('job_id integer! unique -> jobs.id cascade')).toEqual({
      name: 'job_id',
      type: 'integer',
      notNull: true,
      unique: true,
      primaryKey: false,
      references: { target: 'jobs.id', onDelete: 'cascade' },
    });
    expect(parseColumn('runner_id integer -> runners.id set-null').references).toEqual({
      target: 'runners.id',
      onDelete: 'set null',
    });
    expect(parseColumn('slot integer pk')).toMatchObject({ primaryKey: true, notNull: false });
  });

  it('refuses a spec it cannot read', () => {
    expect(() => parseColumn('name')).toThrow(/needs a name and a type/);
    expect(() => parseColumn('name text! uniq')).toThrow(/unknown word uniq/);
    expect(() => parseColumn('job_id integer -> jobs restrict')).toThrow(/foreign key/);
  });
});
