import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { NODE_FILE_OPS, type DurableFileOps } from './durable-file';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../platform/user-error';

/** One file in the store, as the artifact collector sees it. */
export interface ArtifactEntry {
  sha256: string;
  bytes: number;
  modifiedAt: Date;
}

/** A leftover temp file (a write that never finished), by its random name. */
export interface TempEntry {
  name: string;
  bytes: number;
  modifiedAt: Date;
}

const SHA256_PATTERN = /^[a-f0-9]{64}$/;

/** An artifact the collector moved out of its name while it re-checks that nothing needs it. */
export interface CondemnedArtifact {
  sha256: string;
  /** Its file name under `condemned/`. */
  name: string;
  bytes: number;
  /** As it was when condemned: a put just before shows here as a fresh time. */
  modifiedAt: Date;
}

export interface StoredArtifact {
  /** `artifact://sha256/<hex>`: location-independent, so the same bytes have one name everywhere. */
  uri: string;
  sha256: string;
  bytes: number;
}

const URI_PATTERN = /^artifact:\/\/sha256\/([a-f0-9]{64})$/;

export function artifactUri(sha256: string): string {
  return `artifact://sha256/${sha256}`;
}

/**
 * A content-addressed artifact store on a local (or shared) directory. Paths come only from sha256
 * digests we computed, never from user strings; writes go to a temp file first and are renamed into
 * place, so a crash never leaves a half-written artifact under its final name. A put returns only once
 * the bytes and the name are fsynced, so what it acknowledged survives a power cut.
 */
export class ArtifactStore {
  constructor(
    readonly root: string,
    private readonly fileOps: DurableFileOps = NODE_FILE_OPS,
  ) {}

