import { afterAll, describe, expect, it } from 'vitest';
import { headerHash } from '../../src/codec/protocol.ts';
import { VoteCodec } from '../../src/codec/core.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { bytesEqual, toHex } from '../../src/crypto/hash.ts';
import { bftGenesis, sleep, waitFor, type InProcessNode } from '../helpers/bft-network.ts';
import { startByzantineNetwork, type ByzantineValidator } from '../helpers/byzantine.ts';
import { DEFAULT_CONFIG } from '../../src/config.ts';
import { formatAddress } from '../../src/crypto/address.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { RpcServer } from '../../src/rpc/server.ts';

/*
 * Three honest BFT engines and one Byzantine validator (test/helpers/byzantine.ts) holding the
 * fourth key of the set, over real libp2p on 127.0.0.1. f = 1: the honest three finalize alone.
 */
describe('a Byzantine validator among three honest ones', () => {
  const keys = Array.from({ length: 4 }, () => SigningKey.generate());
  const genesis = bftGenesis('bft-byzantine', keys, keys); // validators funded: they pay the evidence transaction's fee
  const honest: InProcessNode[] = [];
  let byzantine: ByzantineValidator;
  let rpc: RpcServer | undefined;
  afterAll(async () => {
    await rpc?.close();
    await Promise.all(honest.map((n) => n.stop()));
    await byzantine?.stop();
  });

  it('its equivocation becomes evidence at every honest node and in a block (evidence_list over RPC); its garbage, oversized and wrongly signed messages are rejected and cost it its score; nobody crashes or forks', async () => {
    byzantine = await startByzantineNetwork(genesis, keys, honest);

    // 1. Two signed prevotes for different blocks at a height ahead (kept until the honest get there).
    const target = Math.max(...honest.map((n) => n.opened.chain.latestHeight)) + 2;
    await byzantine.equivocate(target, 0);
    await waitFor(() => honest.every((n) => n.engine.evidence().length >= 1), 30_000, 'evidence at every honest node');
    for (const n of honest) {
      const e = n.engine.evidence()[0]!;
      expect(bytesEqual(e.first!.validator, byzantine.address)).toBe(true);
      const [a, b] = [VoteCodec.decode(e.first!.vote), VoteCodec.decode(e.second!.vote)];
      expect([a.height, a.round, b.height, b.round]).toEqual([target, 0, target, 0]);
      expect(toHex(a.block_hash)).not.toBe(toHex(b.block_hash));
    }

    // ... and goes into a block through an evidence/submit transaction, visible over JSON-RPC.
    rpc = new RpcServer({ chain: honest[0]!.opened.chain, mempool: honest[0]!.mempool, config: DEFAULT_CONFIG.rpc });
    const address = await rpc.listen('127.0.0.1', 0);
    const client = new RpcClient(`http://127.0.0.1:${address.port}`);
    let recorded: { validator: string; height: number; round: number; includedAt: number }[] = [];
    const deadline = Date.now() + 30_000;
    while (recorded.length === 0 && Date.now() < deadline) {
      recorded = await client.call('evidence_list', [formatAddress(byzantine.address)]);
      if (recorded.length === 0) await sleep(100);
    }
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!).toMatchObject({ validator: formatAddress(byzantine.address), height: target, round: 0 });
    const includedIn = (await honest[1]!.opened.chain.blocks.getBlock(recorded[0]!.includedAt))!;
    expect(includedIn.block.txs.length).toBeGreaterThan(0);

    const scoresBefore = honest.map((n) => n.network.peerScore(byzantine.network.peerId));

    // 2. Malformed, oversized and wrongly signed messages.
    const tip = Math.max(...honest.map((n) => n.opened.chain.latestHeight)) + 1;
    await byzantine.sendGarbage();
    await byzantine.sendOversized();
    await byzantine.sendWronglySigned(tip, 0);
    await waitFor(
      () =>
        honest.every(
          (n, i) =>
            n.network.peerScore(byzantine.network.peerId) < Math.min(0, scoresBefore[i]!) ||
            !n.network.peers().includes(byzantine.network.peerId),
        ),
      20_000,
      'every honest node to penalise (or drop) the Byzantine peer',
    );

    // 3. The honest keep finalizing the same blocks.
    const now = Math.max(...honest.map((n) => n.opened.chain.latestHeight));
    await waitFor(() => honest.every((n) => n.opened.chain.latestHeight >= now + 5), 30_000, '5 more heights');
    const top = Math.min(...honest.map((n) => n.opened.chain.latestHeight));
    for (let h = 1; h <= top; h++) {
      const hashes = await Promise.all(
        honest.map(async (n) => toHex(headerHash((await n.opened.chain.blocks.getBlock(h))!.block.header!))),
      );
      expect(new Set(hashes).size).toBe(1);
    }
  }, 120_000);
});
