import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress, parseAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { initHome } from '../../src/home.ts';
import { loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { startNode, type RunningNode } from '../../src/node.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { codeOf } from '../helpers/codes.ts';
import { tempHome, until } from '../helpers/process.ts';

interface EventView {
  height: number;
  blockHash: string;
  blockTimeMs: number;
  txHash: string | null;
  txIndex: number | null;
  eventIndex: number;
  type: string;
  attributes: Record<string, string>;
}
interface EventsPage {
  events: EventView[];
  cursor: string | null;
  head: number;
  finalized: number;
}

/** `chain_getEvents` over a real HTTP server on a running node, against the blocks' own results. */
describe('JSON-RPC chain_getEvents and chain_getHeader', () => {
  const home = tempHome('tributary-rpc-events-');
  let node: RunningNode;
  let rpc: RpcClient;
  let url: string;
  // Recipient 0 is a fresh address every time; 1 and 2 get ten transfers each.
  const recipients = Array.from({ length: 3 }, () =>
    formatAddress(addressFromPublicKey(SigningKey.generate().publicKey)),
  );

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    const validator = loadKey(homePaths(home).keys, 'validator').key;
    const config: NodeConfig = { ...DEFAULT_CONFIG, rpc: { ...DEFAULT_CONFIG.rpc, port: 0 }, blockIntervalMs: 50 };
    node = await startNode(home, config, pino({ level: 'silent' }));
    url = `http://127.0.0.1:${node.rpcAddress.port}`;
    rpc = new RpcClient(url);
    const { chainId, params } = node.chain.app;
    const hashes: string[] = [];
    // Thirty transfers over several blocks, to three recipients in turn.
    for (let nonce = 0; nonce < 30; nonce++) {
      const to = addressFromPublicKey(SigningKey.generate().publicKey);
      const bytes = buildTx(
        validator,
        transferTx,
        { to: nonce % 3 === 0 ? to : parseAddress(recipients[nonce % 3]!), amount: BigInt(100 + nonce) },
        { chainId, nonce, fee: params.minFee },
      );
      hashes.push((await rpc.call<{ hash: string }>('tx_submit', ['0x' + toHex(bytes)])).hash);
      if (nonce % 10 === 9) await new Promise((r) => setTimeout(r, 120));
    }
    await until(async () => {
      const last = await rpc.call<{ status: string } | null>('tx_get', [hashes.at(-1)]);
      return last?.status === 'committed' || undefined;
    });
  });
  afterAll(async () => {
    await node.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('pages through every transfer of a range exactly once, in chain order, as the blocks report them', async () => {
    const head = (await rpc.call<{ height: number }>('chain_status')).height;
    const expected: { at: string; type: string; attributes: Record<string, string>; blockTimeMs: number }[] = [];
    for (let h = 1; h <= head; h++) {
      const { timeMs } = await rpc.call<{ timeMs: number }>('chain_getBlock', [h]);
      const results = await rpc.call<{
        receipts: { events: { type: string; attributes: Record<string, string> }[] }[];
      }>('chain_getBlockResults', [h]);
      for (const [i, r] of results.receipts.entries()) {
        for (const [k, e] of r.events.entries()) {
          if (e.type === 'transfer') expected.push({ at: `${h}.${i}.${k}`, ...e, blockTimeMs: timeMs });
        }
      }
    }
    expect(expected.length).toBeGreaterThanOrEqual(30);

    const got: typeof expected = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: EventsPage = await rpc.call<EventsPage>('chain_getEvents', [
        { types: ['transfer'], fromHeight: 1, toHeight: head, limit: 7, ...(cursor ? { cursor } : {}) },
      ]);
      expect(page.head).toBeGreaterThanOrEqual(head);
      expect(page.finalized).toBe(page.head);
      for (const e of page.events)
        got.push({
          at: `${e.height}.${e.txIndex}.${e.eventIndex}`,
          type: e.type,
          attributes: e.attributes,
          blockTimeMs: e.blockTimeMs,
        });
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(4);
    expect(got).toEqual(expected);

    // OR within one attribute.
    const wanted = recipients.slice(1);
    const either = await rpc.call<EventsPage>('chain_getEvents', [
      { types: 'transfer', fromHeight: 1, attributes: { to: wanted }, limit: 1000 },
    ]);
    expect(either.cursor).toBeNull();
    expect(either.events.map((e) => e.attributes.to)).toEqual(
      expected.filter((e) => wanted.includes(e.attributes.to!)).map((e) => e.attributes.to),
    );
    expect(either.events).toHaveLength(20);
  });

  it('chain_getHeader answers a block without its transactions, by height, hash and tag', async () => {
    const block = await rpc.call<Record<string, unknown> & { hash: string; height: number; txCount: number }>(
      'chain_getBlock',
      [2],
    );
    expect(block.txCount).toBeGreaterThan(0);
    const { txs, ...header } = block;
    expect(txs).toHaveLength(block.txCount);
    expect(await rpc.call('chain_getHeader', [2])).toEqual(header);
    expect(await rpc.call('chain_getHeader', [block.hash])).toEqual(header);
    // Every committed block is final: "finalized" and "latest" name the same block.
    const latest = await rpc.call<{ height: number }>('chain_getHeader', ['latest']);
    const finalized = await rpc.call<{ height: number }>('chain_getHeader', ['finalized']);
    expect(finalized.height).toBeGreaterThanOrEqual(latest.height);
    expect(await rpc.call('chain_getHeader', ['earliest'])).toBeNull();
  });

  it('tx_listBySender pages through every transaction of the sender exactly once, in chain order', async () => {
    const sender = formatAddress(addressFromPublicKey(loadKey(homePaths(home).keys, 'validator').key.publicKey));
    const seen: { hash: string; height: number; index: number; status: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { txs: typeof seen; cursor: string | null; head: number } = await rpc.call('tx_listBySender', {
        address: sender,
        limit: 10,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.txs.length).toBeLessThanOrEqual(10);
      seen.push(...page.txs);
      cursor = page.cursor;
      pages++;
    } while (cursor);
    // Thirty transfers: three full pages, and the third says there is no more.
    expect(pages).toBe(3);
    expect(seen).toHaveLength(30);
    expect(new Set(seen.map((t) => t.hash)).size).toBe(30);
    for (const t of seen) {
      const got = await rpc.call<{ height: number; index: number; status: string }>('tx_get', [t.hash]);
      expect({ height: got.height, index: got.index, status: got.status }).toEqual({
        height: t.height,
        index: t.index,
        status: t.status,
      });
    }
    const order = seen.map((t) => t.height * 1_000_000 + t.index);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(await codeOf(rpc.call('tx_listBySender', [sender, 0, 5000]))).toBe('rpc/range_too_large');
    // One cursor format (src/rpc/cursor.ts): the old "height.index" text, garbage and another list's cursor
    // (an events page's) are all refused with rpc/invalid_cursor.
    expect(await codeOf(rpc.call('tx_listBySender', [sender, 0, 5, 'nope']))).toBe('rpc/invalid_cursor');
    expect(await codeOf(rpc.call('tx_listBySender', [sender, 0, 5, `${seen[3]!.height}.${seen[3]!.index}`]))).toBe(
      'rpc/invalid_cursor',
    );
    expect(await codeOf(rpc.call('tx_listBySender', [sender, 0, 5, { height: 1, index: 0 }]))).toBe(
      'rpc/invalid_cursor',
    );
    const eventsPage = await rpc.call<{ cursor: string | null }>('chain_getEvents', [
      { types: ['transfer'], fromHeight: 1, limit: 1 },
    ]);
    expect(eventsPage.cursor).not.toBeNull();
    const wrongList = await rpc.call('tx_listBySender', [sender, 0, 5, eventsPage.cursor]).then(
      () => undefined,
      (e: { code: string; data: { reason: string; scope: string; rpcCode: number } }) => e,
    );
    expect(wrongList).toMatchObject({
      code: 'rpc/invalid_cursor',
      data: { reason: 'wrong_scope', scope: 'txs', rpcCode: -32062 },
    });
  });

  it('answers a range above its cap with a structured error naming the cap and the height to stop at', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'chain_getEvents',
        params: [{ types: ['transfer'], fromHeight: 5, toHeight: 50_000 }],
      }),
    });
    const body = (await res.json()) as { error: { code: number; data: Record<string, unknown> } };
    expect(body.error.code).toBe(-32061);
    expect(body.error.data).toMatchObject({
      code: 'rpc/range_too_large',
      limit: 'heights',
      max: 10_000,
      suggestedToHeight: 10_004,
    });
  });
});
