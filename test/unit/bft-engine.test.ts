import { afterEach, describe, expect, it } from 'vitest';
import { headerHash } from '../../src/codec/protocol.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { bftGenesis, startInProcessNode, waitFor, type InProcessNode } from '../helpers/bft-network.ts';

/*
 * Four BFT engines in this process over real libp2p on 127.0.0.1, each with its own LevelDB, WAL
 * and signer: they commit the same blocks, and with one of them stopped (f = 1) the other three
 * keep committing.
 */

async function startNetwork(
  chainId: string,
  n: number,
  clocks: Record<number, () => number> = {},
): Promise<InProcessNode[]> {
  const keys = Array.from({ length: n }, () => SigningKey.generate());
  const genesis = bftGenesis(chainId, keys);
  const nodes: InProcessNode[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push(
      await startInProcessNode({
        index: i,
        genesis,
        key: keys[i],
        bootstrap: nodes.map((x) => x.network.listenAddresses()[0]!),
        now: clocks[i],
      }),
    );
  }
  return nodes;
}

async function headerHashes(node: InProcessNode, upTo: number): Promise<string[]> {
  const out: string[] = [];
  for (let h = 1; h <= upTo; h++) {
    const stored = await node.opened.chain.blocks.getBlock(h);
    out.push(stored ? toHex(headerHash(stored.block.header!)) : 'missing');
  }
  return out;
}

describe('BFT engine over libp2p (in-process)', () => {
  let nodes: InProcessNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
  });

  it('4 validators commit 10 heights with identical headers and full certificates', async () => {
    nodes = await startNetwork('bft-unit-4', 4);
    await waitFor(() => nodes.every((n) => n.opened.chain.latestHeight >= 10), 60_000, '10 heights on every node');
    const reference = await headerHashes(nodes[0]!, 10);
    expect(reference).not.toContain('missing');
    for (const n of nodes.slice(1)) expect(await headerHashes(n, 10)).toEqual(reference);
    for (const n of nodes) {
      for (let h = 1; h <= 10; h++) {
        const commit = await n.opened.chain.blocks.getCommit(h);
        expect(commit!.signatures.length).toBeGreaterThanOrEqual(3); // > 2/3 of 4
      }
    }
  }, 90_000);

  it('with one of four stopped, the other three keep committing the same blocks', async () => {
    nodes = await startNetwork('bft-unit-f1', 4);
    await waitFor(() => nodes.every((n) => n.opened.chain.latestHeight >= 2), 60_000, '2 heights');
    await nodes[3]!.stop();
    const live = nodes.slice(0, 3);
    const from = Math.max(...live.map((n) => n.opened.chain.latestHeight));
    // 8 more heights: each validator's proposer turn comes twice, the stopped one's too (a round change).
    await waitFor(
      () => live.every((n) => n.opened.chain.latestHeight >= from + 8),
      60_000,
      '8 more heights with 3 of 4',
    );
    const top = Math.min(...live.map((n) => n.opened.chain.latestHeight));
    const reference = await headerHashes(live[0]!, top);
    for (const n of live.slice(1)) expect(await headerHashes(n, top)).toEqual(reference);
    const rounds = [];
    for (let h = from + 1; h <= top; h++) rounds.push((await live[0]!.opened.chain.blocks.getCommit(h))!.round);
    expect(Math.max(...rounds)).toBeGreaterThan(0); // the stopped validator's turns went to round 1
  }, 90_000);

  it('a validator stopped and restarted on its folder replays its WAL, catches up and votes again', async () => {
    nodes = await startNetwork('bft-unit-restart', 4);
    await waitFor(() => nodes.every((n) => n.opened.chain.latestHeight >= 3), 60_000, '3 heights');
    const old = nodes[2]!;
    await old.stop();
    const others = nodes.filter((n) => n !== old);
    const at = Math.max(...others.map((n) => n.opened.chain.latestHeight));
    await waitFor(
      () => others.every((n) => n.opened.chain.latestHeight >= at + 3),
      60_000,
      '3 more heights without it',
    );
    const restarted = await startInProcessNode({
      index: 2,
      genesis: old.opened.app.genesis,
      key: old.key,
      dir: old.dir,
      bootstrap: others.map((n) => n.network.listenAddresses()[0]!),
    });
    nodes[2] = restarted;
    const target = Math.max(...others.map((n) => n.opened.chain.latestHeight)) + 4;
    await waitFor(() => restarted.opened.chain.latestHeight >= target, 60_000, 'the restarted node to follow');
    // It votes again: its signer has signed at heights it reached after the restart (a certificate
    // may still miss its precommit: the others commit on the first three).
    await waitFor(() => (restarted.signer!.lastSigned?.height ?? 0) >= target, 30_000, 'the restarted node to sign');
    await waitFor(() => others.every((n) => n.opened.chain.latestHeight >= target + 2), 60_000, 'more heights');
    const top = Math.min(...nodes.map((n) => n.opened.chain.latestHeight));
    const reference = await headerHashes(others[0]!, top);
    expect(await headerHashes(restarted, top)).toEqual(reference);
  }, 120_000);

  it('a proposal whose header time is beyond maxClockDriftMs ahead of the clock is not prevoted: that proposer never gets a block in', async () => {
    // Node 1 runs 60 s fast; the default bound is 10 s.
    nodes = await startNetwork('bft-unit-clock', 4, { 1: () => Date.now() + 60_000 });
    await waitFor(() => nodes.every((n) => n.opened.chain.latestHeight >= 9), 60_000, '9 heights');
    const fastAddress = toHex(addressFromPublicKey(nodes[1]!.key!.publicKey));
    const proposers: string[] = [];
    for (let h = 1; h <= 9; h++)
      proposers.push(toHex((await nodes[0]!.opened.chain.blocks.getBlock(h))!.block.header!.proposer));
    expect(proposers).not.toContain(fastAddress);
    expect(new Set(proposers).size).toBe(3);
    const reference = await headerHashes(nodes[0]!, 9);
    for (const n of nodes.slice(1)) expect(await headerHashes(n, 9)).toEqual(reference);
  }, 90_000);

  it('a full node started late from an empty folder syncs from genesis by block sync, then follows without signing', async () => {
    nodes = await startNetwork('bft-unit-sync', 4);
    await waitFor(() => nodes.every((n) => n.opened.chain.latestHeight >= 12), 60_000, '12 heights');
    const full = await startInProcessNode({
      index: 4,
      genesis: nodes[0]!.opened.app.genesis,
      bootstrap: nodes.map((n) => n.network.listenAddresses()[0]!),
    });
    nodes.push(full);
    const target = Math.max(...nodes.slice(0, 4).map((n) => n.opened.chain.latestHeight)) + 5;
    await waitFor(() => full.opened.chain.latestHeight >= target, 60_000, 'the full node to sync and follow');
    const top = full.opened.chain.latestHeight;
    expect(await headerHashes(full, top)).toEqual(await headerHashes(nodes[0]!, top));
    expect(full.signer).toBeUndefined();
  }, 90_000);
});
