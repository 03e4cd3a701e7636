// Structured logs of a node process: one JSON object a line, `{time, level, msg, ...fields}`, to stderr (or any
// sink). Below the configured level a call costs one comparison.
import type { LogLevel } from './transport/transport.ts';

export type { LogLevel };

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  with(fields: LogFields): Logger;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** `write` receives whole lines, newline included. */
export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line), base: LogFields = {}): Logger {
  const threshold = RANK[level];
  const log = (lineLevel: LogLevel, msg: string, fields: LogFields = {}) => {
    if (RANK[lineLevel] < threshold) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level: lineLevel, msg, ...base, ...fields });
    } catch {
      // A field that does not serialize (a cycle, a BigInt) must not cost the line.
      line = JSON.stringify({ time: new Date().toISOString(), level: lineLevel, msg, ...base, fieldsError: 'fields did not serialize' });
    }
    write(line + '\n');
  };
  return {
    level,
    enabled: (lineLevel) => RANK[lineLevel] >= threshold,
    log,
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    with: (fields) => createLogger(level, write, { ...base, ...fields }),
  };
}

/** Discards everything (tests that do not look at logs). */
export const SILENT_LOGGER: Logger = createLogger('error', () => {});
