import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { DEFAULT_OPTIONS, runChaos } from '../../scripts/chaos/runner.ts';
import {
  BftNetworkTarget,
  type GenesisAccount,
  SoloNodeTarget,
  type VerifyOutcome,
} from '../../scripts/chaos/target.ts';

/**
 * The chaos runner against a BFT network of 4 validator processes (`npm run chaos -- --network`),
 * short: one node at a time killed, paused or terminated and restarted while transfers stream; the
 * network keeps finalizing (f = 1), the perturbed node catches up, every node's chain is compared
 * block by block against the same record, and every home replays clean with `tributary verify`.
 * The second case adds a node that follows a chain of its own, so that "no fork" is known to be
 * checked on every node and not only on the one the runner follows.
 */

/**
 * The network plus a fifth node: a lone validator with the same senders funded, on its own chain.
 * Never perturbed (its case runs none), so kill, pause and terminate stay the network's.
 */
class ForkedNetworkTarget extends BftNetworkTarget {
  override readonly nodeCount = 5;
  private readonly stray: SoloNodeTarget;
  constructor(blockIntervalMs: number) {
    super({ blockIntervalMs });
    this.stray = new SoloNodeTarget({ blockIntervalMs });
  }
  private isStray(node: number): boolean {
    return node === 4;
  }
  override async setup(accounts: GenesisAccount[]): Promise<void> {
    await Promise.all([super.setup(accounts), this.stray.setup(accounts)]);
  }
  override rpcUrl(node: number): string | undefined {
    return this.isStray(node) ? this.stray.rpcUrl(0) : super.rpcUrl(node);
  }
  override rpcUrls(): string[] {
    return [...super.rpcUrls(), ...this.stray.rpcUrls()];
  }
  override start(node: number): Promise<void> {
    return this.isStray(node) ? this.stray.start(0) : super.start(node);
  }
  override async finish(): Promise<VerifyOutcome[]> {
    const [network, [stray]] = await Promise.all([super.finish(), this.stray.finish()]);
    return [...network, { ...stray!, node: 4 }];
  }
  override homes(): string[] {
    return [...super.homes(), ...this.stray.homes()];
  }
  override async dispose(): Promise<void> {
    await Promise.all([super.dispose(), this.stray.dispose()]);
  }
}

const options = { ...DEFAULT_OPTIONS, blockIntervalMs: 500 };

describe('chaos against a 4-validator BFT network, short run', () => {
  let target: BftNetworkTarget | undefined;
  /** The runner's progress lines and each node's last log lines, printed only if the test fails. */
  const progressLog = (): ((line: string) => void) => {
    const started = Date.now();
    const lines: string[] = [];
    onTestFailed(() => {
      console.error(`chaos runner progress:\n${lines.join('\n')}`);
      for (const [i, l] of (target?.lastLogLines() ?? []).entries())
        console.error(`node ${i}'s last log lines:\n${l.join('\n')}`);
    });
    return (line) => lines.push(`${((Date.now() - started) / 1000).toFixed(1)} s  ${line}`);
  };
  afterEach(async () => {
    await target?.dispose();
    target = undefined;
  });

  it('survives SIGKILL, SIGSTOP/SIGCONT and SIGTERM of each validator with nothing lost and no fork', async () => {
    target = new BftNetworkTarget({ blockIntervalMs: options.blockIntervalMs });
    const log = progressLog();
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

  it('reports the blocks of a node on another chain as mismatched, though the node it follows is sound', async () => {
    target = new ForkedNetworkTarget(options.blockIntervalMs);
    const log = progressLog();
    // No perturbation: stream long enough that both chains commit tracked transactions.
    const report = await runChaos({ ...options, log, target, seed: 7, perturbations: 0, minStreamMs: 6_000 });
    expect(report.blocks.headerMismatches).toBeGreaterThan(0);
    expect(report.transactions.lost).toBeGreaterThan(0);
    // Each chain is sound by itself: the fork is found only by comparing them.
    expect(report.verify.map((v) => v.ok)).toEqual([true, true, true, true, true]);
    expect(report.ok).toBe(false);
  }, 120_000);
});
