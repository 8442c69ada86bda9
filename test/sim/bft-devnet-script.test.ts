import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RpcClient } from '../../src/rpc/client.ts';
import { REPO, tempHome, until } from '../helpers/process.ts';

/*
 * `npm run devnet -- --validators 4 --full-nodes 1`: five OS processes with one genesis, the RPC
 * addresses printed, every node finalizing the same blocks, and all of them gone after SIGINT
 * (what Ctrl-C sends).
 */
describe('npm run devnet', () => {
  it('starts 4 validators and 1 full node, prints their RPC addresses, and stops them all on SIGINT', async () => {
    const dir = join(tempHome('tributary-devnet-script-'), 'net');
    const child = spawn(
      join(REPO, 'node_modules', '.bin', 'node'),
      ['scripts/devnet.ts', '--validators', '4', '--full-nodes', '1', '--block-interval', '200', '--dir', dir],
      {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await until(
        async () => ((out.match(/rpc http:\/\/127\.0\.0\.1:\d+/g) ?? []).length === 5 ? true : undefined),
        30_000,
      );
      const urls = (out.match(/rpc (http:\/\/127\.0\.0\.1:\d+)/g) ?? []).map((m) => m.slice(4));
      expect(out).toContain('validator-3');
      expect(out).toContain('full-0');
      const clients = urls.map((u) => new RpcClient(u));
      await until(
        async () => {
          const heights = await Promise.all(
            clients.map((c) =>
              c
                .call<{ height: number }>('chain_status')
                .then((s) => s.height)
                .catch(() => 0),
            ),
          );
          return heights.every((h) => h >= 5) ? true : undefined;
        },
        60_000,
        200,
      );
      const hashes = await Promise.all(
        clients.map((c) => c.call<{ hash: string }>('chain_getBlock', [5]).then((b) => b.hash)),
      );
      expect(new Set(hashes).size).toBe(1);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out.match(/exited/g)?.length).toBe(5);
      // Every RPC port is closed: the nodes are gone, not orphaned.
      for (const c of clients) await expect(c.call('chain_status')).rejects.toThrow();
      expect(existsSync(join(dir, 'validator-0', 'genesis.json'))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
