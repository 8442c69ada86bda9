import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { DEFAULT_OPTIONS, runChaos } from '../../scripts/chaos/runner.ts';
import { BftNetworkTarget } from '../../scripts/chaos/target.ts';

/**
 * The chaos runner against a BFT network of 4 validator processes (`npm run chaos -- --network`),
 * short: one node at a time killed, paused or terminated and restarted while transfers stream; the
 * network keeps finalizing (f = 1), the perturbed node catches up, every node's chain is compared
 * block by block against the same record, and every home replays clean with `tributary verify`.
 */

const options = { ...DEFAULT_OPTIONS, blockIntervalMs: 500 };

describe('chaos against a 4-validator BFT network, short run', () => {
  let target: BftNetworkTarget | undefined;
  afterEach(async () => {
    await target?.dispose();
    target = undefined;
  });

  it('survives SIGKILL, SIGSTOP/SIGCONT and SIGTERM of each validator with nothing lost and no fork', async () => {
    target = new BftNetworkTarget({ blockIntervalMs: options.blockIntervalMs });
    const started = Date.now();
    const lines: string[] = [];
    onTestFailed(() => {
      console.error(`chaos runner progress:\n${lines.join('\n')}`);
      for (const [i, l] of (target?.lastLogLines() ?? []).entries())
        console.error(`node ${i}'s last log lines:\n${l.join('\n')}`);
    });
    const log = (line: string) => lines.push(`${((Date.now() - started) / 1000).toFixed(1)} s  ${line}`);
    // Seed 7 over 4 nodes draws: pause 1, term 1, kill 1, term 3, pause 0, kill 2.
    const report = await runChaos({ ...options, log, target, seed: 7, perturbations: 6, dwellMs: [500, 1000] });
    expect(report.findings).toEqual([]);
    expect(report.history.map((h) => `${h.kind} ${h.node}`)).toEqual([
      'pause 1',
      'term 1',
      'kill 1',
      'term 3',
      'pause 0',
      'kill 2',
    ]);
    expect(report.perturbations.survived).toBe(6);
    expect(report.transactions.tracked).toBeGreaterThan(50);
    expect(report.transactions.lost).toBe(0);
    expect(report.blocks.headerMismatches).toBe(0);
    expect(report.blocks.stateRootMismatches).toBe(0);
    expect(report.unexpectedExits).toEqual([]);
    expect(report.verify.map((v) => v.node)).toEqual([0, 1, 2, 3]);
    for (const v of report.verify) {
      expect(v.ok).toBe(true);
      expect(v.rootMatchesHeader).not.toBe(false);
    }
    // Every home replays to (about) the same chain: the one all nodes served.
    const heights = report.verify.map((v) => v.height!);
    expect(Math.min(...heights)).toBeGreaterThan(5);
    expect(report.ok).toBe(true);
  }, 300_000);
});
