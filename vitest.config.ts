import { defineConfig } from 'vitest/config';

/*
 * One config, a project per tier: `unit` (in-process, real LevelDB or the in-memory twin) and
 * `e2e` (real node processes, real libp2p, real HTTP). `vitest run --project unit` runs one tier;
 * a `sim` tier (whole networks under perturbation) joins as a third project.
 */
export default defineConfig({
  test: {
    // Tests spawn real node processes and open real LevelDB folders; two cores are all CI has.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
    ],
  },
});
