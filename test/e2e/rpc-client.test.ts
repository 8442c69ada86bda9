import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { isTributaryError } from '../../src/errors.ts';
import { initHome } from '../../src/home.ts';
import { loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { startNode, type RunningNode } from '../../src/node.ts';
import { type HeadNotification, RpcClient } from '../../src/rpc/client.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { tempHome, until } from '../helpers/process.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';

/*
 * The typed client against a real node: batches keep their order and codes, a connection that
 * falls silent is noticed by the heartbeat and replaced without losing or repeating a head, a
 * subscribe the node refuses fails the stream with the node's code, and the package exports it.
 */

describe('RpcClient: batches, heartbeats, resume and refusals', () => {
  const home = tempHome('tributary-client-');
  let node: RunningNode;
  let rpc: RpcClient;
  let validator: SigningKey;
  let chainId: string;

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    validator = loadKey(homePaths(home).keys, 'validator').key;
    const config: NodeConfig = { ...DEFAULT_CONFIG, rpc: { ...DEFAULT_CONFIG.rpc, port: 0 }, blockIntervalMs: 100 };
    node = await startNode(home, config, pino({ level: 'silent' }));
    rpc = new RpcClient(`http://127.0.0.1:${node.rpcAddress.port}`);
    chainId = (await rpc.call('chain_status')).chainId;
  });
  afterAll(async () => {
    await node?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('is exported by the package as tributary/client', async () => {
    const exported = (await import('tributary/client')) as { RpcClient: unknown };
    expect(typeof exported.RpcClient).toBe('function');
  });

  it('answers a batch in call order, each call its result or its coded error', async () => {
    const bob = addressFromPublicKey(SigningKey.generate().publicKey);
    const tx = buildTx(validator, transferTx, { to: bob, amount: 1n }, { chainId, nonce: 0, fee: 1000n });
    const outcomes = await rpc.batch([
      { method: 'chain_status' },
      { method: 'no_such_method' },
      { method: 'tx_submit', params: [`0x${toHex(tx)}`] },
      { method: 'chain_getEvents', params: [{ types: ['transfer'], cursor: '1.0.0' }] },
      { method: 'account_nextNonce', params: [formatAddress(addressFromPublicKey(validator.publicKey))] },
    ]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual([
      'ok',
      'rpc/method_not_found',
      'ok',
      'rpc/invalid_cursor',
      'ok',
    ]);
    expect(outcomes[4]).toMatchObject({ ok: true, result: { nonce: 1 } });
    expect(await rpc.batch([])).toEqual([]);
    const tooMany = await rpc
      .batch(Array.from({ length: DEFAULT_CONFIG.rpc.maxBatch + 1 }, () => ({ method: 'chain_status' })))
      .catch((e: unknown) => e);
    expect(isTributaryError(tooMany) && tooMany.code).toBe('rpc/batch_too_large');
  });

  it('notices a silent connection by its heartbeat and resumes: every head once, in order', async () => {
    const proxy = await TcpProxy.start('127.0.0.1', node.rpcAddress.port);
    try {
      const client = new RpcClient(`http://127.0.0.1:${proxy.port}`);
      const heads = client.subscribe('newHeads', {}, { heartbeatMs: 300, minDelayMs: 20 });
      const got: HeadNotification[] = [];
      for await (const head of heads) {
        got.push(head);
        if (got.length === 3) proxy.freezeAll();
        if (got.length === 8) break;
      }
      expect(proxy.frozen).toBe(1);
      expect(heads.stats.heartbeatTimeouts).toBeGreaterThanOrEqual(1);
      expect(heads.stats.connections).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < got.length; i++) {
        expect(got[i]!.height).toBe(got[i - 1]!.height + 1);
        expect(got[i]!.parentHash).toBe(got[i - 1]!.hash);
      }
      // Leaving the loop closed the stream.
      await until(async () => (proxy.open === 0 ? true : undefined), 10_000, 20);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('fails the stream with the code the node refused the subscription with', async () => {
    const stream = rpc.subscribe('events', { cursor: '3.0.1' });
    const error = await stream.next().catch((e: unknown) => e);
    expect(isTributaryError(error) && error.code).toBe('rpc/invalid_cursor');
    const notIndexed = rpc.subscribe('events', { filter: { type: 'transfer', attributes: { amount: '1' } } });
    const second = await notIndexed.next().catch((e: unknown) => e);
    expect(isTributaryError(second) && second.code).toBe('index/not_indexed');
  });

  it('gives up with rpc/unreachable when nothing listens', async () => {
    const proxy = await TcpProxy.start('127.0.0.1', node.rpcAddress.port);
    const port = proxy.port;
    await proxy.close();
    const stream = new RpcClient(`http://127.0.0.1:${port}`).subscribe(
      'newHeads',
      {},
      { maxAttempts: 3, minDelayMs: 10 },
    );
    const error = await stream.next().catch((e: unknown) => e);
    expect(isTributaryError(error) && error.code).toBe('rpc/unreachable');
    expect(stream.stats.connections).toBe(3);
  });
});