  async put(bytes: Uint8Array | string): Promise<StoredArtifact> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const sha256 = createHash('sha256').update(data).digest('hex');
    const target = this.pathFor(sha256);
    if (await exists(target)) await touch(target);
    else {
      const tmp = await this.tempPath();
      await writeFile(tmp, data);
      await this.commit(tmp, target);
    }
    return { uri: artifactUri(sha256), sha256, bytes: data.byteLength };
  }

  async putJson(value: unknown): Promise<StoredArtifact> {
    return this.put(JSON.stringify(value));
  }

  /** Streams into the store, hashing on the way; rejects bodies over `maxBytes` without keeping them. */
  async putStream(source: Readable, opts: { maxBytes: number }): Promise<StoredArtifact> {
    const tmp = await this.tempPath();
    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > opts.maxBytes) {
          done(
            new UserError(
              'payload_too_large',
              `The upload is larger than the limit of ${opts.maxBytes} bytes; split the file or raise FACTORY_MAX_UPLOAD_BYTES.`,
              413,
              { limitBytes: opts.maxBytes },
            ),
          );
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmp));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const sha256 = hash.digest('hex');
    const target = this.pathFor(sha256);
    if (await exists(target)) {
      await rm(tmp, { force: true });
      await touch(target);
    } else await this.commit(tmp, target);
    return { uri: artifactUri(sha256), sha256, bytes };
  }

  async get(uri: string): Promise<Buffer> {
    return readFile(this.pathFor(parseUri(uri)));
  }

  async getJson<T>(uri: string): Promise<T> {
    return JSON.parse((await this.get(uri)).toString('utf8')) as T;
  }

  openStream(uri: string): Readable {
    return createReadStream(this.pathFor(parseUri(uri)));
  }

  /** Every stored artifact; files whose names are not sha256 digests are not ours and are skipped. */
  async *list(): AsyncGenerator<ArtifactEntry> {
    const base = path.join(this.root, 'sha256');
    for (const prefix of await readdirOrEmpty(base)) {
      for (const name of await readdirOrEmpty(path.join(base, prefix))) {
        if (!SHA256_PATTERN.test(name) || !name.startsWith(prefix)) continue;
        const info = await statOrNull(path.join(base, prefix, name));
        if (info?.isFile()) yield { sha256: name, bytes: info.size, modifiedAt: info.mtime };
      }
    }
  }

  /** Removes one artifact; removing one that is already gone is not an error (a retried collection). */
  async delete(sha256: string): Promise<void> {
    if (!SHA256_PATTERN.test(sha256)) throw new Error(`Not a sha256 digest: ${sha256}`);
    await rm(this.pathFor(sha256), { force: true });
  }

  /**
   * Takes an artifact out of its name (one atomic rename) so the collector can re-check it: from now on a
   * writer that puts the same bytes writes a fresh copy, and one that put them just before left a fresh mtime.
   * Null when the artifact is already gone.
   */
  async condemn(sha256: string): Promise<CondemnedArtifact | null> {
    if (!SHA256_PATTERN.test(sha256)) throw new Error(`Not a sha256 digest: ${sha256}`);
    const dir = path.join(this.root, 'condemned');
    await mkdir(dir, { recursive: true });
    const name = `${sha256}.${randomUUID()}`;
    try {
      await rename(this.pathFor(sha256), path.join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const info = await stat(path.join(dir, name));
    return { sha256, name, bytes: info.size, modifiedAt: info.mtime };
  }

  /** Puts a condemned artifact back under its name, as new: the grace period protects it again. */
  async restore(condemned: Pick<CondemnedArtifact, 'sha256' | 'name'>): Promise<void> {
    const target = this.pathFor(condemned.sha256);
    await this.ensureDir(path.dirname(target));
    await this.fileOps.rename(path.join(this.root, 'condemned', condemned.name), target);
    await this.fileOps.syncDir(path.dirname(target));
    await touch(target);
  }

  /** Deletes a condemned artifact for good. */
  async discard(condemned: Pick<CondemnedArtifact, 'name'>): Promise<void> {
    if (condemned.name !== path.basename(condemned.name)) throw new Error(`Not a condemned artifact: ${condemned.name}`);
    await rm(path.join(this.root, 'condemned', condemned.name), { force: true });
  }

  /** Condemned artifacts a crashed collection left behind; the next collection restores them. */
  async *listCondemned(): AsyncGenerator<Pick<CondemnedArtifact, 'sha256' | 'name'>> {
    for (const name of await readdirOrEmpty(path.join(this.root, 'condemned'))) {
      const sha256 = name.split('.')[0] ?? '';
      if (SHA256_PATTERN.test(sha256)) yield { sha256, name };
    }
  }

  async *listTemp(): AsyncGenerator<TempEntry> {
    const dir = path.join(this.root, 'tmp');
    for (const name of await readdirOrEmpty(dir)) {
      const info = await statOrNull(path.join(dir, name));
      if (info?.isFile()) yield { name, bytes: info.size, modifiedAt: info.mtime };
    }
  }

  async deleteTemp(name: string): Promise<void> {
    if (name !== path.basename(name) || name.startsWith('.')) throw new Error(`Not a temp file name: ${name}`);
    await rm(path.join(this.root, 'tmp', name), { force: true });
  }

  private pathFor(sha256: string): string {
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  private async tempPath(): Promise<string> {
    const dir = path.join(this.root, 'tmp');
    await mkdir(dir, { recursive: true });
    return path.join(dir, randomUUID());
  }

  /** Bytes on disk, then the name, then the name on disk: only then does the artifact exist. */
  private async commit(tmp: string, target: string): Promise<void> {
    await this.fileOps.syncFile(tmp);
    await this.ensureDir(path.dirname(target));
    await this.fileOps.rename(tmp, target);
    await this.fileOps.syncDir(path.dirname(target));
  }

  /** A new directory is durable only once its parent's entry is: sync each parent from the first one created. */
  private async ensureDir(dir: string): Promise<void> {
    const created = await mkdir(dir, { recursive: true });
    if (created === undefined) return;
    for (let d = dir; d !== path.dirname(created); d = path.dirname(d)) await this.fileOps.syncDir(path.dirname(d));
  }
}

function parseUri(uri: string): string {
  const match = URI_PATTERN.exec(uri);
  if (!match?.[1]) throw new Error(`Not an artifact URI: ${uri}`);
  return match[1];
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** A re-put artifact counts as new: the collector's grace period then protects it until its row is written. */
async function touch(file: string): Promise<void> {
  const now = new Date();
  await utimes(file, now, now).catch(() => undefined);
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function statOrNull(file: string) {
  try {
    return await stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
