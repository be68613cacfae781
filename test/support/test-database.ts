import { Client } from 'pg';
import { openDatabase } from '../../db/client';

/**
 * Which PostgreSQL database the tests own: TEST_DATABASE_URL, and only that. DATABASE_URL is what `npm start`
 * uses; tests never read it, and refuse a TEST_DATABASE_URL that names the same database, because the suite's
 * set-up drops the schemas of its database. Undefined: every test file uses its own in-memory PGlite.
 */
export function testDatabaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.TEST_DATABASE_URL?.trim() || undefined;
  if (url !== undefined) assertNotAppDatabase(url, env);
  return url;
}

/** Throws when `url` names the database DATABASE_URL names (same host, port and database name). */
export function assertNotAppDatabase(url: string, env: NodeJS.ProcessEnv): void {
  const app = env.DATABASE_URL?.trim();
  if (app && sameDatabase(url, app)) {
    throw new Error(
      `TEST_DATABASE_URL names the database DATABASE_URL uses (${databaseName(url)}); the tests drop their database's schemas, so give them a database of their own (e.g. createdb test).`,
    );
  }
}

/** Drops and re-creates the schemas of the tests' own database and migrates it: once per `npm test`. */
export async function resetTestDatabase(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const url = testDatabaseUrl(env);
  if (!url) return undefined;
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS drizzle CASCADE; CREATE SCHEMA public;');
  } finally {
    await client.end();
  }
  const handle = await openDatabase({ url });
  try {
    await handle.migrate();
  } finally {
    await handle.close();
  }
  return url;
}

/** A database `name` of its own on the tests' server, created empty (dropped first if a previous run left it). */
export async function freshTestDatabase(suiteUrl: string, name: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const url = new URL(suiteUrl);
  url.pathname = `/${name}`;
  assertNotAppDatabase(url.toString(), env);
  const client = new Client({ connectionString: suiteUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return url.toString();
}

const LOCAL_HOSTS = new Set(['', 'localhost', '127.0.0.1', '[::1]']);

function sameDatabase(a: string, b: string): boolean {
  const [x, y] = [where(a), where(b)];
  return x.host === y.host && x.port === y.port && x.database === y.database;
}

function where(raw: string): { host: string; port: string; database: string } {
  const url = new URL(raw);
  const host = url.hostname.toLowerCase();
  return { host: LOCAL_HOSTS.has(host) ? 'localhost' : host, port: url.port || '5432', database: databaseName(raw) };
}

/** PostgreSQL's default database is the user's name. */
function databaseName(raw: string): string {
  const url = new URL(raw);
  return decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username) || 'postgres';
}
