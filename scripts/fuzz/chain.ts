import { VoteType, headerHash, headerSignBytes, voteSignBytes } from '../../src/codec/protocol.ts';
import type { Commit } from '../../src/codec/core.ts';
import { headerFor, makeCommit } from '../../src/consensus/block-builder.ts';
import { Mempool } from '../../src/consensus/mempool.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { parseGenesis, type Genesis } from '../../src/genesis.ts';
import { openChain, type OpenedChain } from '../../src/node.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';
import { Rng } from './rng.ts';
import { FUZZ_CHAIN_ID, txErrorPrefixes } from './tx-target.ts';
import { fuzzKeys, generateTx } from './txs.ts';

export interface FixtureChain extends OpenedChain {
  genesis: Genesis;
  mempool: Mempool;
  keys: SigningKey[];
  blockHashes: Uint8Array[];
  txHashes: Uint8Array[];
}

/**
 * A real chain over the in-memory store for the RPC and sync targets: funded accounts and a few
 * committed blocks (transfers and generated transactions of every type, some of them failing), so
 * that block, receipt, transaction and state queries have something to find.
 */
export async function fixtureChain(blocks = 4): Promise<FixtureChain> {
  const validator = new SigningKey(new Uint8Array(32).fill(0xee));
  const keys = fuzzKeys(4);
  const genesis = parseGenesis({
    chainId: FUZZ_CHAIN_ID,
    genesisTimeMs: 1_700_000_000_000,
    validators: [{ name: 'v0', publicKey: toHex(validator.publicKey), power: 1 }],
    accounts: keys.map((k) => ({
      address: formatAddress(addressFromPublicKey(k.publicKey)),
      balance: '1000000000000000',
    })),
  });
  const opened = await openChain({ db: new MemoryKvStore(), genesis });
  const { app, chain } = opened;
  const allowed = txErrorPrefixes(app.registry);
  const rng = Rng.forInput('fixture', 'chain', 0);
  const nonces = keys.map(() => 0);
  const blockHashes: Uint8Array[] = [];
  const txHashes: Uint8Array[] = [];
  let lastCommit: Commit | undefined;
  for (let height = 1; height <= blocks; height++) {
    const txs: Uint8Array[] = [];
    for (const [i, key] of keys.entries()) {
      const to = addressFromPublicKey(keys[(i + 1) % keys.length]!.publicKey);
      txs.push(
        buildTx(
          key,
          transferTx,
          { to, amount: 1000n + BigInt(height) },
          { chainId: FUZZ_CHAIN_ID, nonce: nonces[i]!++, fee: genesis.params.minFee },
        ),
      );
      // A generated transaction of some type, when its message passes validateBasic: most fail in execution.
      for (let tries = 0; tries < 20; tries++) {
        const g = generateTx(rng, app.registry, [key], FUZZ_CHAIN_ID, allowed, nonces[i]);
        if (!g.valid || g.body.fee < genesis.params.minFee || g.body.fee > 1_000_000n) continue;
        txs.push(g.bytes);
        nonces[i]!++;
        break;
      }
    }
    const decoded = txs.map((b) => app.decodeTx(b));
    const finalized = await app.finalizeBlock(
      {
        chainId: FUZZ_CHAIN_ID,
        height,
        timeMs: genesis.genesisTimeMs + height * 1000,
        proposer: addressFromPublicKey(validator.publicKey),
      },
      decoded,
      'validate',
    );
    const header = await headerFor(chain, finalized, lastCommit);
    const hash = headerHash(header);
    const block = {
      header,
      proposer_signature: validator.sign(headerSignBytes(hash)),
      txs: finalized.txs.map((t) => t.bytes),
      last_commit: lastCommit,
    };
    const precommit = validator.sign(
      voteSignBytes({ chainId: FUZZ_CHAIN_ID, type: VoteType.precommit, height, round: 0, blockHash: hash }),
    );
    const commit = makeCommit(height, 0, hash, [{ validator: finalized.info.proposer, signature: precommit }]);
    await chain.commitBlock(block, commit, finalized);
    lastCommit = commit;
    blockHashes.push(hash);
    txHashes.push(...finalized.txs.map((t) => t.hash));
  }
  const mempool = new Mempool(app, { maxTxs: 2000, maxBytes: 8 << 20 });
  return { ...opened, genesis, mempool, keys, blockHashes, txHashes };
}
