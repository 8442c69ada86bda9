import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import { peerIdFromString } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { createLibp2p, type Libp2p } from 'libp2p';
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chain } from '../../src/consensus/chain.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { TributaryError } from '../../src/errors.ts';
import { genesisHash, parseGenesis, type Genesis } from '../../src/genesis.ts';
import { openChain, startProducer, type OpenedChain } from '../../src/node.ts';
import { parseResponseFrame, FrameDecoder } from '../../src/p2p/frames.ts';
import { createP2pHost } from '../../src/p2p/libp2p-host.ts';
import type { HandlerLimits, P2pNetwork } from '../../src/p2p/network.ts';
import {
  BlocksByRangeRequestCodec,
  serveSync,
  SyncClient,
  syncProtocols,
  type Status,
  type SyncSource,
} from '../../src/p2p/sync.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { LevelKvStore } from '../../src/storage/db.ts';

/*
 * Block sync between real libp2p hosts on 127.0.0.1: a server over a real chain (LevelDB on disk,
 * blocks made by the single-validator engine), a client whose own chain imports what it gets with
 * `Chain.importBlock`, and a raw libp2p node that writes garbage at the server.
 */

const validator = SigningKey.generate();
const alice = SigningKey.generate();
const bob = addressFromPublicKey(SigningKey.generate().publicKey);
const HEIGHTS = 5;
const SERVER_MAX_BLOCKS = 4;

function genesisFor(chainId: string): Genesis {
  return parseGenesis({
    chainId,
    genesisTimeMs: 1_000,
    validators: [{ publicKey: toHex(validator.publicKey), power: 10 }],
    accounts: [{ address: formatAddress(addressFromPublicKey(alice.publicKey)), balance: '1000000000' }],
  });
}

function statusOf(chain: Chain, genesis: Genesis): Status {
  const head = chain.blocks.latestBlock;
  return {
    chain_id: genesis.chainId,
    genesis_hash: genesisHash(genesis),
    height: chain.latestHeight,
    head_hash: head ? head.hash : new Uint8Array(0),
  };
}

function sourceOf(chain: Chain, genesis: Genesis): SyncSource {
  return {
    status: () => statusOf(chain, genesis),
    getBlock: async (h) => (await chain.blocks.getBlock(h))?.block,
    getCommit: (h) => chain.blocks.getCommit(h),
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof TributaryError ? e.code : `uncoded: ${String(e)}`;
  }
  return 'no error';
}

const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LOOPBACK = { listen: ['/ip4/127.0.0.1/tcp/0'], allow: ['/ip4/127.0.0.1/ipcidr/8'] };
const TEST_LIMITS: HandlerLimits = {
  maxRequestBytes: 1024,
  maxResponses: 3,
  maxResponseBytes: 4096,
  timeoutMs: 400,
  maxConcurrent: 4,
};

