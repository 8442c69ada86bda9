import { afterAll, describe, expect, it } from 'vitest';
import { headerHash } from '../../src/codec/protocol.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { MODULE_ORDER, MODULES } from '../../src/modules.ts';
import { TxRegistry } from '../../src/state/registry.ts';
import { buildTx } from '../../src/state/tx.ts';
import { bftGenesis, startInProcessNode, waitFor, type InProcessNode } from '../helpers/bft-network.ts';
import { changeTx, configChangeModule } from '../helpers/config-change-module.ts';

/*
 * A validator set change under BFT: four validators and a fifth node that holds a key but is not in
 * the set. A transaction through chainconfig's typed path (the test module stands in for staking)
 * adds it at height h + 2; from there the new set signs: the newcomer votes, and the certificates
 * are checked against the set of their own height.
 */
describe('BFT validator set change', () => {
  const nodes: InProcessNode[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('a validator added at height h takes part from h + 2', async () => {
    const keys = Array.from({ length: 5 }, () => SigningKey.generate());
    const genesis = bftGenesis('bft-set-change', keys.slice(0, 4), [keys[0]!]);
    const registry = new TxRegistry([...MODULES, configChangeModule], MODULE_ORDER);
    for (let i = 0; i < 5; i++) {
      nodes.push(
        await startInProcessNode({
          index: i,
          genesis,
          key: keys[i],
          registry,
          bootstrap: nodes.map((n) => n.network.listenAddresses()[0]!),
        }),
      );
    }
    await waitFor(() => nodes.every((n) => n.opened.chain.latestHeight >= 2), 60_000, '2 heights');
    expect(nodes[4]!.signer!.lastSigned).toBeUndefined(); // not in the set: it follows only
    const tx = buildTx(
      keys[0]!,
      changeTx,
      { params_json: '', validator_pubkey: keys[4]!.publicKey, validator_power: 1 },
      {
        chainId: genesis.chainId,
        nonce: 0,
        fee: genesis.params.minFee,
      },
    );
    // Node 0 has no transaction gossip here: it includes the change when its turn to propose comes.
    await nodes[0]!.mempool.add(tx);
    await waitFor(
      () => nodes[0]!.mempool.size === 0 && nodes[0]!.opened.chain.latestHeight > 2,
      60_000,
      'the change committed',
    );
    let changedAt = 0;
    for (let h = 1; h <= nodes[0]!.opened.chain.latestHeight && changedAt === 0; h++) {
      const receipts = await nodes[0]!.opened.chain.getReceipts(h);
      if (receipts?.receipts.some((r) => !r.failed && r.events.some((e) => e.type === 'validators_scheduled')))
        changedAt = h;
    }
    expect(changedAt).toBeGreaterThan(0);
    const effective = changedAt + 2;
    expect((await nodes[0]!.opened.chain.validatorSet(effective)).validators).toHaveLength(5);
    expect((await nodes[0]!.opened.chain.validatorSet(effective - 1)).validators).toHaveLength(4);
    // The newcomer signs from the effective height on.
    await waitFor(
      () => (nodes[4]!.signer!.lastSigned?.height ?? 0) >= effective + 2,
      60_000,
      'the new validator to sign',
    );
    expect(nodes[4]!.signer!.lastSigned!.height).toBeGreaterThanOrEqual(effective);
    const top = Math.min(...nodes.map((n) => n.opened.chain.latestHeight));
    for (let h = effective; h <= top; h++) {
      const commit = (await nodes[1]!.opened.chain.blocks.getCommit(h))!;
      // A 5-validator set needs 4 precommits.
      expect(commit.signatures.length).toBeGreaterThanOrEqual(4);
    }
    for (let h = 1; h <= top; h++) {
      const hashes = await Promise.all(
        nodes.map(async (n) => toHex(headerHash((await n.opened.chain.blocks.getBlock(h))!.block.header!))),
      );
      expect(new Set(hashes).size).toBe(1);
    }
  }, 120_000);
});
