import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../platform/user-error';

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
 * place, so a crash never leaves a half-written artifact under its final name.
 */
export class ArtifactStore {
  constructor(readonly root: string) {}

  async put(bytes: Uint8Array | string): Promise<StoredArtifact> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const sha256 = createHash('sha256').update(data).digest('hex');
    const target = this.pathFor(sha256);
    if (!(await exists(target))) {
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
    if (await exists(target)) await rm(tmp, { force: true });
    else await this.commit(tmp, target);
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

  private pathFor(sha256: string): string {
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  private async tempPath(): Promise<string> {
    const dir = path.join(this.root, 'tmp');
    await mkdir(dir, { recursive: true });
    return path.join(dir, randomUUID());
  }

  private async commit(tmp: string, target: string): Promise<void> {
    await mkdir(path.dirname(target), { recursive: true });
    await rename(tmp, target);
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
