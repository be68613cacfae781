import { buildColumns } from './build-columns';
import { columnStats } from './column-stats';
import { type OpenCsvStream } from './csv-records';
import { findAnomalies } from './anomalies';
import { type ParsedDataset } from './dataset-schema';
import { inferSchema } from './infer-schema';
import { scanColumns } from './scan-columns';

export interface ReadCsvOptions {
  /** Called every 10,000 data rows of each pass, e.g. to heartbeat a long ingest. */
  onProgress?: (progress: { pass: 1 | 2; rows: number; totalRows?: number }) => void;
}

/**
 * Reads an uploaded CSV into typed columns with schema, statistics, anomalies and a content hash. The file is
 * streamed twice (`openStream` is called once per pass) so its raw text is never held in memory. Problems the
 * user can fix throw a UserError naming the row, line or column.
 */
export async function readCsvDataset(openStream: OpenCsvStream, options: ReadCsvOptions = {}): Promise<ParsedDataset> {
  const { onProgress } = options;
  const scan = await scanColumns(openStream, (rows) => onProgress?.({ pass: 1, rows }));
  const schema = inferSchema(scan);
  const { columns, contentHash, tallies } = await buildColumns(openStream, schema, scan.rowCount, (rows) =>
    onProgress?.({ pass: 2, rows, totalRows: scan.rowCount }),
  );
  const stats = await columnStats(schema, columns, tallies);
  return {
    schema,
    rowCount: scan.rowCount,
    contentHash,
    stats,
    anomalies: findAnomalies(stats, scan.rowCount),
    columns,
  };
}
