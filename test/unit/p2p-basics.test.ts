import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TributaryError, type ErrorCode } from '../../src/errors.ts';
import {
  encodeFrame,
  encodeResponseChunk,
  encodeResponseError,
  encodeVarint,
  FrameDecoder,
  parseResponseFrame,
} from '../../src/p2p/frames.ts';
import { loadOrCreateP2pKey, P2P_KEY_FILE } from '../../src/p2p/keys.ts';
import { createP2pHost } from '../../src/p2p/libp2p-host.ts';
import { gossipTopicName, protocolName, validateWith, verdictFor } from '../../src/p2p/network.ts';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof TributaryError ? e.code : `uncoded: ${String(e)}`;
  }
  return 'no error';
}

async function asyncCodeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof TributaryError ? e.code : `uncoded: ${String(e)}`;
  }
  return 'no error';
}

describe('p2p frames', () => {
  it('round-trips frames fed one byte at a time', () => {
    const payloads = [
      new Uint8Array(0),
      new Uint8Array([1, 2, 3]),
      new Uint8Array(300).fill(9),
      new Uint8Array(20_000).fill(4),
    ];
    const wire = Buffer.concat(payloads.map(encodeFrame));
    const decoder = new FrameDecoder(1 << 20);
    const out: Uint8Array[] = [];
    for (const byte of wire) {
      decoder.push(new Uint8Array([byte]));
      for (let f = decoder.next(); f; f = decoder.next()) out.push(f);
    }
    expect(out.map((f) => Buffer.from(f).toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('refuses an oversized length as soon as the header is read, and non-minimal or overlong headers', () => {
    const oversized = new FrameDecoder(100);
    oversized.push(encodeVarint(101));
    expect(codeOf(() => oversized.next())).toBe('p2p/too_large');
    const nonMinimal = new FrameDecoder(100);
    nonMinimal.push(new Uint8Array([0x81, 0x00, 0x00]));
    expect(codeOf(() => nonMinimal.next())).toBe('p2p/malformed');
    const overlong = new FrameDecoder(1 << 30);
    overlong.push(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]));
    expect(codeOf(() => overlong.next())).toBe('p2p/malformed');
    expect(Array.from(encodeVarint(300))).toEqual([0xac, 0x02]);
  });

  it('response frames carry chunks or a short error code; anything else is malformed', () => {
    const chunk = new FrameDecoder(1024);
    chunk.push(encodeResponseChunk(new Uint8Array([7, 7])));
    expect(parseResponseFrame(chunk.next()!)).toEqual({ kind: 'chunk', payload: new Uint8Array([7, 7]) });
    const error = new FrameDecoder(1024);
    error.push(encodeResponseError('p2p/limit_exceeded'));
    error.push(encodeResponseError('Not A Code: <script>'));
    expect(parseResponseFrame(error.next()!)).toEqual({ kind: 'error', code: 'p2p/limit_exceeded' });
    expect(parseResponseFrame(error.next()!)).toEqual({ kind: 'error', code: 'p2p/server_error' });
    expect(codeOf(() => parseResponseFrame(new Uint8Array([2, 1])))).toBe('p2p/malformed');
    expect(codeOf(() => parseResponseFrame(new Uint8Array([1, 0x41])))).toBe('p2p/malformed');
    expect(codeOf(() => parseResponseFrame(new Uint8Array(0)))).toBe('p2p/malformed');
  });
});

describe('p2p verdicts from coded errors', () => {
  it('rejects what is invalid whatever the state, ignores what depends on it or is our own failure', () => {
    const coded = (code: ErrorCode) => new TributaryError(code, 'x');
    for (const code of [
      'codec/malformed',
      'codec/non_canonical',
      'tx/bad_signature',
      'tx/wrong_chain_id',
      'tx/too_large',
      'tx/malformed',
      'protocol/bad_vote_type',
      'consensus/bad_proposer_signature',
    ] as ErrorCode[]) {
      expect(verdictFor(coded(code)), code).toBe('reject');
    }
    for (const code of [
      'tx/nonce_too_low',
      'tx/nonce_too_high',
      'tx/fee_too_low',
      'tx/insufficient_fee_balance',
      'mempool/full',
      'mempool/duplicate',
      'bank/insufficient_funds',
      'consensus/bad_header',
      'consensus/bad_commit',
      'tx/internal_error',
    ] as ErrorCode[]) {
      expect(verdictFor(coded(code)), code).toBe('ignore');
    }
    expect(verdictFor(new Error('a bug'))).toBe('ignore');
    expect(verdictFor('a string')).toBe('ignore');
  });

  it('validateWith turns a throwing check into a verdict', async () => {
    const check = validateWith((data) => {
      if (data[0] === 1) throw new TributaryError('tx/bad_signature', 'bad');
      if (data[0] === 2) throw new TributaryError('tx/nonce_too_high', 'later');
    });
    expect(await check(new Uint8Array([0]), 'peer')).toBe('accept');
    expect(await check(new Uint8Array([1]), 'peer')).toBe('reject');
    expect(await check(new Uint8Array([2]), 'peer')).toBe('ignore');
  });

  it('topic and protocol names are scoped by chain id', () => {
    expect(gossipTopicName('devnet-1', 'vote')).toBe('/tributary/devnet-1/vote/1');
    expect(protocolName('devnet-1', 'sync/status')).toBe('/tributary/devnet-1/sync/status/1');
  });
});

describe('p2p key', () => {
  it('is created owner-only on first start and gives the same peer id after a restart', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tributary-p2p-key-'));
    const path = join(home, P2P_KEY_FILE);
    const key = await loadOrCreateP2pKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const first = await createP2pHost({ chainId: 'key-test', privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'] });
    await first.start();
    const peerId = first.peerId;
    expect(JSON.parse(readFileSync(path, 'utf8')).peerId).toBe(peerId);
    await first.stop();

    const second = await createP2pHost({
      chainId: 'key-test',
      privateKey: await loadOrCreateP2pKey(path),
      listen: ['/ip4/127.0.0.1/tcp/0'],
    });
    await second.start();
    expect(second.peerId).toBe(peerId);
    expect(second.listenAddresses()[0]).toMatch(new RegExp(`/p2p/${peerId}$`));
    await second.stop();
  });

  it('a damaged or mismatched key file is p2p/key_corrupt, never silently replaced', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tributary-p2p-key-'));
    const path = join(home, P2P_KEY_FILE);
    await loadOrCreateP2pKey(path);
    const good = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, '{"type":"Ed25519","peerId":"x","privateKey":"zz"}');
    expect(await asyncCodeOf(loadOrCreateP2pKey(path))).toBe('p2p/key_corrupt');
    writeFileSync(path, JSON.stringify({ ...good, peerId: '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo' }));
    expect(await asyncCodeOf(loadOrCreateP2pKey(path))).toBe('p2p/key_corrupt');
    writeFileSync(path, 'not json');
    expect(await asyncCodeOf(loadOrCreateP2pKey(path))).toBe('p2p/key_corrupt');
    expect(readFileSync(path, 'utf8')).toBe('not json');
  });
});

describe('p2p host configuration', () => {
  it('refuses bad addresses and limits with p2p/invalid_config', async () => {
    const privateKey = await loadOrCreateP2pKey(join(mkdtempSync(join(tmpdir(), 'tributary-p2p-cfg-')), P2P_KEY_FILE));
    const base = { chainId: 'cfg', privateKey, listen: ['/ip4/127.0.0.1/tcp/0'] };
    expect(await asyncCodeOf(createP2pHost({ ...base, bootstrap: ['not a multiaddr'] }))).toBe('p2p/invalid_config');
    expect(await asyncCodeOf(createP2pHost({ ...base, bootstrap: ['/ip4/127.0.0.1/tcp/26656'] }))).toBe(
      'p2p/invalid_config',
    );
    expect(await asyncCodeOf(createP2pHost({ ...base, allow: ['/dns4/example.com'] }))).toBe('p2p/invalid_config');
    expect(await asyncCodeOf(createP2pHost({ ...base, listen: ['127.0.0.1:26656'] }))).toBe('p2p/invalid_config');
    expect(await asyncCodeOf(createP2pHost({ ...base, maxGossipBytes: 4 * 1024 * 1024 }))).toBe('p2p/invalid_config');
    const host = await createP2pHost(base);
    expect(await asyncCodeOf(host.publish('tx', new Uint8Array([1])))).toBe('p2p/not_started');
  });
});

describe('p2p connection limits on loopback', () => {
  it('all loopback peers are one host to libp2p: past 5 inbound connections a second only the allow list gets in', async () => {
    const host = (extra: Record<string, unknown>) =>
      loadOrCreateP2pKey(join(mkdtempSync(join(tmpdir(), 'tributary-p2p-limit-')), P2P_KEY_FILE)).then((privateKey) =>
        createP2pHost({
          chainId: 'limits',
          privateKey,
          listen: ['/ip4/127.0.0.1/tcp/0'],
          redialInitialMs: 60_000,
          ...extra,
        }),
      );
    const strict = await host({});
    const allowing = await host({ allow: ['/ip4/127.0.0.1/ipcidr/8'] });
    await strict.start();
    await allowing.start();
    const clients = await Promise.all(
      Array.from({ length: 10 }, () =>
        host({ bootstrap: [strict.listenAddresses()[0]!, allowing.listenAddresses()[0]!] }),
      ),
    );
    try {
      await Promise.all(clients.map((c) => c.start()));
      const until = Date.now() + 10_000;
      while (allowing.peers().length < clients.length && Date.now() < until)
        await new Promise((r) => setTimeout(r, 25));
      expect(allowing.peers()).toHaveLength(clients.length);
      expect(strict.peers().length).toBeLessThan(clients.length);
    } finally {
      await Promise.all([strict, allowing, ...clients].map((h) => h.stop()));
    }
  });
});
