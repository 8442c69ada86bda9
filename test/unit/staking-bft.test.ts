import { afterAll, describe, expect, it } from 'vitest';
import { TREASURY } from '../../src/attribution/store.ts';
import { headerHash } from '../../src/codec/protocol.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { bytesEqual, toHex } from '../../src/crypto/hash.ts';
import { readAccount } from '../../src/state/bank/keeper.ts';
import { readStake } from '../../src/state/staking/store.ts';
import { bftGenesis, sleep, waitFor, type InProcessNode } from '../helpers/bft-network.ts';
import { startByzantineNetwork, type ByzantineValidator } from '../helpers/byzantine.ts';

/*
 * The double-signing validator of bft-byzantine.test.ts, now with stake: four validators bonded at
 * genesis, three honest BFT engines and the Byzantine double (test/helpers/byzantine.ts) over real
 * libp2p on 127.0.0.1. Its equivocation becomes evidence in a block; the staking module slashes
 * doubleSignSlashBps of its validator stake to the treasury, removes it from the set at the
 * consensus delay and tombstones it, and the honest three keep finalizing one chain without it.
 */
describe('a double-signing validator is slashed and removed; the chain keeps finalizing', () => {
  const keys = Array.from({ length: 4 }, () => SigningKey.generate());
  const BOND = 10_000_000n;
  const genesis = bftGenesis('staking-bft', keys, keys, {
    params: {
      // The double never signs a block either: keep the liveness window out of this test.
      modules: { staking: { doubleSignSlashBps: 1000, signedBlocksWindow: 10_000, minSignedBps: 1 } },
    },
    modules: {
      staking: {
        bonds: keys.map((k) => ({
          address: formatAddress(addressFromPublicKey(k.publicKey)),
          role: 'validator',
          amount: BOND.toString(),
        })),
      },
    },
  });
  const honest: InProcessNode[] = [];
  let byzantine: ByzantineValidator | undefined;
  afterAll(async () => {
    await Promise.all(honest.map((n) => n.stop()));
    await byzantine?.stop();
  });

  it('slashes 10% of its stake to the treasury, removes it at H + 2, tombstones it', async () => {
    const double = await startByzantineNetwork(genesis, keys, honest);
    byzantine = double;

    const target = Math.max(...honest.map((n) => n.opened.chain.latestHeight)) + 2;
    await double.equivocate(target, 0);

    // The set signing the next block no longer holds the double, at every honest node.
    const inSet = async (n: InProcessNode) =>
      (await n.opened.app.validatorsAt(n.opened.chain.latestHeight + 1)).some((v) =>
        bytesEqual(v.address, double.address),
      );
    const deadline = Date.now() + 60_000;
    while ((await Promise.all(honest.map(inSet))).some(Boolean)) {
      if (Date.now() > deadline) throw new Error('the double was not removed from the set');
      await sleep(100);
    }

    const node = honest[0]!;
    const q = node.opened.app.queryContext(node.opened.chain);
    const stake = await readStake(q.state, double.address, 'validator');
    expect(stake.bonded).toBe(BOND - BOND / 10n);
    expect((await readAccount(q.state, TREASURY)).balance).toBe(BOND / 10n);
    const listed = (await node.opened.chain.app.registry.queries
      .find((d) => d.method === 'validator_list')!
      .handler(q, {})) as { validators: { address: string }[]; jailed: { address: string; tombstoned: boolean }[] };
    expect(listed.validators.map((v) => v.address)).not.toContain(formatAddress(double.address));
    expect(listed.validators).toHaveLength(3);
    expect(listed.jailed).toEqual([
      expect.objectContaining({ address: formatAddress(double.address), tombstoned: true }),
    ]);

    // The slash is an event in the evidence transaction's receipt, at every honest node's chain.
    const slashEvents = [];
    for await (const e of node.opened.chain.index.events({ type: 'stake_slashed' })) slashEvents.push(e);
    expect(slashEvents).toHaveLength(1);
    expect(slashEvents[0]!.event.attributes).toEqual(
      expect.arrayContaining([
        { key: 'account', value: formatAddress(double.address) },
        { key: 'amount', value: (BOND / 10n).toString() },
        { key: 'reason', value: 'double_sign' },
      ]),
    );

    // Removed at the consensus delay: still signing the block after the evidence, gone from the next.
    const E = slashEvents[0]!.height;
    const has = async (h: number) =>
      (await node.opened.app.validatorsAt(h)).some((v) => bytesEqual(v.address, double.address));
    expect([await has(E), await has(E + 1), await has(E + 2)]).toEqual([true, true, false]);

    // The honest three keep finalizing the same blocks, signed by the three of them.
    const now = Math.max(...honest.map((n) => n.opened.chain.latestHeight));
    await waitFor(() => honest.every((n) => n.opened.chain.latestHeight >= now + 5), 60_000, '5 more heights');
    const top = Math.min(...honest.map((n) => n.opened.chain.latestHeight));
    for (let h = 1; h <= top; h++) {
      const hashes = await Promise.all(
        honest.map(async (n) => toHex(headerHash((await n.opened.chain.blocks.getBlock(h))!.block.header!))),
      );
      expect(new Set(hashes).size).toBe(1);
    }
  }, 150_000);
});
