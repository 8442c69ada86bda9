import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributeTx, createDatanetTx, reviewTx } from '../../src/attribution/datanet.ts';
import { homePaths } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { sha256, toHex, utf8 } from '../../src/crypto/hash.ts';
import { initHome } from '../../src/home.ts';
import { loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { type ChainEvent, type EventNotification, RpcClient } from '../../src/rpc/client.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import type { TxDefinition } from '../../src/state/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { startNodeProcess, stopNodeProcess, tempHome, until, type NodeProcess } from '../helpers/process.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';

/*
 * An indexer on the typed client follows a live chain (a real node process, real WebSocket)
 * carrying transfers and AI-economy transactions. Its connection is cut mid-stream (a TCP relay
 * destroys it), and separately it reads too slowly, so that the node closes it as lagging; each
 * time the client reconnects and resumes from the last cursor it received. What it ends with is
 * exactly the event list chain_getEvents returns for the whole range: no gap, no duplicate.
 */

const FEE = 100_000n;

/** What identifies an event and what it says, as both APIs return it. */
const essence = (e: ChainEvent) => ({
  height: e.height,
  blockHash: e.blockHash,
  blockTimeMs: e.blockTimeMs,
  txHash: e.txHash,
  txIndex: e.txIndex,
  eventIndex: e.eventIndex,
  type: e.type,
  attributes: e.attributes,
});
const place = (e: ChainEvent) => `${e.height}/${e.txIndex}/${e.eventIndex}`;

describe('an indexer on the typed client: cut off and too slow, it still ends with exactly the chain events', () => {
  const home = tempHome('tributary-indexer-');
  let node: NodeProcess;
  let rpc: RpcClient;
  let validator: SigningKey;
  let chainId: string;
  let nonce: number;
  let datanetId: number;
  let lastContribution: number | undefined;
  const bob = addressFromPublicKey(SigningKey.generate().publicKey);

  const sign = <M>(def: TxDefinition<M>, message: M) =>
    buildTx(validator, def, message, { chainId, nonce: nonce++, fee: FEE });
  /**
   * Submits in batches of 100 through the client's batch call; returns the hashes. A full mempool
   * is the node's back-pressure: the refused transactions are sent again, in order, after a pause.
   */
  const submit = async (txs: Uint8Array[]): Promise<string[]> => {
    const hashes: string[] = new Array(txs.length);
    for (let i = 0; i < txs.length; i += 100) {
      let pending = txs.slice(i, i + 100).map((tx, k) => ({ tx, at: i + k }));
      while (pending.length > 0) {
        const outcomes = await rpc.batch<{ hash: string }>(
          pending.map(({ tx }) => ({ method: 'tx_submit', params: [`0x${toHex(tx)}`] })),
        );
        const refused: typeof pending = [];
        outcomes.forEach((o, k) => {
          if (o.ok) hashes[pending[k]!.at] = o.result.hash;
          else if (o.error.code === 'mempool/full') refused.push(pending[k]!);
          else throw o.error;
        });
        if (refused.length > 0) await new Promise((r) => setTimeout(r, 200));
        pending = refused;
      }
    }
    return hashes;
  };
  const included = (hash: string) =>
    until(async () => {
      const t = await rpc.call('tx_get', [hash]);
      if (t?.status === 'failed') throw new Error(`${hash} failed: ${t.receipt?.errorCode}`);
      return t?.status === 'committed' ? t : undefined;
    }, 60_000);
  const transfers = (count: number) => Array.from({ length: count }, () => sign(transferTx, { to: bob, amount: 1n }));
  /** One round of traffic: transfers, a data contribution, and the review of the previous one. */
  const round = async (count: number): Promise<string[]> => {
    // Signed in submission order: nonces must come in sequence.
    const txs = transfers(count >> 1);
    txs.push(
      sign(contributeTx, {
        datanet_id: datanetId,
        content_hash: sha256(utf8.encode(`contribution ${nonce}`)),
        size: 10,
        uri: `ipfs://c${nonce}`,
        stake: 0n,
      }),
      ...transfers(count - (count >> 1)),
    );
    if (lastContribution !== undefined) txs.push(sign(reviewTx, { contribution_id: lastContribution, accept: true }));
    const hashes = await submit(txs);
    const receipt = (await included(hashes[count >> 1]!)).receipt!;
    const submitted = receipt.events.find((e) => e.type === 'contribution_submitted');
    lastContribution = Number(submitted!.attributes.contribution_id);
    return hashes;
  };
  /** Every event of [from, to] from chain_getEvents, paged with its cursor. */
  const chainEvents = async (from: number, to: number, types: string[]): Promise<ChainEvent[]> => {
    const out: ChainEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await rpc.call('chain_getEvents', [
        { types, fromHeight: from, toHeight: to, limit: 1000, ...(cursor ? { cursor } : {}) },
      ]);
      out.push(...page.events);
      cursor = page.cursor ?? undefined;
    } while (cursor);
    return out;
  };
  /** How many events blocks [from, to] hold in all (so no event type is left out of the comparison). */
  const eventCount = async (from: number, to: number): Promise<number> => {
    let total = 0;
    for (let h = from; h <= to; h += 100) {
      const heights = Array.from({ length: Math.min(100, to - h + 1) }, (_v, i) => h + i);
      const results = await rpc.batch<{ receipts: { events: unknown[] }[]; endBlockEvents: unknown[] }>(
        heights.map((height) => ({ method: 'chain_getBlockResults', params: [height] })),
      );
      for (const r of results) {
        if (!r.ok) throw r.error;
        total += r.result.receipts.reduce((n, x) => n + x.events.length, 0) + r.result.endBlockEvents.length;
      }
    }
    return total;
  };
  /** Two markers: the range ends at the first one's height; the second one's events show the stream passed it. */
  const endOfRange = async (): Promise<{ last: number; passed: () => Promise<void> }> => {
    const [first] = await submit(transfers(1));
    const last = (await included(first!)).height!;
    return {
      last,
      passed: async () => {
        await until(async () => ((await rpc.call('chain_status')).height > last ? true : undefined));
        await included((await submit(transfers(1)))[0]!);
      },
    };
  };
  /** The events a stream delivered up to `last`, checked against chain_getEvents and the block results. */
  const expectExactly = async (got: EventNotification[], from: number, last: number) => {
    const mine = got.filter((e) => e.height <= last);
    expect(new Set(mine.map(place)).size).toBe(mine.length);
    const types = [...new Set(mine.map((e) => e.type))].sort();
    const expected = await chainEvents(from, last, types);
    expect(mine.map(essence)).toEqual(expected.map(essence));
    expect(mine.length).toBe(await eventCount(from, last));
    // Transfers and the AI economy both ran through it.
    for (const type of ['transfer', 'contribution_submitted', 'contribution_accepted']) expect(types).toContain(type);
  };

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    validator = loadKey(homePaths(home).keys, 'validator').key;
    // Small node-side buffers for subscribers, so that a paused reader is lagging after a few
    // megabytes (the kernel's socket buffers hold the rest).
    const configPath = homePaths(home).config;
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { rpc?: Record<string, unknown> };
    config.rpc = { ...config.rpc, maxQueuedNotifications: 200, maxBufferedBytes: 64 * 1024 };
    writeFileSync(configPath, JSON.stringify(config));
    node = await startNodeProcess(home);
    rpc = node.rpc;
    chainId = (await rpc.call('chain_status')).chainId;
    nonce = (await rpc.call('account_nextNonce', [formatAddress(addressFromPublicKey(validator.publicKey))])).nonce;
    const [created] = await submit([
      sign(createDatanetTx, {
        name: 'indexed',
        metadata_hash: sha256(utf8.encode('indexed')),
        licence: 'CC0',
        curators: [],
        min_stake: 0n,
        challenge_window: 0,
      }),
    ]);
    const receipt = (await included(created!)).receipt!;
    datanetId = Number(receipt.events.find((e) => e.type === 'datanet_created')!.attributes.datanet_id);
  }, 60_000);
  afterAll(async () => {
    if (node) await stopNodeProcess(node);
    rmSync(home, { recursive: true, force: true });
  });

  it('resumes after its connection is cut mid-stream, twice', async () => {
    const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(node.url).port));
    try {
      const from = (await rpc.call('chain_status')).height + 1;
      const client = new RpcClient(`http://127.0.0.1:${proxy.port}`);
      const stream = client.subscribe('events', { fromHeight: from }, { minDelayMs: 20, heartbeatMs: 2_000 });
      const got: EventNotification[] = [];
      let stopAfter = Number.POSITIVE_INFINITY;
      const following = (async () => {
        for await (const e of stream) {
          got.push(e);
          if (got.length === 60 || got.length === 250) proxy.cutAll();
          if (e.height > stopAfter) break;
        }
      })();
      for (let i = 0; i < 8; i++) await round(60);
      const end = await endOfRange();
      stopAfter = end.last;
      await end.passed();
      await following;
      expect(proxy.cuts).toBe(2);
      expect(stream.stats.reconnects).toBeGreaterThanOrEqual(2);
      await expectExactly(got, from, end.last);
    } finally {
      await proxy.close();
    }
  }, 180_000);

  it('resumes an events subscription from a chain_getEvents cursor, and the reverse', async () => {
    const head = (await rpc.call('chain_status')).height;
    const page = await rpc.call('chain_getEvents', [{ types: ['transfer'], fromHeight: 1, toHeight: head, limit: 7 }]);
    expect(page.cursor).not.toBeNull();
    const whole = await chainEvents(1, head, ['transfer']);
    const stream = rpc.subscribe('events', { cursor: page.cursor!, filter: { type: 'transfer' } });
    const next: EventNotification[] = [];
    for await (const e of stream) {
      next.push(e);
      if (next.length === 5) break;
    }
    expect(next.map(essence)).toEqual(whole.slice(7, 12).map(essence));
    // A notification's cursor pages chain_getEvents on from the same place.
    const after = await rpc.call('chain_getEvents', [
      { types: ['transfer'], fromHeight: 1, toHeight: head, limit: 3, cursor: next[4]!.cursor },
    ]);
    expect(after.events.map(essence)).toEqual(whole.slice(12, 15).map(essence));
  });

  it('resumes after the node closes it for reading too slowly', async () => {
    const from = (await rpc.call('chain_status')).height + 1;
    const stream = rpc.subscribe('events', { fromHeight: from }, { minDelayMs: 20, maxBuffered: 100 });
    const got: EventNotification[] = [];
    let stopAfter = Number.POSITIVE_INFINITY;
    let reading!: () => void;
    const readAgain = new Promise<void>((resolve) => {
      reading = resolve;
    });
    const following = (async () => {
      for await (const e of stream) {
        got.push(e);
        // A consumer that stops for a while: the client stops reading its socket when full.
        if (got.length === 50) await readAgain;
        if (e.height > stopAfter) break;
      }
    })();
    await round(60);
    await until(async () => (got.length >= 50 ? true : undefined));
    // Notifications while it does not read, until they are past the kernel's socket buffers and
    // the node's cap (megabytes: how many depends on the kernel) and the node logs the lagging close.
    const lagged = () => node.logs.some((line) => line.includes('rpc websocket client lagging'));
    for (let i = 0; i < 40 && !lagged(); i++) await round(1_000);
    expect(lagged()).toBe(true);
    reading();
    const end = await endOfRange();
    stopAfter = end.last;
    await end.passed();
    await following;
    expect(stream.stats.lagging).toBeGreaterThanOrEqual(1);
    expect(stream.stats.reconnects).toBeGreaterThanOrEqual(1);
    await expectExactly(got, from, end.last);
  }, 300_000);
});
