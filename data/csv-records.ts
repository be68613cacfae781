import { pipeline, type Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { ByteGuard } from './byte-guard';
import { malformedCsv, notUtf8, rowTooLarge } from './csv-errors';

export type OpenCsvStream = () => NodeJS.ReadableStream | Readable;

/** Called every PROGRESS_EVERY data rows of a pass with the rows read so far, e.g. to heartbeat. */
export type OnRowsRead = (rows: number) => void;

export const PROGRESS_EVERY = 10_000;

/** One CSV record: its trimmed values and the file line it starts on (1-based). */
export interface CsvRecord {
  values: string[];
  line: number;
}

/** Bounds the memory one record may take, e.g. when a quote is never closed. */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;

// csv-parse types on_record as returning the record type, so the start line rides along on the array.
type NumberedValues = string[] & { line: number };

function normaliseValue(value: string): string {
  // A CRLF inside a quoted value is the same text as an LF: editors and git convert both.
  const trimmed = value.trim();
  return trimmed.includes('\r') ? trimmed.replace(/\r\n/g, '\n') : trimmed;
}

/**
 * Streams the upload's records. Blank and whitespace-only lines are skipped; a leading BOM, CRLF/LF/CR line ends,
 * quoted commas and newlines are handled. CSV syntax errors become `malformed_csv`.
 */
export async function* csvRecords(openStream: OpenCsvStream): AsyncGenerator<CsvRecord> {
  // Where the last parsed record ended, so the next one (or a syntax error) knows the line it starts on.
  let lastEndLine = 0;
  let lastEmptyLines = 0;
  const startLine = (emptyLines: number): number => lastEndLine + 1 + (emptyLines - lastEmptyLines);

  const guard = new ByteGuard();
  const parser = parse({
    bom: true,
    delimiter: ',',
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    // A quote inside an unquoted value (12" pizza) is literal; quoted values must still be well formed.
    relax_quotes: true,
    skip_empty_lines: true,
    trim: true,
    max_record_size: MAX_RECORD_CHARS,
    on_record: (fields: string[], context) => {
      const line = startLine(context.empty_lines);
      lastEndLine = context.lines;
      lastEmptyLines = context.empty_lines;
      return Object.assign(fields.map(normaliseValue), { line });
    },
  });
  // Errors from any stage destroy the parser, so they surface through its iterator below.
  pipeline(openStream(), guard, parser, () => undefined);

  try {
    for await (const fields of parser as AsyncIterable<NumberedValues>) {
      if (guard.invalidUtf8) {
        const position = fields.findIndex((value) => value.includes('\uFFFD')) + 1;
        if (position > 0) throw notUtf8({ line: fields.line, position });
      }
      yield { values: fields, line: fields.line };
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = typeof error.empty_lines === 'number' ? startLine(error.empty_lines) : lastEndLine + 1;
    if (error.code === 'CSV_MAX_RECORD_SIZE') throw rowTooLarge(line, MAX_RECORD_CHARS);
    throw malformedCsv(error.code === 'CSV_QUOTE_NOT_CLOSED' ? line : Number(error.lines) || line, error.code);
  }
  if (guard.invalidUtf8) throw notUtf8();
}
