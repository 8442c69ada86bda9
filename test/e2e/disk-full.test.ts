import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { homePaths } from '../../src/config.ts';
import { parseAddress } from '../../src/crypto/address.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { loadKey } from '../../src/keys.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { cli, cliJson, startNodeProcess, stopNodeProcess, until, type NodeProcess } from '../helpers/process.ts';
import { codeOf } from '../helpers/codes.ts';

/*
 * Disk full, for real: the node's home is a small tmpfs (mounting needs root, which CI and the
 * development machines have; elsewhere the test skips with a message). A filler file takes the
 * free space; the node must say it is not ready, refuse transactions with a code, and resume on
 * its own once the space is back, losing nothing.
 */
const mountPoint = mkdtempSync(join(tmpdir(), 'tributary-diskfull-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mountPoint]).status === 0;
if (!mounted) console.warn('SKIPPED: disk-full test needs to mount a tmpfs (root)');

async function health(
  url: string,
): Promise<{ status: number; body: { status: string; reason?: string; height: number } }> {
  const res = await fetch(`${url}/health`);
  return { status: res.status, body: (await res.json()) as { status: string; reason?: string; height: number } };
}

describe.skipIf(!mounted)('disk full', () => {
  const home = join(mountPoint, 'home');
  const filler = join(mountPoint, 'filler');
  let node: NodeProcess | undefined;
  afterAll(async () => {
    if (node) await stopNodeProcess(node, 'SIGKILL');
    spawnSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('reports not ready, refuses transactions with a code, and resumes by itself once space is freed, losing nothing', async () => {
    expect(cli(['--home', home, 'init', '--keyring-backend', 'test']).status).toBe(0);
    node = await startNodeProcess(home);
    const rpc = node.rpc;
    const status = await rpc.call<{ chainId: string; minFee: string }>('chain_status');
    const { key } = loadKey(homePaths(home).keys, 'validator');
    const bob = parseAddress(
      cliJson<{ address: string }>(['--home', home, 'keys', 'new', 'bob', '--keyring-backend', 'test']).address,
    );
    let nonce = 0;
    const transfer = () =>
      '0x' +
      toHex(
        buildTx(
          key,
          transferTx,
          { to: bob, amount: 1n },
          { chainId: status.chainId, nonce: nonce++, fee: BigInt(status.minFee) },
        ),
      );
    const before = (await rpc.call<{ hash: string }>('tx_submit', [transfer()])).hash;
    await until(async () =>
      (await rpc.call<{ status: string } | null>('tx_get', [before]))?.status === 'committed' ? true : undefined,
    );

    // Take every free byte (the node writes a block every 200 ms, so it hits the wall at once).
    const free = (): number => {
      const s = statfsSync(mountPoint);
      return s.bavail * s.bsize;
    };
    expect(spawnSync('fallocate', ['-l', String(free()), filler]).status).toBe(0);
    const down = await until(async () => {
      const h = await health(node!.url);
      return h.status === 503 ? h : undefined;
    }, 20_000);
    expect(down.body.status).toBe('unavailable');
    // Whichever write fails first (the signer's state file or the database), the reason says so.
    expect(down.body.reason).toMatch(/storage refuses writes|signer cannot save/);
    expect(await codeOf(rpc.call('tx_submit', [transfer()]))).toBe('mempool/not_ready');
    nonce--; // refused, so that nonce is still the next one
    const stuckAt = (await health(node.url)).body.height;
    await new Promise((r) => setTimeout(r, 1000));
    expect((await health(node.url)).body.height).toBe(stuckAt);
    expect(node.child.exitCode).toBeNull();

    // Space back: the node recovers on its own, with no restart.
    rmSync(filler);
    await until(async () => ((await health(node!.url)).status === 200 ? true : undefined), 20_000);
    await until(async () => ((await health(node!.url)).body.height > stuckAt + 2 ? true : undefined), 20_000);
    const after = (await rpc.call<{ hash: string }>('tx_submit', [transfer()])).hash;
    await until(async () =>
      (await rpc.call<{ status: string } | null>('tx_get', [after]))?.status === 'committed' ? true : undefined,
    );
    expect((await rpc.call<{ status: string }>('tx_get', [before])).status).toBe('committed');

    // Nothing lost: the stopped node's chain replays from genesis to the same root.
    await stopNodeProcess(node, 'SIGTERM');
    node = undefined;
    const verified = cliJson<{ ok: boolean; height: number }>(['--home', home, 'verify']);
    expect(verified.ok).toBe(true);
    expect(verified.height).toBeGreaterThan(stuckAt);
  });
});
