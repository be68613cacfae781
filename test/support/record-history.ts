import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { findTemporalCli } from '../../platform/temporal-cli';

export const HISTORIES_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');

/**
 * With RECORD_HISTORIES=1 (`npm run record:histories`), saves a workflow's history for the replay test,
 * in the proto3 JSON the Temporal CLI and UI export.
 */
export async function recordHistory(workflowId: string, fileName: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const cli = await findTemporalCli(process.env.TEMPORAL_CLI_PATH);
  if (!cli) throw new Error('recording histories needs the Temporal CLI');
  const { stdout } = await promisify(execFile)(cli, ['workflow', 'show', '--workflow-id', workflowId, '--address', inject('temporalAddress'), '--output', 'json'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  await writeFile(path.join(HISTORIES_DIR, fileName), JSON.stringify({ workflowId, history: JSON.parse(stdout) as unknown }, null, 1) + '\n');
}
