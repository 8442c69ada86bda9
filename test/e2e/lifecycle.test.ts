import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { SHUTDOWN_BOUND_MS } from '../../src/cli/node.ts';
import { homePaths } from '../../src/config.ts';
import { parseAddress } from '../../src/crypto/address.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { loadKey } from '../../src/keys.ts';
import { readRpcAddress } from '../../src/rpc-address.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import {
  CLI,
  cli,
  cliJson,
  startNodeProcess,
  stopNodeProcess,
  tempHome,
  until,
  type NodeProcess,
} from '../helpers/process.ts';

interface TxView {
  status: string;
  height: number | null;
}

/*
 * The node's lifecycle as an operator meets it: the RPC address recorded in the home folder, a
 * second node refused on a locked home, SIGTERM under load (exit 0 within the stated bound,
 * nothing reported committed lost), and a record left by a crash ignored as stale.
 */
describe('node lifecycle as OS processes', () => {
  const home = tempHome('tributary-lifecycle-');
  let node: NodeProcess | undefined;
  afterAll(async () => {
    if (node) await stopNodeProcess(node, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  it('records its RPC address, refuses a second node, stops cleanly under load and loses nothing', async () => {
    expect(cli(['--home', home, 'init', '--keyring-backend', 'test']).status).toBe(0);
    node = await startNodeProcess(home); // --rpc-listen 127.0.0.1:0: the port is only known after listen
    const recorded = JSON.parse(readFileSync(homePaths(home).rpcAddress, 'utf8')) as { url: string; pid: number };
    expect(recorded.url).toBe(node.url);
    expect(recorded.url).not.toMatch(/:0$/);
    // A client command with only --home finds it (no --rpc, no config change).
    await until(async () => ((await node!.rpc.call<{ height: number }>('chain_status')).height > 0 ? true : undefined));
    const status = cliJson<{ height: number }>(['--home', home, 'status']);
    expect(status.height).toBeGreaterThan(0);

    // A second node on the same home is refused, naming it, and leaves the first one's record alone.
    const second = spawnSync(
      CLI,
      ['--home', home, 'start', '--keyring-backend', 'test', '--rpc-listen', '127.0.0.1:0'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(second.status).toBe(1);
    expect(second.stderr).toContain('error [node/home_locked]');
    expect(second.stderr).toContain(homePaths(home).home);
    expect(readRpcAddress(home)?.pid).toBe(recorded.pid);

    // Load: a sender submitting transfers and noting each one the node reports committed.
    const rpc = node.rpc;
    const chain = await rpc.call<{ chainId: string; minFee: string }>('chain_status');
    const { key, info } = loadKey(homePaths(home).keys, 'validator');
    const bob = cliJson<{ address: string }>(['--home', home, 'keys', 'new', 'bob', '--keyring-backend', 'test']);
    let nonce = (await rpc.call<{ nonce: number }>('account_nextNonce', [info.address])).nonce;
    const submitted: string[] = [];
    const reportedCommitted = new Map<string, number>();
    let sending = true;
    const sender = (async () => {
      while (sending) {
        try {
          for (let i = 0; i < 10; i++) {
            const tx = buildTx(
              key,
              transferTx,
              { to: parseAddress(bob.address), amount: 1n },
              { chainId: chain.chainId, nonce, fee: BigInt(chain.minFee) },
            );
            submitted.push((await rpc.call<{ hash: string }>('tx_submit', ['0x' + toHex(tx)])).hash);
            nonce++;
          }
          for (const h of submitted.slice(-40)) {
            const t = await rpc.call<TxView | null>('tx_get', [h]);
            if (t?.status === 'committed') reportedCommitted.set(h, t.height!);
          }
        } catch {
          return; // the node stopped taking RPC (rpc/shutting_down, then connection refused)
        }
      }
    })();
    await until(async () => (reportedCommitted.size >= 20 ? true : undefined), 60_000);

    const signalledAt = performance.now();
    node.child.kill('SIGTERM');
    const code = await node.exited;
    const stopMs = performance.now() - signalledAt;
    sending = false;
    await sender;
    expect(code).toBe(0);
    expect(stopMs).toBeLessThan(SHUTDOWN_BOUND_MS);
    expect(node.logs.some((l) => l.includes('"msg":"clean stop"'))).toBe(true);
    // Every log line names the component it came from.
    const entries = node.logs.map((l) => JSON.parse(l) as { module?: string });
    expect(entries.filter((e) => typeof e.module !== 'string')).toEqual([]);
    expect(new Set(entries.map((e) => e.module))).toContain('node');
    expect(existsSync(homePaths(home).rpcAddress)).toBe(false); // removed on a clean stop

    // Restart: every transaction the node reported committed is there, at the same height.
    node = await startNodeProcess(home);
    for (const [h, height] of reportedCommitted) {
      const t = await node.rpc.call<TxView | null>('tx_get', [h]);
      expect(t?.status, h).toBe('committed');
      expect(t?.height).toBe(height);
    }

    // A crash leaves the record behind; with its process gone it is stale and clients ignore it.
    await stopNodeProcess(node, 'SIGKILL');
    node = undefined;
    expect(existsSync(homePaths(home).rpcAddress)).toBe(true);
    expect(readRpcAddress(home)).toBeUndefined();

    // A second signal during the clean stop exits at once with 128 + its number. Two different
    // signals, so that the kernel cannot merge them into one; it may hand them over in either
    // order (Linux: lower number first), so the second is SIGTERM (143) or SIGINT (130).
    node = await startNodeProcess(home);
    node.child.kill('SIGTERM');
    node.child.kill('SIGINT');
    expect([130, 143]).toContain(await node.exited);
    expect(node.logs.some((l) => l.includes('second signal'))).toBe(true);
    node = undefined;
  }, 180_000);
});
