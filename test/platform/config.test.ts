import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_SERVING_CONFIG, loadConfig } from '../../platform/config';

describe('loadConfig', () => {
  it('defaults to the embedded PGlite and dev server', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ databaseUrl: undefined, temporalAddress: undefined, temporalNamespace: 'default', port: 3000 });
    expect(config.artifactRoot).toBe(`${config.home}/artifacts`);
  });

  it('reads the dev-server port and the heartbeat timeout, with production defaults', () => {
    expect(loadConfig({})).toMatchObject({ temporalPort: 7233, heartbeatTimeoutMs: 30_000 });
    expect(loadConfig({ TEMPORAL_PORT: '7999', FACTORY_HEARTBEAT_TIMEOUT_SECONDS: '2.5' })).toMatchObject({ temporalPort: 7999, heartbeatTimeoutMs: 2500 });
    expect(() => loadConfig({ FACTORY_HEARTBEAT_TIMEOUT_SECONDS: '0' })).toThrow(/FACTORY_HEARTBEAT_TIMEOUT_SECONDS/);
  });

  it('reads the /metrics token, which must not be guessable', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ FACTORY_METRICS_TOKEN: 'scrape-0123456789abcdef' }).metricsToken).toBe('scrape-0123456789abcdef');
    expect(() => loadConfig({ FACTORY_METRICS_TOKEN: 'short' })).toThrow(/FACTORY_METRICS_TOKEN: must be at least 16 characters/);
  });

  it('reads the secret key and the webhook allow-list, one line per problem', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ FACTORY_SECRET_KEY: key }).secretKey?.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(loadConfig({}).secretKey).toBeUndefined();
    expect(loadConfig({ FACTORY_WEBHOOK_ALLOW_HOSTS: '127.0.0.1,hooks.internal:8080,10.0.0.0/8' }).webhookAllowList.hosts).toEqual([{ host: 'hooks.internal', port: 8080 }]);
    let error: unknown;
    try {
      loadConfig({ FACTORY_SECRET_KEY: 'c2hvcnQ=', FACTORY_WEBHOOK_ALLOW_HOSTS: '10.0.0.0/40', PORT: 'x' });
    } catch (err) {
      error = err;
    }
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^PORT: /),
      'FACTORY_SECRET_KEY: must be base64 of 32 random bytes, e.g. the output of `openssl rand -base64 32`',
      'FACTORY_WEBHOOK_ALLOW_HOSTS: "10.0.0.0/40" is not a host name, host:port, IP address, [IPv6]:port or CIDR',
    ]);
  });

  it("reads who the bootstrap admin key belongs to, 'admin' by default", () => {
    expect(loadConfig({}).adminOwner).toBe('admin');
    expect(loadConfig({ FACTORY_ADMIN_OWNER: 'dana@example.com' }).adminOwner).toBe('dana@example.com');
    expect(() => loadConfig({ FACTORY_ADMIN_OWNER: 'x'.repeat(201) })).toThrow(/FACTORY_ADMIN_OWNER: must be at most 200 characters/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).databaseUrl).toBeUndefined();
  });

  it('names every problem on its own line', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://x', TEMPORAL_ADDRESS: 'nohost', PORT: '99999', ARTIFACT_STORE: 's3://bucket' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/DATABASE_URL: must be a postgres/);
    expect(problems.join('\n')).toMatch(/TEMPORAL_ADDRESS: must be host:port/);
    expect(problems.join('\n')).toMatch(/ARTIFACT_STORE: only file:\/\//);
  });

  it('reads the artifact collection interval and grace period in hours', () => {
    expect(loadConfig({}).artifactGc).toEqual({ intervalHours: 24, graceMs: 24 * 3_600_000 });
    expect(loadConfig({ FACTORY_ARTIFACT_GC_INTERVAL_HOURS: '6', FACTORY_ARTIFACT_GRACE_HOURS: '0.5' }).artifactGc).toEqual({ intervalHours: 6, graceMs: 1_800_000 });
    expect(() => loadConfig({ FACTORY_ARTIFACT_GRACE_HOURS: '-1' })).toThrow(/FACTORY_ARTIFACT_GRACE_HOURS/);
    expect(() => loadConfig({ FACTORY_ARTIFACT_GC_INTERVAL_HOURS: '0' })).toThrow(/FACTORY_ARTIFACT_GC_INTERVAL_HOURS/);
  });

  it('reads the serving knobs with defaults, and names a bad one', () => {
    expect(loadConfig({}).serving).toEqual(DEFAULT_SERVING_CONFIG);
    expect(
      loadConfig({ FACTORY_BATCHING: 'off', FACTORY_BATCH_MAX_ROWS: '64', FACTORY_BATCH_MAX_DELAY_MS: '2', FACTORY_PREDICTION_LOG_MAX_PENDING_ROWS: '100', FACTORY_ROUTING_POLL_MS: '250' }).serving,
    ).toMatchObject({ routingPollMs: 250, batching: { enabled: false, maxRows: 64, maxDelayMs: 2 }, predictionLog: { maxPendingRows: 100, chunkRows: 500 } });
    expect(() => loadConfig({ FACTORY_BATCHING: 'maybe' })).toThrow(/FACTORY_BATCHING: must be 'on' or 'off'/);
    expect(() => loadConfig({ FACTORY_API_KEY_CACHE_TTL_MS: '600000' })).toThrow(/FACTORY_API_KEY_CACHE_TTL_MS: must be at most 60000/);
    expect(() => loadConfig({ FACTORY_PREDICTION_LOG_CHUNK_ROWS: '0' })).toThrow(/FACTORY_PREDICTION_LOG_CHUNK_ROWS/);
  });
});
