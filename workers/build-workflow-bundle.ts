import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildWorkflowBundle, PREBUILT_BUNDLE_PATH } from './workflow-bundle';

/** `npm run build:workflows`: writes the bundle that production workers load (and proves workflows are sandbox-safe). */
async function main(): Promise<void> {
  const bundle = await buildWorkflowBundle();
  const out = process.argv[2] ? path.resolve(process.argv[2]) : PREBUILT_BUNDLE_PATH;
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, bundle.code);
  console.log(`workflow bundle: ${out} (${(bundle.code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
