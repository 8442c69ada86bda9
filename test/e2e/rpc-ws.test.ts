import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_CONFIG, homePaths, type NodeConfig, type RpcConfig } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { initHome } from '../../src/home.ts';
import { loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { startNode, type RunningNode } from '../../src/node.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { CLOSE_LAGGING } from '../../src/rpc/ws.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { tempHome, until } from '../helpers/process.ts';

/*
 * JSON-RPC over WebSocket against a real node (chain on LevelDB, solo engine producing blocks,
 * the RPC server on a loopback port): subscriptions in order, resumes that lose and repeat
 * nothing, slow readers told where to resume and closed, and hostile messages refused with codes.
 */

interface RpcErrorBody {
  code: number;
  message: string;
  data: { code: string; limit?: string; max?: number; cursor?: Cursor; actual?: number };
}
/** Opaque (src/rpc/cursor.ts): handed back as received. */
type Cursor = string;
interface Message {
  id?: number | string | null;
  result?: unknown;
  error?: RpcErrorBody;
  method?: string;
  params?: { subscription: string; result?: unknown; error?: RpcErrorBody };
}
interface EventNote {
  height: number;
  blockHash: string;
  txHash: string | null;
  txIndex: number | null;
  eventIndex: number;
  type: string;
  attributes: Record<string, string>;
  cursor: Cursor;
}
interface Head {
  height: number;
  hash: string;
  parentHash: string;
}

/** A WebSocket JSON-RPC client that records every message in arrival order. */
class WsClient {
  readonly ws: WebSocket;
  readonly messages: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private nextId = 1;
  private readonly waiters = new Map<number, (m: Message) => void>();

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
    );
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Message;
      this.messages.push(m);
      if (typeof m.id === 'number') this.waiters.get(m.id)?.(m);
    });
    ws.on('error', () => {});
  }

  static open(url: string, options: WebSocket.ClientOptions = {}): Promise<WsClient> {
    const ws = new WebSocket(url, options);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })),
        );
      });
    });
  }

  request(method: string, params: unknown = []): Promise<Message> {
    const id = this.nextId++;
    const answered = new Promise<Message>((resolve) => this.waiters.set(id, resolve));
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return answered;
  }

  async subscribe(kind: string, options?: Record<string, unknown>): Promise<string> {
    const reply = await this.request('chain_subscribe', options ? [kind, options] : [kind]);
    if (reply.error) throw new Error(`subscribe failed: ${JSON.stringify(reply.error)}`);
    return reply.result as string;
  }

  /** Notification results of one subscription, in arrival order. */
  results<T>(subscription: string): T[] {
    return this.messages
      .filter((m) => m.method === 'chain_subscription' && m.params?.subscription === subscription && m.params.result)
      .map((m) => m.params!.result as T);
  }

  errors(subscription?: string): RpcErrorBody[] {
    return this.messages
      .filter(
        (m) =>
          m.method === 'chain_subscription' &&
          m.params?.error &&
          (subscription === undefined || m.params.subscription === subscription),
      )
      .map((m) => m.params!.error!);
  }

  close(): void {
    this.ws.close();
  }
}

const key = (e: EventNote) => `${e.height}/${e.txIndex}/${e.eventIndex}`;
const essence = (e: Pick<EventNote, 'height' | 'txHash' | 'txIndex' | 'eventIndex' | 'type' | 'attributes'>) => ({
  height: e.height,
  txHash: e.txHash,
  txIndex: e.txIndex,
  eventIndex: e.eventIndex,
  type: e.type,
  attributes: e.attributes,
});

