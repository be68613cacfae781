import { Transform, type TransformCallback } from 'node:stream';
import { notCsv } from './csv-errors';

/** Above this share of control bytes in the first chunk the upload is binary, not text. */
const MAX_CONTROL_BYTE_SHARE = 0.01;

function controlByteShare(chunk: Buffer): number {
  let control = 0;
  for (const byte of chunk) {
    // Tab, LF, VT, FF and CR are ordinary in text; other C0 controls and DEL are not.
    if ((byte < 0x20 && (byte < 0x09 || byte > 0x0d)) || byte === 0x7f) control += 1;
  }
  return chunk.length === 0 ? 0 : control / chunk.length;
}

/**
 * Passes the upload's bytes through unchanged, rejecting binary files early and noting invalid UTF-8
 * (csv-parse would silently turn it into U+FFFD).
 */
export class ByteGuard extends Transform {
  invalidUtf8 = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private checkedFirstChunk = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk.includes(0)) return callback(notCsv('it contains NUL bytes'));
    if (!this.checkedFirstChunk) {
      this.checkedFirstChunk = true;
      if (controlByteShare(chunk) > MAX_CONTROL_BYTE_SHARE) return callback(notCsv('it contains binary control bytes'));
    }
    this.checkUtf8(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.checkUtf8();
    callback();
  }

  private checkUtf8(chunk?: Buffer): void {
    if (this.invalidUtf8) return;
    try {
      // Streaming mode keeps a multi-byte character split across chunks intact; the final call flushes it.
      if (chunk) this.decoder.decode(chunk, { stream: true });
      else this.decoder.decode();
    } catch {
      this.invalidUtf8 = true;
    }
  }
}
