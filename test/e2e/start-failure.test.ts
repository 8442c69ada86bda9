import { existsSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../../src/config.ts';
import { initHome } from '../../src/home.ts';
import { TEST_KEYRING } from '../../src/keys.ts';
import { startNode } from '../../src/node.ts';
import { codeOf } from '../helpers/codes.ts';
import { tempHome } from '../helpers/process.ts';

/** A TCP port this test holds (or held): `listening` keeps it bound until closed. */
async function boundPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** Whether this process can bind the port now (nothing of the failed node still holds it). */
async function bindable(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('a start that fails part way', () => {
  const home = tempHome('tributary-start-failure-');
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('closes what it opened: the RPC port, its address record and the database lock', async () => {
    initHome(home, { protection: TEST_KEYRING });
    const p2p = await boundPort(); // taken: the node's libp2p listen fails
    const rpcFree = await boundPort();
    const rpcPort = rpcFree.port;
    await close(rpcFree.server);
    const config: NodeConfig = {
      ...DEFAULT_CONFIG,
      rpc: { ...DEFAULT_CONFIG.rpc, port: rpcPort },
      p2p: { ...DEFAULT_CONFIG.p2p, enabled: true, listen: [`/ip4/127.0.0.1/tcp/${p2p.port}`] },
      blockIntervalMs: 100,
    };
    try {
      expect(await codeOf(startNode(home, config, pino({ level: 'silent' })))).toBe('p2p/listen_failed');
    } finally {
      await close(p2p.server);
    }
    expect(existsSync(homePaths(home).rpcAddress)).toBe(false);
    expect(await bindable(rpcPort)).toBe(true);
    // The database is closed (its lock released): the same home starts in this process.
    const node = await startNode(
      home,
      { ...config, p2p: DEFAULT_CONFIG.p2p, rpc: { ...config.rpc, port: 0 } },
      pino({ level: 'silent' }),
    );
    try {
      expect(node.chain.latestHeight).toBeGreaterThanOrEqual(0);
      expect(existsSync(homePaths(home).rpcAddress)).toBe(true);
    } finally {
      await node.stop();
    }
    expect(existsSync(homePaths(home).rpcAddress)).toBe(false);
  });
});
