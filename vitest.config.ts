import { defineConfig } from 'vitest/config';

/*
 * One config, a project per tier: `unit` (in-process, real LevelDB or the in-memory twin), `e2e`
 * (real node processes, real libp2p, real HTTP) and `sim` (whole networks of node processes and
 * the chaos runner). `vitest run --project unit` runs one tier.
 *
 * Why `sim` runs alone, after the rest: its files keep five node processes (or a node and four
 * senders) busy on a two-core machine, and their bounds are in heights per second. Run beside
 * another e2e file they were starved (a 100-height run took past its 100 s bound in CI while the
 * chaos file ran next to it, and each timed out); run alone, each takes a fraction of its bound.
 * `sequence.groupOrder` starts group 1 once group 0 has finished.
 */
export default defineConfig({
  test: {
    // Tests spawn real node processes and open real LevelDB folders; two cores are all CI has.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: { name: 'sim', include: ['test/sim/**/*.test.ts'], maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
