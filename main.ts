import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, loadConfig } from './platform/config';
import { openDatabase } from './db/client';
import { createLogger } from './platform/logger';
import { bootstrapProject } from './db/queries/projects';
import { startFactory } from './factory/start-factory';
import { loadOrCreateSecretKeyFile } from './platform/secret-box';
import { installTemporalLogger } from './platform/temporal-logger';
import { findOrBuildTemporalCli } from './platform/temporal-cli';
import { startDevServer, type DevServer } from './platform/temporal-dev-server';
import { removeDevServerPid, stopStaleDevServer, writeDevServerPid } from './platform/dev-server-pid-file';
import { ARTIFACT_GC_SCHEDULE_ID, CPU_TASK_QUEUE, FACTORY_SEARCH_ATTRIBUTES, GPU_TASK_QUEUE } from './workflows/contracts';

/**
 * `npm start`: the whole factory in one process: API, factory-cpu and factory-gpu workers, and, when
 * nothing is configured, PGlite under FACTORY_HOME and a local Temporal dev server with its Web UI.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  installTemporalLogger(logger);
  await mkdir(config.home, { recursive: true });

  const database = await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { pgliteDir: path.join(config.home, 'pglite') });
  await database.migrate();
  const { generatedAdminKey } = await bootstrapProject(database.db, { adminKey: config.adminKey, adminOwner: config.adminOwner });
  let secretKey = config.secretKey;
  if (!secretKey) {
    const kept = await loadOrCreateSecretKeyFile(config.home);
    secretKey = kept.key;
    if (kept.created) logger.warn({ file: kept.file }, 'generated the key that encrypts webhook secrets (FACTORY_SECRET_KEY was unset): back this file up with the database, webhook secrets cannot be read without it');
  }

  let devServer: DevServer | undefined;
  const devServerPidFile = path.join(config.home, 'temporal-dev-server.pid');
  let temporalAddress = config.temporalAddress;
  let temporalUiUrl: string | undefined;
  if (!temporalAddress) {
    const cliPath = await findOrBuildTemporalCli(config.temporalCliPath, (line) => logger.info(line));
    const dbFile = path.join(config.home, 'temporal.sqlite');
    await stopStaleDevServer(devServerPidFile, dbFile, (line) => logger.warn(line));
    devServer = await startDevServer({
      cliPath,
      namespace: config.temporalNamespace,
      port: config.temporalPort,
      uiPort: config.temporalUiPort,
      dbFile,
      keywordSearchAttributes: FACTORY_SEARCH_ATTRIBUTES.map((k) => k.name),
    });
    if (devServer.pid) await writeDevServerPid(devServerPidFile, devServer.pid);
    temporalAddress = devServer.address;
    temporalUiUrl = devServer.uiUrl;
  }

  const factory = await startFactory({
    db: database.db,
    artifactRoot: config.artifactRoot,
    temporalAddress,
    namespace: config.temporalNamespace,
    taskQueues: { cpu: CPU_TASK_QUEUE, gpu: GPU_TASK_QUEUE },
    logger,
    parts: { api: true, cpuWorker: true, gpuWorker: true },
    port: config.port,
    maxUploadBytes: config.maxUploadBytes,
    activityTimeouts: { heartbeatTimeoutMs: config.heartbeatTimeoutMs },
    artifactGc: { scheduleId: ARTIFACT_GC_SCHEDULE_ID, ...config.artifactGc },
    metricsToken: config.metricsToken,
    secretKey,
    webhookAllowList: config.webhookAllowList,
    serving: config.serving,
    listen: database.listen,
    copyIn: database.copyIn,
    temporalUiUrl,
  });

  logger.info(
    { api: `http://127.0.0.1:${config.port}`, temporal: temporalAddress, temporalUi: temporalUiUrl ?? null, database: database.kind, home: config.home },
    'AI Factory is running',
  );
  if (generatedAdminKey) {
    // Printed once, to the terminal only: the database keeps just its hash.
    process.stdout.write(`\nAdmin API key (shown once, keep it safe):\n\n  ${generatedAdminKey}\n\nexport FACTORY_KEY=${generatedAdminKey}\n\n`);
  }

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await factory.stop();
    await devServer?.stop();
    await removeDevServerPid(devServerPidFile);
    await database.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
