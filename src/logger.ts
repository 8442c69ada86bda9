import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/** JSON lines by default (for log shippers); human-readable when asked. Logs go to stderr. */
export function createLogger(opts: { level: string; format: 'json' | 'pretty' }): Logger {
  if (opts.format === 'pretty') {
    return pino({ level: opts.level }, pretty({ destination: 2, colorize: process.stderr.isTTY, sync: true }));
  }
  return pino({ level: opts.level }, pino.destination({ dest: 2, sync: true }));
}
