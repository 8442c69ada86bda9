import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { tempHome } from '../helpers/process.ts';

/** A pino destination that keeps each JSON line it is given. */
function collector(): { write(line: string): void; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  return { write: (line: string) => entries.push(JSON.parse(line) as Record<string, unknown>), entries };
}

describe('logger: a module field per component, levels per component', () => {
  it('a component listed in log.levels logs at its own level, its children too; the rest at log.level', () => {
    const out = collector();
    const root = createLogger({ level: 'info', format: 'json', levels: { consensus: 'debug', p2p: 'error' } }, out);
    const consensus = root.child({ module: 'consensus' });
    consensus.debug('round step');
    consensus.child({ height: 7 }).trace('below even debug');
    consensus.child({ height: 7 }).debug('a child of consensus');
    const mempool = root.child({ module: 'mempool' });
    mempool.debug('hidden: mempool is at info');
    mempool.info('admitted');
    root.child({ module: 'p2p' }).warn('hidden: p2p is at error');
    expect(out.entries.map((e) => [e.module, e.msg])).toEqual([
      ['consensus', 'round step'],
      ['consensus', 'a child of consensus'],
      ['mempool', 'admitted'],
    ]);
    expect(out.entries[1]!.height).toBe(7);
  });

  it('levels come from TRIBUTARY_LOG_LEVEL and TRIBUTARY_LOG_LEVELS through resolveConfig', () => {
    const home = tempHome('tributary-logger-');
    const { config } = resolveConfig(home, { env: { TRIBUTARY_LOG_LEVEL: 'warn', TRIBUTARY_LOG_LEVELS: 'rpc=debug' } });
    rmSync(home, { recursive: true, force: true });
    const out = collector();
    const root = createLogger(config.log, out);
    root.child({ module: 'rpc' }).debug('call');
    root.child({ module: 'state' }).info('hidden: state is at warn');
    root.child({ module: 'state' }).warn('slow');
    expect(out.entries.map((e) => [e.module, e.msg])).toEqual([
      ['rpc', 'call'],
      ['state', 'slow'],
    ]);
  });
});
