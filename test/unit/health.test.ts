import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.ts';
import { readinessProblem, type ReadinessInput } from '../../src/health.ts';

const ready: ReadinessInput = {
  bft: true,
  soleValidator: false,
  syncing: false,
  peers: 3,
  latestHeight: 100,
  highestPeerHeight: 101,
  minPeers: 1,
  maxBlocksBehind: 2,
};

describe('/readyz: caught up within N blocks and connected to at least M peers', () => {
  it('a BFT node in step with its peers is ready', () => {
    expect(readinessProblem(ready)).toBeUndefined();
    expect(readinessProblem({ ...ready, highestPeerHeight: 0 })).toBeUndefined(); // no status heard yet
    expect(readinessProblem({ ...ready, highestPeerHeight: 102 })).toBeUndefined(); // exactly N behind
  });

  it('block sync, more than N blocks behind, or fewer than M peers: not ready, saying why', () => {
    expect(readinessProblem({ ...ready, syncing: true })).toMatch(/block sync/);
    expect(readinessProblem({ ...ready, highestPeerHeight: 103 })).toBe(
      '3 blocks behind the highest peer (more than 2)',
    );
    expect(readinessProblem({ ...ready, peers: 0 })).toBe('0 peers connected (at least 1 needed)');
    expect(readinessProblem({ ...ready, peers: 2, minPeers: 3 })).toBe('2 peers connected (at least 3 needed)');
  });

  it('a node whose key is the whole validator set needs no peer; a single-validator node is always ready', () => {
    expect(readinessProblem({ ...ready, peers: 0, soleValidator: true })).toBeUndefined();
    expect(readinessProblem({ ...ready, bft: false, syncing: true, peers: 0 })).toBeUndefined();
  });

  it('M and N come from the config section `health` and its variables', () => {
    const home = mkdtempSync(join(tmpdir(), 'tributary-health-'));
    expect(resolveConfig(home, { env: {} }).config.health).toEqual({ minPeers: 1, maxBlocksBehind: 2 });
    const fromEnv = resolveConfig(home, {
      env: { TRIBUTARY_HEALTH_MIN_PEERS: '3', TRIBUTARY_HEALTH_MAX_BLOCKS_BEHIND: '5' },
    });
    expect(fromEnv.config.health).toEqual({ minPeers: 3, maxBlocksBehind: 5 });
    rmSync(home, { recursive: true, force: true });
  });
});