describe('JSON-RPC over WebSocket: subscriptions, resume, slow readers, hostile input', () => {
  const home = tempHome('tributary-ws-');
  let node: RunningNode;
  let http: RpcClient;
  let wsUrl: string;
  let validator: SigningKey;
  let chainId: string;
  let nonce = 0;
  const bob = addressFromPublicKey(SigningKey.generate().publicKey);
  const carol = addressFromPublicKey(SigningKey.generate().publicKey);
  const rpc: Partial<RpcConfig> = {
    maxBodyBytes: 64 * 1024,
    maxSubscriptionsPerConnection: 40,
    maxBufferedBytes: 256 * 1024,
    maxQueuedNotifications: 2_000,
  };

  /** Signs `count` transfers and submits them in HTTP batches of 100; returns their hashes. */
  const transfers = async (count: number, to = bob): Promise<string[]> => {
    const hashes: string[] = [];
    for (let start = 0; start < count; start += 100) {
      const batch = [];
      for (let i = start; i < Math.min(count, start + 100); i++) {
        const tx = buildTx(validator, transferTx, { to, amount: 1n }, { chainId, nonce: nonce++, fee: 1000n });
        batch.push({ jsonrpc: '2.0', id: i, method: 'tx_submit', params: ['0x' + toHex(tx)] });
      }
      const res = await fetch(http.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch),
      });
      const replies = (await res.json()) as Message[];
      for (const r of replies) {
        if (r.error) throw new Error(`tx_submit failed: ${JSON.stringify(r.error)}`);
        hashes.push((r.result as { hash: string }).hash);
      }
    }
    return hashes;
  };
  const included = (hash: string) =>
    until(async () => {
      const t = await http.call<{ status: string; height: number } | null>('tx_get', [hash]);
      return t && t.status !== 'pending' && t.status !== 'queued' ? t.height : undefined;
    }, 60_000);
  /** Every event of heights [from, to] as the HTTP API returns them, in chain order. */
  const eventsOverHttp = async (from: number, to: number) => {
    const out: ReturnType<typeof essence>[] = [];
    for (let h = from; h <= to; h++) {
      const r = await http.call<{
        receipts: { txHash: string; events: { type: string; attributes: Record<string, string> }[] }[];
        endBlockEvents: { type: string; attributes: Record<string, string> }[];
      }>('chain_getBlockResults', [h]);
      for (const [txIndex, receipt] of r.receipts.entries()) {
        for (const [eventIndex, e] of receipt.events.entries())
          out.push(essence({ height: h, txHash: receipt.txHash, txIndex, eventIndex, ...e }));
      }
      for (const [eventIndex, e] of r.endBlockEvents.entries()) {
        out.push(essence({ height: h, txHash: null, txIndex: null, eventIndex, ...e }));
      }
    }
    return out;
  };
  const height = async () => (await http.call<{ height: number }>('chain_status')).height;

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    validator = loadKey(homePaths(home).keys, 'validator').key;
    const config: NodeConfig = {
      ...DEFAULT_CONFIG,
      rpc: { ...DEFAULT_CONFIG.rpc, port: 0, ...rpc },
      blockIntervalMs: 100,
    };
    node = await startNode(home, config, pino({ level: 'silent' }));
    http = new RpcClient(`http://127.0.0.1:${node.rpcAddress.port}`);
    wsUrl = `ws://127.0.0.1:${node.rpcAddress.port}`;
    chainId = node.chain.app.chainId;
  });
  afterAll(async () => {
    await node?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('delivers newHeads in height order, each block once, the same blocks HTTP serves', async () => {
    const client = await WsClient.open(wsUrl);
    const sub = await client.subscribe('newHeads');
    await until(async () => (client.results(sub).length >= 6 ? true : undefined), 30_000, 20);
    const heads = client.results<Head>(sub);
    for (let i = 1; i < heads.length; i++) {
      expect(heads[i]!.height).toBe(heads[i - 1]!.height + 1);
      expect(heads[i]!.parentHash).toBe(heads[i - 1]!.hash);
    }
    const block = await http.call<{ hash: string }>('chain_getBlock', [heads[2]!.height]);
    expect(block.hash).toBe(heads[2]!.hash);
    // The answer to subscribe comes before the first notification.
    const firstNote = client.messages.findIndex((m) => m.method === 'chain_subscription');
    const answer = client.messages.findIndex((m) => m.result === sub);
    expect(answer).toBeGreaterThanOrEqual(0);
    expect(answer).toBeLessThan(firstNote);
    expect((await client.request('chain_unsubscribe', [sub])).result).toBe(true);
    expect((await client.request('chain_unsubscribe', [sub])).result).toBe(false);
    client.close();
  });

  it('filters events by type and indexed attribute, and notifies a transaction once when included', async () => {
    const client = await WsClient.open(wsUrl);
    const toBob = await client.subscribe('events', {
      filter: { type: 'transfer', attributes: { to: formatAddress(bob) } },
    });
    const toEither = await client.subscribe('events', {
      filter: { type: 'transfer', attributes: { to: [formatAddress(bob), formatAddress(carol)] } },
    });
    const [toCarol] = await transfers(1, carol);
    const [bobHash] = await transfers(1, bob);
    const pending = await client.subscribe('tx', { hash: bobHash });
    const bobHeight = await included(bobHash!);
    await included(toCarol!);
    await until(async () => (client.results(pending).length === 1 ? true : undefined), 30_000, 20);
    const note = client.results<{ hash: string; height: number; status: string }>(pending)[0]!;
    expect(note).toMatchObject({ hash: bobHash, height: bobHeight, status: 'committed' });
    await until(async () => (client.results(toEither).length >= 2 ? true : undefined), 30_000, 20);
    const bobEvents = client.results<EventNote>(toBob);
    expect(bobEvents.map((e) => e.txHash)).toEqual([bobHash]);
    expect(bobEvents[0]!.attributes.to).toBe(formatAddress(bob));
    expect(
      client
        .results<EventNote>(toEither)
        .map((e) => e.txHash)
        .sort(),
    ).toEqual([bobHash, toCarol].sort());
    // Already included: the one notification comes at once.
    const late = await client.subscribe('tx', { hash: bobHash });
    await until(async () => (client.results(late).length === 1 ? true : undefined), 30_000, 20);
    expect(client.results<{ height: number }>(late)[0]!.height).toBe(bobHeight);
    // Only indexed fields filter, as in the index.
    const bad = await client.request('chain_subscribe', [
      'events',
      { filter: { type: 'transfer', attributes: { amount: '1' } } },
    ]);
    expect(bad.error?.data.code).toBe('index/not_indexed');
    // A tx subscription ends itself: its one notification stays one.
    await new Promise((r) => setTimeout(r, 300));
    expect(client.results(pending)).toHaveLength(1);
    client.close();
  });

  it('a client cut off mid-stream resumes from its cursor: no gap, no duplicate, exactly the chain events', async () => {
    const start = (await height()) + 1;
    const first = await WsClient.open(wsUrl);
    const sub1 = await first.subscribe('events', { fromHeight: start });
    const sending = (async () => {
      const hashes: string[] = [];
      for (let round = 0; round < 6; round++) {
        hashes.push(...(await transfers(50)));
        await new Promise((r) => setTimeout(r, 120));
      }
      return hashes;
    })();
    await until(async () => (first.results(sub1).length >= 80 ? true : undefined), 60_000, 5);
    first.ws.terminate();
    await first.closed;
    const before = first.results<EventNote>(sub1);
    const cursor = before.at(-1)!.cursor;
    // Back while blocks keep coming: the replay of what was missed meets the live stream.
    const second = await WsClient.open(wsUrl);
    const sub2 = await second.subscribe('events', { cursor });
    const hashes = await sending;
    await included(hashes.at(-1)!);
    const [marker] = await transfers(1, carol);
    const markerHeight = await included(marker!);
    await until(
      async () => (second.results<EventNote>(sub2).some((e) => e.height >= markerHeight) ? true : undefined),
      60_000,
      20,
    );
    second.close();
    const after = second.results<EventNote>(sub2);
    const all = [...before, ...after].filter((e) => e.height < markerHeight);
    const expected = await eventsOverHttp(start, markerHeight - 1);
    expect(new Set(all.map(key)).size).toBe(all.length);
    expect(all.map(essence)).toEqual(expected);
    expect(expected.filter((e) => e.type === 'transfer').length).toBeGreaterThanOrEqual(300);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
  }, 120_000);

  it('batch: true sends lists of events (within the caps), exactly the unbatched stream, the same lists to equal filters', async () => {
    const start = (await height()) + 1;
    const client = await WsClient.open(wsUrl);
    const single = await client.subscribe('events', { fromHeight: start });
    const batched = await client.subscribe('events', { fromHeight: start, batch: true });
    const other = await WsClient.open(wsUrl);
    const batchedToo = await other.subscribe('events', { fromHeight: start, batch: true });
    const filtered = await other.subscribe('events', {
      fromHeight: start,
      batch: true,
      filter: { type: 'transfer', attributes: { to: formatAddress(carol) } },
    });
    // Hundreds of events per block: lists, not single events.
    const hashes = [...(await transfers(1_500)), ...(await transfers(20, carol))];
    const last = await included(hashes.at(-1)!);
    const [marker] = await transfers(1, bob);
    const markerHeight = await included(marker!);
    const flat = (c: WsClient, id: string) => c.results<EventNote[]>(id).flat();
    const upToMarker = (c: WsClient, id: string) => flat(c, id).filter((e) => e.height < markerHeight);
    await until(
      async () => (flat(client, batched).some((e) => e.height >= markerHeight) ? true : undefined),
      60_000,
      20,
    );
    await until(
      async () => (client.results<EventNote>(single).some((e) => e.height >= markerHeight) ? true : undefined),
      60_000,
      20,
    );
    await until(
      async () => (flat(other, batchedToo).some((e) => e.height >= markerHeight) ? true : undefined),
      60_000,
      20,
    );
    const lists = client.results<EventNote[]>(batched);
    expect(lists.every((l) => Array.isArray(l) && l.length >= 1 && l.length <= 1_000)).toBe(true);
    // Fewer notifications than events: a block's events travel together.
    expect(lists.length).toBeLessThan(flat(client, batched).length / 10);
    const unbatched = client.results<EventNote>(single).filter((e) => e.height < markerHeight);
    expect(upToMarker(client, batched)).toEqual(unbatched);
    expect(unbatched.map(essence)).toEqual(await eventsOverHttp(start, markerHeight - 1));
    expect(upToMarker(other, batchedToo)).toEqual(unbatched);
    // The filter as unbatched: carol's 20 transfers, each once, with the same cursors.
    const toCarol = upToMarker(other, filtered);
    expect(toCarol.map(essence)).toEqual(
      unbatched.filter((e) => e.type === 'transfer' && e.attributes.to === formatAddress(carol)).map(essence),
    );
    expect(toCarol).toHaveLength(20);
    expect(last).toBeLessThan(markerHeight);
    // A cursor from inside a list resumes right after that event.
    const middle = flat(client, batched)[700]!;
    const resumed = await WsClient.open(wsUrl);
    const again = await resumed.subscribe('events', { cursor: middle.cursor, batch: true });
    await until(
      async () => (flat(resumed, again).some((e) => e.height >= markerHeight) ? true : undefined),
      60_000,
      20,
    );
    expect(upToMarker(resumed, again)).toEqual(unbatched.slice(701));
    const bad = await client.request('chain_subscribe', ['events', { batch: 'yes' }]);
    expect(bad.error?.data.code).toBe('rpc/invalid_params');
    for (const c of [client, other, resumed]) c.close();
  }, 120_000);

  it('a slow reader gets one lagging error per subscription naming its cursor, then close 4008; blocks keep coming', async () => {
    const slow = await WsClient.open(wsUrl);
    const subs: string[] = [];
    for (let i = 0; i < 32; i++) subs.push(await slow.subscribe('events'));
    const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    // Beside it, a client that reads: it gets every event and stays open.
    const reader = await WsClient.open(wsUrl);
    const readerSubs: string[] = [];
    for (let i = 0; i < 8; i++) readerSubs.push(await reader.subscribe('events'));
    const heightBefore = await height();
    // About 32 × 700 × 400 bytes: more than the kernel's socket buffers and the node's cap together.
    const hashes = await transfers(700);
    await included(hashes.at(-1)!);
    // Another client is served meanwhile, and the chain moves on.
    const other = await WsClient.open(wsUrl);
    expect((await other.request('chain_status')).result).toBeDefined();
    other.close();
    await until(async () => ((await height()) >= heightBefore + 5 ? true : undefined), 30_000);
    socket.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(CLOSE_LAGGING);
    const lastSeen = Math.max(...subs.flatMap((sub) => slow.results<EventNote>(sub).map((e) => e.height)));
    const chainEvents = await eventsOverHttp(heightBefore + 1, lastSeen);
    let delivered = 0;
    for (const sub of subs) {
      const errors = slow.errors(sub);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.data.code).toBe('rpc/subscription_lagging');
      const received = slow.results<EventNote>(sub);
      delivered += received.length;
      // The cursor is the position right after the last event this subscription was sent.
      if (received.length > 0) expect(errors[0]!.data.cursor).toEqual(received.at(-1)!.cursor);
      // Nothing was skipped before it: what was sent is the chain's events from the start, in order.
      expect(received.map(essence)).toEqual(chainEvents.slice(0, received.length));
    }
    // The node stopped short of everything: the cap, not the end of the events, ended the stream.
    expect(delivered).toBeLessThan(subs.length * 700);
    // The lagging client resumes from its cursor and ends with exactly the chain's events.
    const lastTransferHeight = await included(hashes.at(-1)!);
    const resumed = await WsClient.open(wsUrl);
    const again = await resumed.subscribe('events', { cursor: slow.errors(subs[0])[0]!.data.cursor });
    // The cursor is opaque: a later marker's event shows the stream is past lastTransferHeight.
    const [marker] = await transfers(1, carol);
    const markerHeight = await included(marker!);
    await until(
      async () => (resumed.results<EventNote>(again).at(-1)?.height ?? 0) >= markerHeight || undefined,
      60_000,
      20,
    );
    resumed.close();
    const whole = [...slow.results<EventNote>(subs[0]!), ...resumed.results<EventNote>(again)].filter(
      (e) => e.height <= lastTransferHeight,
    );
    expect(whole.map(essence)).toEqual(await eventsOverHttp(heightBefore + 1, lastTransferHeight));
    const readerEvents = await eventsOverHttp(heightBefore + 1, lastTransferHeight);
    await until(
      async () => (reader.results(readerSubs.at(-1)!).length >= readerEvents.length ? true : undefined),
      60_000,
      20,
    );
    for (const sub of readerSubs) {
      expect(
        reader
          .results<EventNote>(sub)
          .filter((e) => e.height <= lastTransferHeight)
          .map(essence),
      ).toEqual(readerEvents);
    }
    expect(reader.errors()).toEqual([]);
    expect(reader.ws.readyState).toBe(WebSocket.OPEN);
    reader.close();
    // The error notifications are the last messages before the close.
    const lastErrorAt = slow.messages.findLastIndex((m) => m.params?.error);
    expect(slow.messages.slice(lastErrorAt + 1)).toEqual([]);
    const h = await height();
    await until(async () => ((await height()) > h + 2 ? true : undefined), 30_000);
  }, 120_000);

  it('refuses hostile input with coded errors and keeps serving', async () => {
    const client = await WsClient.open(wsUrl);
    client.ws.send('{"jsonrpc":"2.0","id":1,"method":');
    await until(async () => (client.messages.length >= 1 ? true : undefined), 10_000, 10);
    expect(client.messages[0]!.error).toMatchObject({ code: -32700, data: { code: 'rpc/parse_error' } });

    client.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'chain_status', params: ['x'.repeat(70_000)] }));
    await until(async () => (client.messages.length >= 2 ? true : undefined), 10_000, 10);
    expect(client.messages[1]!.error?.data).toMatchObject({
      code: 'rpc/request_too_large',
      limit: 'message_bytes',
      max: 64 * 1024,
    });

    const batch = Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'chain_status' }));
    client.ws.send(JSON.stringify(batch));
    await until(async () => (client.messages.length >= 3 ? true : undefined), 10_000, 10);
    expect(client.messages[2]!.error?.data).toMatchObject({ code: 'rpc/batch_too_large', limit: 'batch_items' });

    // Deep nesting within the size cap: refused as a request, not a crash.
    client.ws.send('['.repeat(30_000) + ']'.repeat(30_000));
    await until(async () => (client.messages.length >= 4 ? true : undefined), 10_000, 10);
    // A batch of one call that is an array, not an object.
    expect((client.messages[3] as unknown as Message[])[0]?.error?.data.code).toBe('rpc/invalid_request');
    // A flood of calls sent without waiting: every one answered, in bounded memory.
    const flood = await Promise.all(Array.from({ length: 2000 }, () => client.request('chain_status')));
    expect(flood.every((r) => (r.result as { chainId?: string } | undefined)?.chainId === chainId)).toBe(true);

    expect((await client.request('no_such_method')).error?.data.code).toBe('rpc/method_not_found');
    expect((await client.request('chain_subscribe', ['blocks'])).error?.data.code).toBe('rpc/invalid_params');
    expect((await client.request('chain_subscribe', ['newHeads', { fromHeight: 'soon' }])).error?.data.code).toBe(
      'rpc/invalid_params',
    );

    for (let i = 0; i < 40; i++) await client.subscribe('newHeads');
    const over = await client.request('chain_subscribe', ['newHeads']);
    expect(over.error).toMatchObject({
      code: -32058,
      data: { code: 'rpc/too_many_subscriptions', limit: 'subscriptions', max: 40 },
    });
    // The same connection still answers calls.
    expect((await client.request('chain_status')).result).toMatchObject({ chainId });
    client.close();

    // A frame past twice the message cap is refused from its header: close 1009.
    const huge = await WsClient.open(wsUrl);
    huge.ws.send('x'.repeat(200 * 1024));
    expect((await huge.closed).code).toBe(1009);

    // Subscriptions need a WebSocket.
    await expect(http.call('chain_subscribe', ['newHeads'])).rejects.toMatchObject({
      code: 'rpc/websocket_required',
    });
    // The browser policy of HTTP applies to the upgrade.
    await expect(WsClient.open(wsUrl, { origin: 'http://evil.example' })).rejects.toMatchObject({ status: 403 });
    await expect(WsClient.open(wsUrl, { headers: { host: 'evil.example' } })).rejects.toMatchObject({ status: 403 });

    const h = await height();
    await until(async () => ((await height()) > h + 2 ? true : undefined), 30_000);
  });
});

