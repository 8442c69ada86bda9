import { createHash } from 'node:crypto';
import { addressFromPublicKey, formatAddress } from '../src/crypto/address.ts';
import { SigningKey } from '../src/crypto/ed25519.ts';
import { toHex } from '../src/crypto/hash.ts';
import { parseGenesis } from '../src/genesis.ts';
import { buildMethodTable } from '../src/rpc/methods.ts';
import { transferTx } from '../src/state/bank/module.ts';
import { buildTx, txHash } from '../src/state/tx.ts';
import { BenchNode } from './pipeline.ts';

/**
 * `tx_get` latency in a 20,000-transaction block against a one-transaction block, on LevelDB on
 * disk through the RPC method handler (no HTTP). Neither block is the tip, which the block store
 * keeps in memory. Keys and clock are fixed, so the printed digest of the views (tx_get, full
 * chain_getBlock, chain_getBlockResults) compares the results of two versions of the code.
 * Not part of `npm run bench`: `node bench/tx-get.ts [txs]`.
 */
const BIG = Number(process.argv[2] ?? 20_000);
const SENDERS = 2_000;
const seed = (i: number): SigningKey => new SigningKey(createHash('sha256').update(`tx-get-bench/${i}`).digest());

const validator = seed(-1);
const senders = Array.from({ length: SENDERS }, (_, i) => seed(i));
const genesis = parseGenesis({
  chainId: 'bench-chain',
  genesisTimeMs: 1_700_000_000_000,
  validators: [{ publicKey: toHex(validator.publicKey), power: 1 }],
  accounts: senders.map((k) => ({
    address: formatAddress(addressFromPublicKey(k.publicKey)),
    balance: (10n ** 24n).toString(),
  })),
  params: { maxBlockTxs: BIG },
});
const to = addressFromPublicKey(seed(-2).publicKey);
const nonces = new Map<number, number>();
const transfer = (s: number): Uint8Array => {
  const nonce = nonces.get(s) ?? 0;
  nonces.set(s, nonce + 1);
  return buildTx(
    senders[s]!,
    transferTx,
    { to, amount: 1n + BigInt(nonce) },
    { chainId: genesis.chainId, nonce, fee: 1000n },
  );
};

const node = await BenchNode.open(genesis, validator);
try {
  const small = [transfer(0)];
  await node.block(small);
  const big = Array.from({ length: BIG }, (_, i) => transfer(i % SENDERS));
  const { blockMs: commitMs } = await node.block(big);
  await node.block([transfer(1)]); // the tip: neither measured block is the in-memory latest block
  const methods = buildMethodTable(node.app.registry.queries);
  const ctx = { chain: node.chain, mempool: node.mempool };
  const call = (name: string, params: Record<string, unknown>) => methods.get(name)!.handler(ctx, params);

  const median = async (txs: Uint8Array[], calls: number): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const hash = txHash(txs[(i * 7919) % txs.length]!);
      const t = performance.now();
      const out = (await call('tx_get', { hash })) as { status: string } | null;
      times.push(performance.now() - t);
      if (out?.status !== 'committed') throw new Error('transaction not found as committed');
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  };
  await median(big, 3); // warm-up
  const bigMs = await median(big, 40);
  const smallMs = await median(small, 40);

  // Reading the whole block and its receipts (block sync, replay, chain_getBlock), for comparison.
  const wholeMs = async (read: () => Promise<unknown>): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      await read();
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b)[3]!;
  };
  const blockMs = await wholeMs(() => node.chain.blocks.getBlock(2));
  const receiptsMs = await wholeMs(() => node.chain.blocks.getReceipts(2));

  const digest = createHash('sha256');
  for (const i of [0, 1, BIG - 1]) digest.update(JSON.stringify(await call('tx_get', { hash: txHash(big[i]!) })));
  digest.update(JSON.stringify(await call('tx_get', { hash: txHash(small[0]!) })));
  for (const height of [1, 2, 3]) {
    digest.update(JSON.stringify(await call('chain_getBlock', { block: { height }, full: true })));
    digest.update(JSON.stringify(await call('chain_getBlockResults', { block: { height } })));
  }
  console.log(`tx_get median, block of ${BIG} txs: ${bigMs.toFixed(3)} ms`);
  console.log(`tx_get median, block of 1 tx: ${smallMs.toFixed(3)} ms`);
  console.log(`producing the ${BIG}-tx block (execute + one synced batch): ${commitMs.toFixed(0)} ms`);
  console.log(`whole block read (getBlock), ${BIG} txs: ${blockMs.toFixed(1)} ms`);
  console.log(`whole receipt list read (getReceipts), ${BIG} txs: ${receiptsMs.toFixed(1)} ms`);
  console.log(`views digest: ${digest.digest('hex')}`);
} finally {
  await node.close();
}
