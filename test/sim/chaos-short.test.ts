import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { homePaths } from '../../src/config.ts';
import { DEFAULT_OPTIONS, runChaos, type ChaosReport } from '../../scripts/chaos/runner.ts';
import { SoloNodeTarget } from '../../scripts/chaos/target.ts';

/**
 * The chaos runner of `npm run chaos`, short: a real node process killed, paused and restarted
 * while transfers stream. The second case gives the runner a node that really loses its chain,
 * so that a clean report is known to mean something.
 */

/** A node whose data folder is deleted before every restart: it comes back from genesis. */
class AmnesiacTarget extends SoloNodeTarget {
  private starts = 0;
  override async start(node: number): Promise<void> {
    if (this.starts++ > 0) rmSync(homePaths(this.homes()[0]!).data, { recursive: true, force: true });
    await super.start(node);
  }
}

const options = { ...DEFAULT_OPTIONS, blockIntervalMs: 200 };

/**
 * The runner's progress lines, printed only if the test fails (a timeout included), so that a red
 * CI run says which perturbation or phase it was in and what the node logged last.
 */
function progressLog(getTarget: () => SoloNodeTarget | undefined): (line: string) => void {
  const started = Date.now();
  const lines: string[] = [];
  onTestFailed(() => {
    console.error(`chaos runner progress (${lines.length} lines):\n${lines.join('\n')}`);
    console.error(`node's last log lines:\n${getTarget()?.lastLogLines().join('\n') ?? '(no node)'}`);
  });
  return (line) => lines.push(`${((Date.now() - started) / 1000).toFixed(1)} s  ${line}`);
}

describe('chaos, short run', () => {
  let target: SoloNodeTarget | undefined;
  afterEach(async () => {
    await target?.dispose();
    target = undefined;
  });

  it('survives 10 random SIGKILL, SIGSTOP/SIGCONT and SIGTERM perturbations with nothing lost', async () => {
    target = new SoloNodeTarget({ blockIntervalMs: options.blockIntervalMs });
    const log = progressLog(() => target);
    // Seed 7 draws 3 SIGKILLs, 3 pauses and 4 SIGTERMs.
    const report: ChaosReport = await runChaos({
      ...options,
      log,
      target,
      seed: 7,
      perturbations: 10,
      dwellMs: [300, 800],
    });
    expect(report.findings).toEqual([]);
    expect(report.perturbations.survived).toBe(10);
    expect(report.perturbations.byKind).toEqual({ kill: 3, pause: 3, term: 4 });
    expect(report.transactions.tracked).toBeGreaterThan(100);
    expect(report.transactions.lost).toBe(0);
    expect(report.blocks.headerMismatches).toBe(0);
    expect(report.blocks.stateRootMismatches).toBe(0);
    expect(report.unexpectedExits).toEqual([]);
    expect(report.verify).toHaveLength(1);
    expect(report.verify[0]!.ok).toBe(true);
    expect(report.verify[0]!.height).toBeGreaterThanOrEqual(report.blocks.tracked);
    expect(report.recovery.maxMs).toBeLessThan(options.recoveryTimeoutMs);
    expect(report.ok).toBe(true);
  }, 120_000);

  it('reports the transactions and headers of a node that restarts from genesis as lost and mismatched', async () => {
    target = new AmnesiacTarget({ blockIntervalMs: options.blockIntervalMs });
    const log = progressLog(() => target);
    // Seed 3 starts with a SIGKILL, so the one perturbation is a restart.
    const report = await runChaos({ ...options, log, target, seed: 3, perturbations: 1, dwellMs: [1500, 1500] });
    expect(report.history.map((h) => h.kind)).toEqual(['kill']);
    expect(report.transactions.tracked).toBeGreaterThan(0);
    expect(report.transactions.lost).toBeGreaterThan(0);
    expect(report.blocks.headerMismatches).toBeGreaterThan(0);
    expect(report.ok).toBe(false);
  }, 60_000);
});
