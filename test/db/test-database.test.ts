import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshTestDatabase, resetTestDatabase, testDatabaseUrl } from '../support/test-database';

const APP = 'postgres://postgres@127.0.0.1:5432/factory';

/** `npm test` resets only the database TEST_DATABASE_URL names, never the one `npm start` uses (DATABASE_URL). */
describe('the database the tests reset', () => {
  it('is TEST_DATABASE_URL; DATABASE_URL alone leaves the tests on PGlite', () => {
    expect(testDatabaseUrl({})).toBeUndefined();
    expect(testDatabaseUrl({ DATABASE_URL: APP })).toBeUndefined();
    expect(testDatabaseUrl({ DATABASE_URL: APP, TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' })).toBe('postgres://postgres@127.0.0.1:5432/test');
    // Another server with a database of the same name is another database.
    expect(testDatabaseUrl({ DATABASE_URL: APP, TEST_DATABASE_URL: 'postgres://postgres@db.internal:5432/factory' })).toBe('postgres://postgres@db.internal:5432/factory');
  });

  it('refuses a TEST_DATABASE_URL that names the npm start database, however it is spelled', () => {
    for (const same of [APP, 'postgres://other@localhost/factory', 'postgresql://postgres:pw@127.0.0.1:5432/factory?sslmode=disable']) {
      expect(() => testDatabaseUrl({ DATABASE_URL: APP, TEST_DATABASE_URL: same }), same).toThrow(/names the database DATABASE_URL uses/);
    }
    // No database in the URL: PostgreSQL connects to the user's.
    expect(() => testDatabaseUrl({ DATABASE_URL: 'postgres://alice@127.0.0.1/alice', TEST_DATABASE_URL: 'postgres://alice@localhost' })).toThrow();
  });

  describe.skipIf(!inject('databaseUrl'))('on PostgreSQL', () => {
    const name = `npm_start_${randomUUID().slice(0, 8)}`;
    let appUrl: string;
    const admin = () => new Client({ connectionString: inject('databaseUrl') });
    const marker = async (): Promise<number> => {
      const client = new Client({ connectionString: appUrl });
      await client.connect();
      try {
        return (await client.query<{ n: number }>('select count(*)::int as n from marker')).rows[0]?.n ?? -1;
      } finally {
        await client.end();
      }
    };

    beforeAll(async () => {
      const client = admin();
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      const url = new URL(inject('databaseUrl'));
      url.pathname = `/${name}`;
      appUrl = url.toString();
      const app = new Client({ connectionString: appUrl });
      await app.connect();
      await app.query("create table marker (note text); insert into marker values ('written by npm start')");
      await app.end();
    });
    afterAll(async () => {
      const client = admin();
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    });

    it('a database named by DATABASE_URL survives the global set-up, with or without a TEST_DATABASE_URL pointing at it', async () => {
      await expect(resetTestDatabase({ DATABASE_URL: appUrl })).resolves.toBeUndefined();
      expect(await marker()).toBe(1);
      await expect(resetTestDatabase({ DATABASE_URL: appUrl, TEST_DATABASE_URL: appUrl.replace('127.0.0.1', 'localhost') })).rejects.toThrow(/names the database DATABASE_URL uses/);
      expect(await marker()).toBe(1);
      // A crash test's own database is never the npm start one either.
      await expect(freshTestDatabase(inject('databaseUrl'), name, { DATABASE_URL: appUrl })).rejects.toThrow(/names the database DATABASE_URL uses/);
      expect(await marker()).toBe(1);
    });
  });
});
