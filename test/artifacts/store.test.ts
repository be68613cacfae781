import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../artifacts/store';
import { UserError } from '../../platform/user-error';

async function newStore(): Promise<ArtifactStore> {
  return new ArtifactStore(await mkdtemp(path.join(os.tmpdir(), 'artifacts-')));
}

describe('ArtifactStore', () => {
  it('names artifacts by the sha256 of their bytes', async () => {
    const store = await newStore();
    const stored = await store.put('hello');
    expect(stored.sha256).toBe(createHash('sha256').update('hello').digest('hex'));
    expect(stored.uri).toBe(`artifact://sha256/${stored.sha256}`);
    expect((await store.get(stored.uri)).toString()).toBe('hello');
    expect(await store.put('hello')).toEqual(stored);
  });

  it('streams uploads and gives the same name as put', async () => {
    const store = await newStore();
    const streamed = await store.putStream(Readable.from([Buffer.from('a,b\n'), Buffer.from('1,2\n')]), { maxBytes: 100 });
    expect(streamed).toEqual(await store.put('a,b\n1,2\n'));
  });

  it('rejects an upload over the limit and keeps nothing of it', async () => {
    const store = await newStore();
    const error = await store.putStream(Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), { maxBytes: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('payload_too_large');
    expect(await readdir(path.join(store.root, 'tmp'))).toEqual([]);
  });

  it('accepts only its own URIs, so no user string becomes a path', async () => {
    const store = await newStore();
    await expect(store.get('artifact://sha256/../../etc/passwd')).rejects.toThrow(/Not an artifact URI/);
    await expect(store.get('/etc/passwd')).rejects.toThrow(/Not an artifact URI/);
  });

  it('lists and deletes artifacts and leftover temp files, and a re-put counts as new', async () => {
    const store = await newStore();
    const a = await store.put('a');
    const b = await store.put('bb');
    await mkdir(path.join(store.root, 'tmp'), { recursive: true });
    await writeFile(path.join(store.root, 'tmp', 'half-written'), 'xyz');
    const listed = await collect(store.list());
    expect(listed.map((e) => [e.sha256, e.bytes]).sort()).toEqual([[a.sha256, 1], [b.sha256, 2]].sort());
    expect((await collect(store.listTemp())).map((e) => [e.name, e.bytes])).toEqual([['half-written', 3]]);

    const old = new Date('2020-01-01T00:00:00Z');
    await utimes(path.join(store.root, 'sha256', a.sha256.slice(0, 2), a.sha256), old, old);
    await store.put('a');
    const touched = (await collect(store.list())).find((e) => e.sha256 === a.sha256);
    expect(touched?.modifiedAt.getTime()).toBeGreaterThan(old.getTime());

    await store.delete(a.sha256);
    await store.delete(a.sha256);
    await store.deleteTemp('half-written');
    expect((await collect(store.list())).map((e) => e.sha256)).toEqual([b.sha256]);
    expect(await collect(store.listTemp())).toEqual([]);
    await expect(store.get(a.uri)).rejects.toThrow();
    await expect(store.deleteTemp('../sha256')).rejects.toThrow('Not a temp file name');
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
