import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockCodec, SignedTxCodec } from '../../src/codec/core.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { parseGenesis } from '../../src/genesis.ts';
import { openChain, startProducer } from '../../src/node.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import type { DecodedTx } from '../../src/state/tx.ts';
import { buildTx } from '../../src/state/tx.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';
import { codeOf } from '../helpers/codes.ts';

const validator = SigningKey.generate();
const genesis = parseGenesis({
  chainId: 'known-test',
  genesisTimeMs: 1_000,
  validators: [{ publicKey: toHex(validator.publicKey), power: 1 }],
  accounts: [{ address: formatAddress(addressFromPublicKey(validator.publicKey)), balance: '1000000000' }],
});

/**
 * `verifyProposal` with `knownTx`: transactions the node's mempool verified are not verified
 * again, and nothing else changes: same execution, and bytes that are not exactly a known
 * transaction are decoded and verified as ever.
 */
describe('verifyProposal with transactions already verified', () => {
  it('reuses what the mempool verified, executes the same, and still refuses a block whose bytes differ', async () => {
    const producer = await openChain({ db: new MemoryKvStore(), genesis });
    let clock = 10_000;
    const { engine, mempool } = await startProducer(producer, {
      key: validator,
      signerPath: join(mkdtempSync(join(tmpdir(), 'tributary-known-')), 'signer-state.json'),
      mempool: {},
      intervalMs: 1000,
      now: () => (clock += 1000),
    });
    const txBytes = Array.from({ length: 20 }, (_, nonce) =>
      buildTx(
        validator,
        transferTx,
        { to: addressFromPublicKey(SigningKey.generate().publicKey), amount: 1n + BigInt(nonce) },
        { chainId: genesis.chainId, nonce, fee: genesis.params.minFee },
      ),
    );
    for (const b of txBytes) await mempool.add(b);
    const stored = await engine.produceBlock();
    expect(stored.block.txs).toHaveLength(20);

    // Two replicas of the empty chain: one verifies everything, one is told what it already holds.
    const plain = await openChain({ db: new MemoryKvStore(), genesis });
    const informed = await openChain({ db: new MemoryKvStore(), genesis });
    const known = new Map<string, DecodedTx>(
      txBytes.slice(0, 15).map((b) => {
        const tx = informed.app.decodeTx(b);
        return [toHex(tx.hash), tx];
      }),
    );
    const asked: string[] = [];
    let reused = 0;
    const knownTx = (hash: Uint8Array) => {
      asked.push(toHex(hash));
      const tx = known.get(toHex(hash));
      if (tx) reused++;
      return tx;
    };
    const a = await plain.chain.verifyProposal(stored.block, { maxRound: 0 });
    const b = await informed.chain.verifyProposal(stored.block, { maxRound: 0, knownTx });
    expect(asked).toHaveLength(20);
    expect(reused).toBe(15);
    expect(toHex(b.stateRoot)).toBe(toHex(a.stateRoot));
    expect(toHex(b.resultsRoot)).toBe(toHex(a.resultsRoot));
    expect(toHex(b.stateRoot)).toBe(toHex(stored.header.state_root));

    // The same block with one known transaction's signature flipped: its hash is no longer known,
    // so it is decoded and verified, and refused (before any root is compared).
    const tampered = BlockCodec.decode(BlockCodec.encode(stored.block));
    const signed = SignedTxCodec.decode(tampered.txs[3]!);
    signed.signature = Uint8Array.from(signed.signature, (x, i) => (i === 0 ? x ^ 1 : x));
    tampered.txs[3] = SignedTxCodec.encode(signed);
    expect(await codeOf(informed.chain.verifyProposal(tampered, { maxRound: 0, knownTx }))).toBe('tx/bad_signature');
  });
});