describe('WebSocket heartbeats, connection caps and shutdown', () => {
  const home = tempHome('tributary-ws-ping-');
  let node: RunningNode;
  let wsUrl: string;

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    const config: NodeConfig = {
      ...DEFAULT_CONFIG,
      // HTTP's short timeouts must not cut an upgraded connection: heartbeats are its liveness check.
      rpc: {
        ...DEFAULT_CONFIG.rpc,
        port: 0,
        pingIntervalMs: 200,
        maxConnectionsPerClient: 4,
        headersTimeoutMs: 300,
        requestTimeoutMs: 600,
        idleTimeoutMs: 600,
      },
      blockIntervalMs: 200,
    };
    node = await startNode(home, config, pino({ level: 'silent' }));
    wsUrl = `ws://127.0.0.1:${node.rpcAddress.port}`;
  });
  afterAll(async () => {
    await node?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('terminates a connection that stops answering pings, and keeps one that answers', async () => {
    const mute = await WsClient.open(wsUrl, { autoPong: false });
    const alive = await WsClient.open(wsUrl);
    const sub = await alive.subscribe('newHeads');
    let pings = 0;
    mute.ws.on('ping', () => pings++);
    const closed = await mute.closed;
    // Terminated without a close frame: the client sees an abnormal closure.
    expect(closed.code).toBe(1006);
    expect(pings).toBeGreaterThanOrEqual(1);
    const seen = alive.results(sub).length;
    const opened = Date.now();
    await until(async () => (alive.results(sub).length > seen + 2 ? true : undefined), 30_000, 20);
    // Past every HTTP timeout of this node, the answering connection is still served.
    await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (Date.now() - opened))));
    const later = alive.results(sub).length;
    await until(async () => (alive.results(sub).length > later ? true : undefined), 30_000, 20);
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    alive.close();
  });

  it('counts WebSocket connections against the HTTP connection caps', async () => {
    const open = await Promise.all([1, 2, 3, 4].map(() => WsClient.open(wsUrl)));
    const refused = await WsClient.open(wsUrl).then(
      () => undefined,
      (e: { status?: number; body?: string }) => e,
    );
    expect(refused?.status).toBe(503);
    expect((JSON.parse(refused!.body!) as Message).error?.data).toMatchObject({
      code: 'rpc/too_many_connections',
      limit: 'connections_per_client',
      max: 4,
    });
    open[0]!.close();
    await open[0]!.closed;
    const again = await until(() => WsClient.open(wsUrl).catch(() => undefined), 10_000, 50);
    expect(again.ws.readyState).toBe(WebSocket.OPEN);
    for (const c of [...open.slice(1), again]) c.close();
    await Promise.all([...open.slice(1), again].map((c) => c.closed));
  });

  it('closes WebSocket clients with 1001 when the node stops', async () => {
    const client = await WsClient.open(wsUrl);
    await client.subscribe('newHeads');
    await node.stop();
    expect((await client.closed).code).toBe(1001);
  });
});
