import { rmSync } from 'node:fs';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { createServer } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForTx } from '../../src/cli/wait.ts';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { isTributaryError } from '../../src/errors.ts';
import { initHome } from '../../src/home.ts';
import { loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { startNode, type RunningNode } from '../../src/node.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { cliJsonAsync, tempHome } from '../helpers/process.ts';

/*
 * `tx ... --wait` learns of inclusion from the `tx` subscription, and polls only when no
 * WebSocket can be had (here: an HTTP relay in front of the node that refuses upgrades).
 */

describe('tx --wait: the inclusion subscription, polling only as a fallback', () => {
  const home = tempHome('tributary-wait-');
  let node: RunningNode;
  let rpc: RpcClient;
  let validator: SigningKey;
  let chainId: string;
  let nonce = 0;
  let relay: NetServer;
  let relayUrl: string;
  const bob = addressFromPublicKey(SigningKey.generate().publicKey);

  const submit = async () => {
    const bytes = buildTx(validator, transferTx, { to: bob, amount: 3n }, { chainId, nonce: nonce++, fee: 1000n });
    return (await rpc.call('tx_submit', [`0x${toHex(bytes)}`])).hash;
  };

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    validator = loadKey(homePaths(home).keys, 'validator').key;
    const config: NodeConfig = { ...DEFAULT_CONFIG, rpc: { ...DEFAULT_CONFIG.rpc, port: 0 }, blockIntervalMs: 200 };
    node = await startNode(home, config, pino({ level: 'silent' }));
    rpc = new RpcClient(`http://127.0.0.1:${node.rpcAddress.port}`);
    chainId = (await rpc.call('chain_status')).chainId;
    // Forwards POSTs to the node and refuses every WebSocket upgrade, as some proxies do.
    const http = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const answer = await fetch(rpc.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
    http.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    relay = http;
    relayUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => relay?.close(r));
    await node?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('is told by the subscription, with the committed record and its height', async () => {
    const hash = await submit();
    const { tx, via } = await waitForTx(rpc, hash, 30_000);
    expect(via).toBe('subscription');
    expect(tx.status).toBe('committed');
    expect(tx.height).toBe((await rpc.call('tx_get', [hash]))!.height);
    expect(tx.receipt!.events.map((e) => e.type)).toEqual(['transfer']);
    // Already included by now: the subscription answers from the block store.
    expect((await waitForTx(rpc, hash, 30_000)).via).toBe('subscription');
  });

  it('polls when the WebSocket is refused, and gets the same record', async () => {
    const hash = await submit();
    const relayed = new RpcClient(relayUrl);
    const { tx, via } = await waitForTx(relayed, hash, 30_000);
    expect(via).toBe('polling');
    expect(tx).toEqual(await rpc.call('tx_get', [hash]));
  });

  it('gives up with cli/timeout for a transaction that never comes', async () => {
    const started = Date.now();
    const error = await waitForTx(rpc, `0x${'ab'.repeat(32)}`, 1_500).catch((e: unknown) => e);
    expect(isTributaryError(error) && error.code).toBe('cli/timeout');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('tributary tx transfer --wait prints the height it was committed at', async () => {
    const out = await cliJsonAsync<{ hash: string; height: number; status: string }>([
      '--home',
      home,
      '--rpc',
      rpc.url,
      '--json',
      'tx',
      'transfer',
      '--from',
      'validator',
      '--to',
      formatAddress(bob),
      '--amount',
      '7',
      '--wait',
    ]);
    expect(out.status).toBe('committed');
    expect(out.height).toBe((await rpc.call('tx_get', [out.hash]))!.height);
  }, 60_000);
});
