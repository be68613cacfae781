import { ConfigError, loadConfig, type FactoryConfig } from '../platform/config';
import { openDatabase } from '../db/client';
import { createLogger } from '../platform/logger';
import { ARTIFACT_GC_SCHEDULE_ID, CPU_TASK_QUEUE, GPU_TASK_QUEUE } from '../workflows/contracts';
import { startFactory, type FactoryOptions } from './start-factory';
import { installTemporalLogger } from '../platform/temporal-logger';

/**
 * One role of the factory in its own process (production: one container per role). Unlike `npm start`
 * it embeds nothing: PostgreSQL and Temporal must be configured, since several processes share them.
 */
export function runStandalone(role: string, parts: FactoryOptions['parts']): void {
  const start = async (): Promise<void> => {
    const config = loadConfig();
    requireShared(config, parts);
    const logger = createLogger(config.logLevel).child({ role });
    installTemporalLogger(logger);
    const database = await openDatabase({ url: config.databaseUrl as string });
    const factory = await startFactory({
      db: database.db,
      artifactRoot: config.artifactRoot,
      temporalAddress: config.temporalAddress as string,
      namespace: config.temporalNamespace,
      taskQueues: { cpu: CPU_TASK_QUEUE, gpu: GPU_TASK_QUEUE },
      logger,
      parts,
      port: parts.api ? config.port : undefined,
      maxUploadBytes: config.maxUploadBytes,
      activityTimeouts: { heartbeatTimeoutMs: config.heartbeatTimeoutMs },
      artifactGc: { scheduleId: ARTIFACT_GC_SCHEDULE_ID, ...config.artifactGc },
      metricsToken: config.metricsToken,
      secretKey: config.secretKey,
      webhookAllowList: config.webhookAllowList,
      serving: config.serving,
      listen: database.listen,
      copyIn: database.copyIn,
    });
    logger.info({ temporal: config.temporalAddress, port: parts.api ? config.port : undefined }, `${role} started`);
    const shutdown = async (): Promise<void> => {
      await factory.stop();
      await database.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown());
    process.once('SIGTERM', () => void shutdown());
  };
  start().catch((err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  });
}

function requireShared(config: FactoryConfig, parts: FactoryOptions['parts']): void {
  const problems: string[] = [];
  // The API seals webhook secrets and the CPU workers open them: every such process needs the same key.
  if (!config.secretKey && (parts.api || parts.cpuWorker)) problems.push('FACTORY_SECRET_KEY: required when the API and workers run as separate processes (base64 of 32 bytes: openssl rand -base64 32)');
  if (!config.databaseUrl) problems.push('DATABASE_URL: required when the API and workers run as separate processes');
  if (!config.temporalAddress) problems.push('TEMPORAL_ADDRESS: required when the API and workers run as separate processes');
  if (problems.length > 0) throw new ConfigError(problems);
}
