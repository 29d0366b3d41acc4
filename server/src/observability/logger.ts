// Structured JSON logs (pino); components take a child logger named after themselves.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  instanceId: string;
  /** Where to write; defaults to stdout. Tests pass a stream to read the lines back. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'switchboard', instance: options.instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'],
        censor: '****',
      },
    },
    options.destination ?? process.stdout,
  );
}

/** A child logger for one component, e.g. `componentLogger(log, 'store')`. */
export function componentLogger(logger: Logger, component: string): Logger {
  return logger.child({ component });
}
