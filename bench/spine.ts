import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { SignatureVerifier } from '../src/crypto/verify-pool.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chain } from '../src/consensus/chain.ts';
import { Mempool } from '../src/consensus/mempool.ts';
import { SoloEngine } from '../src/consensus/solo-engine.ts';
import { ValidatorSet } from '../src/consensus/validator-set.ts';
import { addressFromPublicKey, formatAddress } from '../src/crypto/address.ts';
import { SigningKey } from '../src/crypto/ed25519.ts';
import { toHex } from '../src/crypto/hash.ts';
import { parseGenesis } from '../src/genesis.ts';
import { defaultRegistry } from '../src/modules.ts';
import { Application } from '../src/state/app.ts';
import { transferTx } from '../src/state/bank/module.ts';
import { buildTx } from '../src/state/tx.ts';
import { StateTree } from '../src/state/tree/index.ts';
import { BlockStore } from '../src/storage/block-store.ts';
import { LevelKvStore } from '../src/storage/db.ts';
import { mib, printTable, rate, type BenchRow } from './table.ts';

/**
 * Committed transfers per second on one node, the way a node does it: every transaction is
 * decoded, signature-verified and simulated at mempool admission, then executed in a block,
 * and the block, receipts, tx index and state version are written to LevelDB in one synced
 * batch. Signing is the clients' work and is timed separately.
 */
export async function benchSpine(opts: { txs?: number; senders?: number; blockTxs?: number } = {}): Promise<BenchRow[]> {
  const total = opts.txs ?? 40_000;
  const senderCount = opts.senders ?? 2_000;
  const blockTxs = opts.blockTxs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  try {
    const validator = SigningKey.generate();
    const senders = Array.from({ length: senderCount }, () => SigningKey.generate());
    const genesis = parseGenesis({
      chainId: 'bench-chain',
      genesisTimeMs: 1_700_000_000_000,
      validators: [{ publicKey: toHex(validator.publicKey), power: 1 }],
      accounts: senders.map((k) => ({ address: formatAddress(addressFromPublicKey(k.publicKey)), balance: (10n ** 24n).toString() })),
      params: { maxBlockTxs: blockTxs },
    });
    const db = await LevelKvStore.open(dir);
    const tree = await StateTree.open(db);
    const app = new Application({ tree, registry: defaultRegistry(), genesis });
    await app.initChain();
    const chain = new Chain({ db, app, blocks: await BlockStore.open(db), validatorSet: new ValidatorSet(genesis.validators) });
    const verifier = SignatureVerifier.create();
    const mempool = new Mempool(app, { maxTxs: total + 1, maxBytes: 1 << 30 }, undefined, verifier);
    let clock = genesis.genesisTimeMs;
    const engine = new SoloEngine({ chain, mempool, key: validator, intervalMs: 1000, now: () => (clock += 1000) });

    // Clients sign: round-robin over senders so each block holds many senders with a few nonces each.
    const recipients = Array.from({ length: 64 }, () => addressFromPublicKey(SigningKey.generate().publicKey));
    const signStart = performance.now();
    const signed: Uint8Array[] = [];
    for (let i = 0; i < total; i++) {
      const s = i % senderCount;
      signed.push(
        buildTx(senders[s]!, transferTx, { to: recipients[i % recipients.length]!, amount: 1n + BigInt(i % 1000) }, {
          chainId: genesis.chainId,
          nonce: Math.floor(i / senderCount),
          fee: genesis.params.minFee,
        }),
      );
    }
    const signMs = performance.now() - signStart;

    // The node: admission and block production interleaved as they would be under load.
    globalThis.gc?.();
    const start = performance.now();
    let admitMs = 0;
    let blockMs = 0;
    let blocks = 0;
    let committed = 0;
    for (let i = 0; i < total; i += blockTxs) {
      const a = performance.now();
      // Many clients at once, as the RPC server sees them: admissions overlap with verification.
      await Promise.all(signed.slice(i, i + blockTxs).map((bytes) => mempool.add(bytes)));
      const b = performance.now();
      const stored = await engine.produceBlock();
      blockMs += performance.now() - b;
      admitMs += b - a;
      committed += stored.block.txs.length;
      blocks++;
    }
    while (mempool.size > 0) {
      const stored = await engine.produceBlock();
      committed += stored.block.txs.length;
      blocks++;
    }
    const elapsed = performance.now() - start;
    const rss = process.memoryUsage().rss;
    if (committed !== total) throw new Error(`committed ${committed} of ${total}`);
    const broken = await app.checkInvariants(chain);
    if (broken.length) throw new Error(`invariants broken: ${broken.join('; ')}`);
    await verifier.close();
    await db.close();
    return [
      { name: 'committed transfers (admit + execute + commit)', value: rate(committed, elapsed), unit: 'tx/s', note: `${committed} txs, ${blocks} blocks of ${blockTxs}, ${senderCount} senders, LevelDB synced batch per block` },
      { name: '  mempool admission (decode, verify, simulate)', value: rate(committed, admitMs), unit: 'tx/s', note: `signatures on ${Math.max(0, availableParallelism() - 1)} worker thread(s)` },
      { name: '  block execution + commit', value: rate(committed, blockMs), unit: 'tx/s', note: 'execute, tree update, one atomic batch' },
      { name: 'client signing (not in the figure above)', value: rate(total, signMs), unit: 'tx/s' },
      { name: 'node RSS after the run', value: mib(rss), unit: 'MiB' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  printTable('Spine: single-node transfer throughput', await benchSpine());
}
