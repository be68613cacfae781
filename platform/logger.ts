import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs (readable ones in an interactive terminal); secrets are redacted wherever they could appear. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    ...(prettyInTerminal() && { transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss' } } }),
    base: { service: 'ai-factory' },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', '*.apiKey', '*.adminKey', 'apiKey', 'adminKey', 'databaseUrl', '*.databaseUrl'],
      censor: '[redacted]',
    },
  });
}

/** A person at a terminal gets readable lines; pipes, CI and containers (no dev dependencies) get JSON. */
function prettyInTerminal(): boolean {
  if (!process.stdout.isTTY || process.env.CI || process.env.LOG_FORMAT === 'json') return false;
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
