import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; secrets are redacted wherever they could appear. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'ai-factory' },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', '*.apiKey', '*.adminKey', 'apiKey', 'adminKey', 'databaseUrl', '*.databaseUrl'],
      censor: '[redacted]',
    },
  });
}
