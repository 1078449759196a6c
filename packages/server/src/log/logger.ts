// Structured logging with pino: one root logger, a child per module and per connection
// (ARCHITECTURE.md "Logs"). Secrets never reach a log line: the redact list covers every field
// name under which a password or a SASL payload could travel, and stream code never logs raw
// <auth/>/<response/> contents in the first place.

import pino from 'pino';

export type Logger = pino.Logger;

export interface LogOptions {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** 'stdout', 'stderr' or a file path. */
  destination: string;
  /** Human-readable output (pino-pretty) instead of JSON lines. */
  pretty: boolean;
}

export const REDACT_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'sasl', '*.sasl', 'payload', '*.payload',
  'credentials', '*.credentials', 'authorization', '*.authorization',
];

export function createLogger(opts: Partial<LogOptions> = {}): Logger {
  const level = opts.level ?? 'info';
  const options: pino.LoggerOptions = {
    level,
    base: { name: 'magpie' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const dest = opts.destination ?? 'stdout';
  if (opts.pretty) {
    return pino(options, pino.transport({ target: 'pino-pretty', options: { destination: dest === 'stdout' ? 1 : dest === 'stderr' ? 2 : dest, colorize: false } }));
  }
  const stream = dest === 'stdout' ? pino.destination(1) : dest === 'stderr' ? pino.destination(2) : pino.destination({ dest, mkdir: true, sync: false });
  return pino(options, stream);
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger { return pino({ level: 'silent' }); }
