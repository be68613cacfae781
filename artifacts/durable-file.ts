import { open, rename } from 'node:fs/promises';

/** The three steps a durable write is made of; injectable so a test can see their order. */
export interface DurableFileOps {
  /** fsync: the file's bytes are on disk. */
  syncFile(file: string): Promise<void>;
  /** fsync of a directory: the names in it (a rename, a new entry) are on disk. */
  syncDir(dir: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

async function sync(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const NODE_FILE_OPS: DurableFileOps = { syncFile: sync, syncDir: sync, rename };