describe('p2p request/response and block sync', () => {
  const genesis = genesisFor('p2p-sync-test');
  const opened: OpenedChain[] = [];
  let server: OpenedChain;
  let client: OpenedChain;
  let serverNet: P2pNetwork;
  let clientNet: P2pNetwork;
  let raw: Libp2p;
  const statuses: { peer: string; status: Status }[] = [];

  beforeAll(async () => {
    server = await openChain({ db: await LevelKvStore.open(join(tmp('tributary-p2p-server-'), 'db')), genesis });
    client = await openChain({ db: await LevelKvStore.open(join(tmp('tributary-p2p-client-'), 'db')), genesis });
    opened.push(server, client);
    let t = 10_000;
    const { mempool, engine } = await startProducer(server, {
      key: validator,
      signerPath: join(tmp('tributary-p2p-signer-'), 'signer-state.json'),
      mempool: { maxTxs: 100, maxBytes: 1 << 20 },
      intervalMs: 1000,
      now: () => (t += 1000),
    });
    for (let h = 1; h <= HEIGHTS; h++) {
      if (h === 2)
        await mempool.add(
          buildTx(alice, transferTx, { to: bob, amount: 700n }, { chainId: genesis.chainId, nonce: 0, fee: 1000n }),
        );
      await engine.produceBlock();
    }
    expect(server.chain.latestHeight).toBe(HEIGHTS);

    serverNet = await createP2pHost({
      chainId: genesis.chainId,
      privateKey: await generateKeyPair('Ed25519'),
      ...LOOPBACK,
    });
    await serveSync(
      serverNet,
      sourceOf(server.chain, genesis),
      { maxBlocksPerRequest: SERVER_MAX_BLOCKS },
      { onStatus: (peer, status) => statuses.push({ peer, status }) },
    );
    await serverNet.handle(
      '/test/slow/1',
      async () => {
        await sleep(2_000);
        return [new Uint8Array([1])];
      },
      { ...TEST_LIMITS, timeoutMs: 5_000 },
    );
    await serverNet.handle(
      '/test/stuck-server/1',
      async () => {
        await sleep(2_000);
        return [new Uint8Array([1])];
      },
      TEST_LIMITS,
    );
    await serverNet.handle(
      '/test/many/1',
      async () => Array.from({ length: 10 }, (_, i) => new Uint8Array([i])),
      TEST_LIMITS,
    );
    await serverNet.handle('/test/echo/1', async (req) => [req, req], { ...TEST_LIMITS, maxResponseBytes: 1 << 20 });
    await serverNet.handle(
      '/test/throws/1',
      async () => {
        throw new Error('a bug in the handler');
      },
      TEST_LIMITS,
    );
    await serverNet.start();

    clientNet = await createP2pHost({
      chainId: genesis.chainId,
      privateKey: await generateKeyPair('Ed25519'),
      ...LOOPBACK,
      bootstrap: [serverNet.listenAddresses()[0]!],
    });
    await clientNet.start();
    const until = Date.now() + 10_000;
    while (!clientNet.peers().includes(serverNet.peerId)) {
      if (Date.now() > until) throw new Error('client did not connect');
      await sleep(25);
    }
    raw = await createLibp2p({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() },
    });
  });

  afterAll(async () => {
    await Promise.all([serverNet?.stop(), clientNet?.stop(), raw?.stop()]);
    for (const o of opened) await o.db.close();
  });

  const syncClient = (limits = {}) =>
    new SyncClient(clientNet, { status: () => statusOf(client.chain, genesis) }, limits);

  it('status handshake: each side learns the other chain, genesis and height', async () => {
    const theirs = await syncClient().requestStatus(serverNet.peerId);
    expect(theirs).toEqual(statusOf(server.chain, genesis));
    expect(theirs.height).toBe(HEIGHTS);
    expect(statuses.at(-1)).toEqual({ peer: clientNet.peerId, status: statusOf(client.chain, genesis) });
  });

  it('blocks by range round trip: the client imports every block with its certificate', async () => {
    const sync = syncClient();
    const first = await sync.requestBlocks(serverNet.peerId, 1, SERVER_MAX_BLOCKS);
    expect(first.map((b) => b.block.header!.height)).toEqual([1, 2, 3, 4]);
    for (const { block, commit } of first) await client.chain.importBlock(block, commit);
    // Past the server's tip: only what it has.
    const rest = await sync.requestBlocks(serverNet.peerId, 5, SERVER_MAX_BLOCKS);
    expect(rest.map((b) => b.block.header!.height)).toEqual([5]);
    for (const { block, commit } of rest) await client.chain.importBlock(block, commit);
    expect(client.chain.latestHeight).toBe(HEIGHTS);
    expect(toHex(client.chain.blocks.latestBlock!.hash)).toBe(toHex(server.chain.blocks.latestBlock!.hash));
    expect(toHex(client.app.stateRoot)).toBe(toHex(server.app.stateRoot));
    expect(await sync.requestBlocks(serverNet.peerId, 100, 2)).toEqual([]);
  });

  it('a range above the limit is refused with a code, by the client before asking and by the server', async () => {
    expect(await codeOf(syncClient().requestBlocks(serverNet.peerId, 1, 65))).toBe('p2p/limit_exceeded');
    const eager = syncClient({ maxBlocksPerRequest: 100 });
    const e = await eager.requestBlocks(serverNet.peerId, 1, SERVER_MAX_BLOCKS + 1).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TributaryError);
    expect((e as TributaryError).code).toBe('p2p/limit_exceeded');
    expect((e as TributaryError).data).toMatchObject({ remote: true });
    expect((await syncClient().requestStatus(serverNet.peerId)).height).toBe(HEIGHTS);
  });

  it('a peer of another genesis is refused with p2p/wrong_chain; another chain id does not even share a protocol', async () => {
    const otherGenesis = { ...statusOf(client.chain, genesis), genesis_hash: new Uint8Array(32).fill(7) };
    const stranger = new SyncClient(clientNet, { status: () => otherGenesis });
    expect(await codeOf(stranger.requestStatus(serverNet.peerId))).toBe('p2p/wrong_chain');
    const otherChain = new SyncClient(clientNet, { status: () => ({ ...otherGenesis, chain_id: 'another-chain' }) });
    expect(await codeOf(otherChain.requestStatus(serverNet.peerId))).toBe('p2p/unsupported_protocol');
  });

  it('malformed requests get a coded refusal and the server stays up', async () => {
    const { blocksByRange, status } = syncProtocols(genesis.chainId);
    const opts = { timeoutMs: 2_000, maxResponses: 4, maxBytes: 1 << 20 };
    const remoteCode = async (protocol: string, body: Uint8Array) => {
      const e = await clientNet.request(serverNet.peerId, protocol, body, opts).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TributaryError);
      expect((e as TributaryError).code).toBe('p2p/remote_error');
      return (e as TributaryError).data?.remoteCode;
    };
    for (let i = 0; i < 20; i++) {
      const junk = randomBytes(1 + ((i * 37) % 200));
      expect(await remoteCode(blocksByRange, junk)).toMatch(/^p2p\/(bad_request|limit_exceeded)$/);
      expect(await remoteCode(status, junk)).toMatch(/^p2p\/(bad_request|wrong_chain)$/);
    }
    // Well-formed protobuf but not canonical (a default-valued field written out), and a zero count.
    expect(await remoteCode(blocksByRange, new Uint8Array([0x08, 0x01, 0x10, 0x00]))).toBe('p2p/bad_request');
    expect(await remoteCode(blocksByRange, BlocksByRangeRequestCodec.encode({ start_height: 1, count: 0 }))).toBe(
      'p2p/bad_request',
    );
    // A request over the server's size limit.
    expect(await remoteCode(status, new Uint8Array(4096))).toBe('p2p/too_large');
    expect((await syncClient().requestStatus(serverNet.peerId)).height).toBe(HEIGHTS);
  });

  it('garbage on a raw stream (no framing, or a frame header claiming 2 GiB) is answered with an error frame, not a crash', async () => {
    const { blocksByRange } = syncProtocols(genesis.chainId);
    const target = serverNet.listenAddresses()[0]!;
    const { multiaddr } = await import('@multiformats/multiaddr');
    for (const payload of [
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]),
      new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80]),
      randomBytes(300),
    ]) {
      const stream = await raw.dialProtocol(multiaddr(target), blocksByRange);
      const decoder = new FrameDecoder(1024);
      const done = new Promise<void>((resolve) => stream.addEventListener('close', () => resolve()));
      stream.addEventListener('message', (evt) => decoder.push(evt.data.subarray()));
      stream.send(payload);
      await stream.close().catch(() => undefined);
      await done;
      const frame = decoder.next();
      // Random bytes may happen to read as a short, complete frame: then it is a bad request.
      expect(frame).toBeDefined();
      const parsed = parseResponseFrame(frame!);
      expect(parsed.kind).toBe('error');
      expect(parsed.kind === 'error' && parsed.code).toMatch(/^p2p\/(too_large|malformed|bad_request|limit_exceeded)$/);
    }
    // An empty stream: closed without a request.
    const empty = await raw.dialProtocol(multiaddr(target), blocksByRange);
    await empty.close();
    expect((await syncClient().requestStatus(serverNet.peerId)).height).toBe(HEIGHTS);
  });

  it('timeouts: a slow server is p2p/timeout at the client; a server past its own limit resets the stream; both stay up', async () => {
    const started = Date.now();
    expect(
      await codeOf(
        clientNet.request(serverNet.peerId, '/test/slow/1', new Uint8Array([1]), {
          timeoutMs: 300,
          maxResponses: 1,
          maxBytes: 16,
        }),
      ),
    ).toBe('p2p/timeout');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(
      await codeOf(
        clientNet.request(serverNet.peerId, '/test/stuck-server/1', new Uint8Array([1]), {
          timeoutMs: 5_000,
          maxResponses: 1,
          maxBytes: 16,
        }),
      ),
    ).toBe('p2p/stream_reset');
    expect((await syncClient().requestStatus(serverNet.peerId)).height).toBe(HEIGHTS);
  });

  it('response limits: the server cuts at its own, the client refuses more than it allows', async () => {
    const many = await clientNet.request(serverNet.peerId, '/test/many/1', new Uint8Array([1]), {
      timeoutMs: 2_000,
      maxResponses: 10,
      maxBytes: 1024,
    });
    expect(many.map((r) => r[0])).toEqual([0, 1, 2]);
    expect(
      await codeOf(
        clientNet.request(serverNet.peerId, '/test/many/1', new Uint8Array([1]), {
          timeoutMs: 2_000,
          maxResponses: 2,
          maxBytes: 1024,
        }),
      ),
    ).toBe('p2p/too_many_responses');
    const body = randomBytes(600);
    const echoed = await clientNet.request(serverNet.peerId, '/test/echo/1', body, {
      timeoutMs: 2_000,
      maxResponses: 2,
      maxBytes: 1200,
    });
    expect(echoed.map(toHex)).toEqual([toHex(body), toHex(body)]);
    expect(
      await codeOf(
        clientNet.request(serverNet.peerId, '/test/echo/1', body, {
          timeoutMs: 2_000,
          maxResponses: 2,
          maxBytes: 1199,
        }),
      ),
    ).toBe('p2p/too_large');
    const thrown = await clientNet
      .request(serverNet.peerId, '/test/throws/1', body, { timeoutMs: 2_000, maxResponses: 2, maxBytes: 1200 })
      .catch((x: unknown) => x);
    expect((thrown as TributaryError).data).toEqual({ remoteCode: 'p2p/server_error' });
    expect((await syncClient().requestStatus(serverNet.peerId)).height).toBe(HEIGHTS);
  });

  it('requests to a peer nobody can reach, or with a bad peer id, are coded', async () => {
    const nowhere = peerIdFromString(
      (await createP2pHost({ chainId: 'x', privateKey: await generateKeyPair('Ed25519'), ...LOOPBACK })).peerId,
    ).toString();
    expect(
      await codeOf(
        clientNet.request(nowhere, '/test/echo/1', new Uint8Array([1]), {
          timeoutMs: 2_000,
          maxResponses: 1,
          maxBytes: 16,
        }),
      ),
    ).toBe('p2p/unreachable');
    expect(
      await codeOf(
        clientNet.request('not-a-peer', '/test/echo/1', new Uint8Array([1]), {
          timeoutMs: 2_000,
          maxResponses: 1,
          maxBytes: 16,
        }),
      ),
    ).toBe('p2p/invalid_peer');
  });
});
