import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogConfig } from './config.ts';

/**
 * JSON lines by default (for log shippers); human-readable when asked. Logs go to stderr.
 * Each component logs through a child carrying `module` (`node`, `state`, `mempool`,
 * `consensus`, `p2p`, `rpc`); `levels` sets a component's level apart from `level`
 * (`{"consensus": "debug"}`), and the children it makes inherit it.
 */
export function createLogger(
  opts: Pick<LogConfig, 'level' | 'format'> & { levels?: LogConfig['levels'] },
  destination?: DestinationStream,
): Logger {
  const levels = opts.levels ?? {};
  const options: pino.LoggerOptions = {
    level: opts.level,
    onChild: (child) => {
      const module = (child.bindings() as { module?: unknown }).module;
      const level = typeof module === 'string' ? levels[module] : undefined;
      if (level !== undefined) child.level = level;
    },
  };
  if (destination) return pino(options, destination);
  if (opts.format === 'pretty') {
    return pino(options, pretty({ destination: 2, colorize: process.stderr.isTTY, sync: true }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}

/** The logger of an offline tool (verify, index rebuild): its progress at info under `module` = the tool, the chain's own lines from warn. */
export function toolLogger(tool: string): Logger {
  return createLogger({ level: 'info', format: 'json', levels: { state: 'warn' } }).child({ module: tool });
}
