import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { defaultHome, homePaths } from '../config.ts';
import { TributaryError } from '../errors.ts';
import { isInitialized } from '../home.ts';
import { toolLogger } from '../logger.ts';
import { openHome } from '../node.ts';
import { createProgress } from '../progress.ts';

/*
 * `tributary index rebuild`: drops the chain index (src/index) and recomputes it from the stored
 * blocks and receipts, with the node stopped. For a data folder written before the index existed
 * or by an older index layout; the state tree is not touched.
 */

export function registerIndexCommand(program: Command): void {
  const index = program
    .command('index')
    .description('the chain index: events, transactions by sender, payments (query-side, outside the state tree)');
  index
    .command('rebuild')
    .description('drop the index and recompute it from the stored blocks and receipts (node stopped)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as { home?: string; json?: boolean };
      const home = g.home ?? defaultHome();
      if (!isInitialized(home) || !existsSync(homePaths(home).data)) {
        throw new TributaryError('home/not_initialized', `${home} has no chain to index`);
      }
      const logger = toolLogger('index');
      const opened = await openHome(home, { keepVersions: 0, logger: logger.child({ module: 'state' }) });
      try {
        const progress = await createProgress({
          label: 'index rebuild',
          startHeight: 0,
          target: opened.chain.latestHeight,
          logger,
        });
        const result = await opened.chain.index.rebuild(opened.chain.blocks, { onProgress: (h) => progress.update(h) });
        progress.done(result.height);
        const out = { height: result.height, records: result.records };
        process.stdout.write(
          g.json
            ? JSON.stringify(out) + '\n'
            : `rebuilt the index of ${result.height} blocks (${result.records} records)\n`,
        );
      } finally {
        await opened.db.close();
      }
    });
}
