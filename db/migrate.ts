import path from 'node:path';
import { loadConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { bootstrapProject } from './queries/projects';
import { openDatabase } from './client';

/** The production migration job: applies committed migrations, registers the admin key, then exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const handle = await openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { pgliteDir: path.join(config.home, 'pglite') },
  );
  try {
    await handle.migrate();
    const { generatedAdminKey } = await bootstrapProject(handle.db, { adminKey: config.adminKey, adminOwner: config.adminOwner });
    logger.info({ database: handle.kind }, 'migrations applied');
    if (generatedAdminKey) process.stdout.write(`Admin API key (shown once, keep it safe): ${generatedAdminKey}\n`);
  } finally {
    await handle.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
