import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PUBLIC_DATASETS, preparePublicDataset, type PublicDatasetName } from '../../test/support/public-datasets';

/**
 * Writes each public dataset exactly as our training sees it (raw features, y, train/test row indices) to
 * a directory, for bench/quality/sklearn_reference.py. Usage: tsx bench/quality/export-splits.ts <dir>
 */
async function main(): Promise<void> {
  const dir = process.argv[2] ?? path.join(process.cwd(), '.quality-splits');
  mkdirSync(dir, { recursive: true });
  for (const name of Object.keys(PUBLIC_DATASETS) as PublicDatasetName[]) {
    const d = await preparePublicDataset(name);
    const width = d.features.length;
    const x = Array.from({ length: d.matrix.n }, (_, i) => Array.from(d.matrix.x.subarray(i * width, (i + 1) * width)));
    const out = { name, task: d.task.task, features: d.features, classes: d.classes, x, y: Array.from(d.matrix.y), train: Array.from(d.split.train), test: Array.from(d.split.test) };
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(out));
    console.log(`${name}: ${d.matrix.n} rows (${d.matrix.droppedRows} dropped), ${d.split.train.length} train / ${d.split.test.length} test, ${d.task.task}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
