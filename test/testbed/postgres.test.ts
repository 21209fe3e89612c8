import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/peers.ts';

describe('PostgreSQL of the test bed', () => {
  it('accepts a connection to a fresh, empty database of its own', async () => {
    const first = await freshDatabase();
    const second = await freshDatabase();
    expect(first).not.toEqual(second);
    const client = new pg.Client({ connectionString: first });
    await client.connect();
    try {
      const tables = await client.query("select count(*)::int as n from information_schema.tables where table_schema = 'public'");
      expect(tables.rows[0].n).toBe(0);
      await client.query('create table t (id int primary key)');
      await client.query('insert into t values (1)');
      expect((await client.query('select id from t')).rows).toEqual([{ id: 1 }]);
    } finally {
      await client.end();
    }
  });
});
