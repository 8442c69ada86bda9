import { availableParallelism } from 'node:os';
import { addressFromPublicKey, formatAddress } from '../src/crypto/address.ts';
import { SigningKey } from '../src/crypto/ed25519.ts';
import { toHex } from '../src/crypto/hash.ts';
import { parseGenesis } from '../src/genesis.ts';
import { transferTx } from '../src/state/bank/module.ts';
import { buildTx } from '../src/state/tx.ts';
import { BenchNode } from './pipeline.ts';
import { mib, printTable, rate, type BenchRow } from './table.ts';

/**
 * Committed transfers per second on one node, the way a node does it: every transaction is
 * decoded, signature-verified and simulated at mempool admission, then executed in a block,
 * and the block, receipts, tx index and state version are written to LevelDB in one synced
 * batch. Signing is the clients' work and is timed separately.
 */
export async function benchSpine(
  opts: { txs?: number; senders?: number; blockTxs?: number } = {},
): Promise<BenchRow[]> {
  const total = opts.txs ?? 40_000;
  const senderCount = opts.senders ?? 2_000;
  const blockTxs = opts.blockTxs ?? 10_000;
  const validator = SigningKey.generate();
  const senders = Array.from({ length: senderCount }, () => SigningKey.generate());
  const genesis = parseGenesis({
    chainId: 'bench-chain',
    genesisTimeMs: 1_700_000_000_000,
    validators: [{ publicKey: toHex(validator.publicKey), power: 1 }],
    accounts: senders.map((k) => ({
      address: formatAddress(addressFromPublicKey(k.publicKey)),
      balance: (10n ** 24n).toString(),
    })),
    params: { maxBlockTxs: blockTxs },
  });
  const node = await BenchNode.open(genesis, validator);
  try {
    // Clients sign: round-robin over senders so each block holds many senders with a few nonces each.
    const recipients = Array.from({ length: 64 }, () => addressFromPublicKey(SigningKey.generate().publicKey));
    const signStart = performance.now();
    const signed: Uint8Array[] = [];
    for (let i = 0; i < total; i++) {
      signed.push(
        buildTx(
          senders[i % senderCount]!,
          transferTx,
          { to: recipients[i % recipients.length]!, amount: 1n + BigInt(i % 1000) },
          {
            chainId: genesis.chainId,
            nonce: Math.floor(i / senderCount),
            fee: genesis.params.minFee,
          },
        ),
      );
    }
    const signMs = performance.now() - signStart;

    globalThis.gc?.();
    let admitMs = 0;
    let blockMs = 0;
    for (let i = 0; i < total; i += blockTxs) {
      const t = await node.block(signed.slice(i, i + blockTxs));
      admitMs += t.admitMs;
      blockMs += t.blockMs;
    }
    const rss = process.memoryUsage().rss;
    const broken = await node.app.checkInvariants(node.chain);
    if (broken.length) throw new Error(`invariants broken: ${broken.join('; ')}`);
    return [
      {
        name: 'committed transfers (admit + execute + commit)',
        value: rate(total, admitMs + blockMs),
        unit: 'tx/s',
        note: `${total} txs, blocks of ${blockTxs}, ${senderCount} senders, one synced LevelDB batch per block`,
      },
      {
        name: '  mempool admission (decode, verify, simulate)',
        value: rate(total, admitMs),
        unit: 'tx/s',
        note: `signatures on ${Math.max(0, availableParallelism() - 1)} worker thread(s)`,
      },
      {
        name: '  block execution + commit',
        value: rate(total, blockMs),
        unit: 'tx/s',
        note: 'execute, tree update, one atomic batch',
      },
      { name: 'client signing (not in the figures above)', value: rate(total, signMs), unit: 'tx/s' },
      { name: 'node RSS after the run', value: mib(rss), unit: 'MiB' },
    ];
  } finally {
    await node.close();
  }
}

if (import.meta.main) {
  printTable('Spine: single-node transfer throughput', await benchSpine());
}
