import { Readable } from 'node:stream';
import { UserError } from '../../platform/user-error';
import { readCsvDataset } from '../../data/read-csv';
import { type ParsedDataset } from '../../data/dataset-schema';

/** An in-memory upload, reopened for each pass; `chunkSize` splits it to exercise chunk boundaries. */
export function csvSource(content: string | Buffer, chunkSize?: number): () => Readable {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  if (chunkSize === undefined) return () => Readable.from(bytes);
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += chunkSize) chunks.push(bytes.subarray(start, start + chunkSize));
  return () => Readable.from(chunks);
}

export function readCsv(content: string | Buffer, chunkSize?: number): Promise<ParsedDataset> {
  return readCsvDataset(csvSource(content, chunkSize));
}

/** The UserError a CSV is rejected with; fails the test when it is accepted or fails some other way. */
export async function rejection(content: string | Buffer): Promise<UserError> {
  try {
    await readCsv(content);
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected the CSV to be rejected');
}
