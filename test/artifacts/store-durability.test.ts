import { createHash } from 'node:crypto';
import { access, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NODE_FILE_OPS, type DurableFileOps } from '../../artifacts/durable-file';
import { ArtifactStore } from '../../artifacts/store';

/** The real file operations, each noted as it completes, so the test sees the order a crash would cut into. */
function recordingOps(root: string): { ops: DurableFileOps; steps: string[] } {
  const steps: string[] = [];
  const rel = (p: string) => path.relative(root, p).replace(/tmp\/[0-9a-f-]{36}$/, 'tmp/<temp>') || '.';
  const ops: DurableFileOps = {
    syncFile: async (file) => {
      await NODE_FILE_OPS.syncFile(file);
      steps.push(`fsync ${rel(file)}`);
    },
    syncDir: async (dir) => {
      await NODE_FILE_OPS.syncDir(dir);
      steps.push(`fsync dir ${rel(dir)}`);
    },
    rename: async (from, to) => {
      await NODE_FILE_OPS.rename(from, to);
      steps.push(`rename ${rel(from)} -> ${rel(to)}`);
    },
  };
  return { ops, steps };
}

const exists = (file: string) => access(file).then(() => true, () => false);

describe('ArtifactStore durability', () => {
  it('a put is acknowledged only after the bytes, the rename and every new directory entry are fsynced', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'artifacts-durable-'));
    const { ops, steps } = recordingOps(root);
    const store = new ArtifactStore(root, ops);
    const sha256 = createHash('sha256').update('model bytes').digest('hex');
    const name = `sha256/${sha256.slice(0, 2)}/${sha256}`;
    await store.put('model bytes');
    steps.push('acknowledged');
    expect(steps).toEqual([
      'fsync tmp/<temp>',
      // sha256/ and sha256/<prefix>/ were created by this put: their names are made durable in their parents.
      'fsync dir sha256',
      'fsync dir .',
      `rename tmp/<temp> -> ${name}`,
      `fsync dir sha256/${sha256.slice(0, 2)}`,
      'acknowledged',
    ]);
  });

  it('a streamed upload never shows under its final name before it is complete and fsynced', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'artifacts-durable-'));
    const { ops, steps } = recordingOps(root);
    const store = new ArtifactStore(root, ops);
    const chunks = ['a,b\n', '1,2\n', '3,4\n'];
    const sha256 = createHash('sha256').update(chunks.join('')).digest('hex');
    const target = path.join(root, 'sha256', sha256.slice(0, 2), sha256);
    const seenDuringUpload: boolean[] = [];
    async function* slowBody() {
      for (const chunk of chunks) {
        seenDuringUpload.push(await exists(target));
        await new Promise((r) => setTimeout(r, 10));
        yield Buffer.from(chunk);
      }
      seenDuringUpload.push(await exists(target));
    }
    await store.putStream(Readable.from(slowBody()), { maxBytes: 1000 });
    steps.push('acknowledged');
    expect(seenDuringUpload).toEqual([false, false, false, false]);
    expect(steps.indexOf('fsync tmp/<temp>')).toBe(0);
    expect(steps.slice(-3)).toEqual([`rename tmp/<temp> -> sha256/${sha256.slice(0, 2)}/${sha256}`, `fsync dir sha256/${sha256.slice(0, 2)}`, 'acknowledged']);
  });
});
