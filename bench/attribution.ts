import { fileURLToPath } from 'node:url';
import { contributeTx, createDatanetTx, reviewTx } from '../src/attribution/datanet.ts';
import { payTx } from '../src/attribution/inference.ts';
import { transferTx } from '../src/state/bank/module.ts';
import { publishModelTx, registerModelTx } from '../src/attribution/model.ts';
import { EdgeKind, Relation } from '../src/attribution/store.ts';
import { addressFromPublicKey, formatAddress } from '../src/crypto/address.ts';
import { SigningKey } from '../src/crypto/ed25519.ts';
import { sha256, utf8 } from '../src/crypto/hash.ts';
import { parseGenesis } from '../src/genesis.ts';
import type { TxDefinition } from '../src/state/module.ts';
import { buildTx } from '../src/state/tx.ts';
import { BenchNode } from './pipeline.ts';
import { printTable, rate, type BenchRow } from './table.ts';

/*
 * Committed `inference/pay` throughput on one node, lineage depth 8: eight model versions in a
 * chain M1 <- M2 <- ... <- M8, payments for M8. Two datanet layouts:
 *   - "base datanets": M1 is trained on D1 and D2 and M5 adds D3, four contributions each
 *     (a payment visits 8 versions and 3 datanets and credits 12 contributions);
 *   - "datanet at every level": each Mi also cites its own datanet Di of three contributions
 *     (8 versions, 8 datanets, 24 contributions: the heavy case).
 * Pre-signed payments from many senders go through the node's own pipeline (bench/pipeline.ts):
 * mempool admission (decode, signature on a worker, simulation), block execution and one synced
 * LevelDB batch per block. Signing is not timed, nor the first (warm-up) block of payments.
 */

const SENDERS = 2_000;
const BLOCK_TXS = 4_000;
/** Timed blocks per layout (the heavy layout and the reference run half as many). */
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 5);
const DEPTH = 8;
const WARMUP_BLOCKS = 1;
const FEE = 100_000n;

interface Layout {
  name: string;
  /** datanets cited by version v (1-based) */
  datanetsOf(v: number): number[];
  datanets: number;
  contributionsPerDatanet: number;
  blocks: number;
  /** false: the same harness with plain bank transfers, as the framework's reference point */
  payments: boolean;
}

const LAYOUTS: Layout[] = [
  {
    name: 'base datanets',
    datanetsOf: (v) => (v === 1 ? [1, 2] : v === 5 ? [3] : []),
    datanets: 3,
    contributionsPerDatanet: 4,
    blocks: BLOCKS,
    payments: true,
  },
  {
    name: 'datanet at every level',
    datanetsOf: (v) => [v],
    datanets: DEPTH,
    contributionsPerDatanet: 3,
    blocks: Math.max(1, Math.ceil(BLOCKS / 2)),
    payments: true,
  },
  {
    name: 'reference: bank/transfer',
    datanetsOf: () => [],
    datanets: 0,
    contributionsPerDatanet: 0,
    blocks: Math.max(1, Math.ceil(BLOCKS / 2)),
    payments: false,
  },
];

export async function benchAttribution(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const layout of LAYOUTS) rows.push(...(await benchLayout(layout)));
  return rows;
}

async function benchLayout(layout: Layout): Promise<BenchRow[]> {
  const keys = Array.from({ length: SENDERS }, (_, i) => new SigningKey(sha256(utf8.encode(`bench sender ${i}`))));
  const builder = keys[0]!;
  const validator = new SigningKey(sha256(utf8.encode('bench validator')));
  const genesis = parseGenesis({
    chainId: 'bench-attr',
    genesisTimeMs: 1_700_000_000_000,
    validators: [{ name: 'v0', publicKey: Buffer.from(validator.publicKey).toString('hex'), power: 1 }],
    accounts: keys.map((k) => ({
      address: formatAddress(addressFromPublicKey(k.publicKey)),
      balance: (10n ** 24n).toString(),
    })),
    params: { maxBlockTxs: BLOCK_TXS },
  });
  const node = await BenchNode.open(genesis, validator);
  try {
    const nonces = new Map<SigningKey, number>();
    const sign = <M>(key: SigningKey, def: TxDefinition<M>, m: M): Uint8Array => {
      const nonce = nonces.get(key) ?? 0;
      nonces.set(key, nonce + 1);
      return buildTx(key, def, m, { chainId: genesis.chainId, nonce, fee: FEE });
    };
    const runBlock = (txs: Uint8Array[]) => node.block(txs);

    // Setup: the datanets and their accepted contributions, then the depth-8 lineage.
    if (layout.payments) {
      const setup: Uint8Array[] = [];
      for (let d = 1; d <= layout.datanets; d++) {
        setup.push(
          sign(builder, createDatanetTx, {
            name: `d${d}`,
            metadata_hash: sha256(utf8.encode(`d${d}`)),
            licence: 'CC0',
            curators: [],
            min_stake: 0n,
            challenge_window: 0,
          }),
        );
      }
      await runBlock(setup);
      const contributions: Uint8Array[] = [];
      for (let d = 1; d <= layout.datanets; d++) {
        for (let c = 0; c < layout.contributionsPerDatanet; c++) {
          contributions.push(
            sign(keys[1 + ((d * 3 + c) % 50)]!, contributeTx, {
              datanet_id: d,
              content_hash: sha256(utf8.encode(`data ${d}/${c}`)),
              size: 100 + c * 37,
              uri: '',
              stake: 0n,
            }),
          );
        }
      }
      await runBlock(contributions);
      await runBlock(
        Array.from({ length: layout.datanets * layout.contributionsPerDatanet }, (_, i) =>
          sign(builder, reviewTx, { contribution_id: i + 1, accept: true }),
        ),
      );
      await runBlock([sign(builder, registerModelTx, { name: 'chain', metadata_hash: new Uint8Array(0) })]);
      for (let v = 1; v <= DEPTH; v++) {
        const parents = layout.datanetsOf(v).map((id) => ({ kind: EdgeKind.datanet as number, id, share_bps: 1_500 }));
        if (v > 1) parents.push({ kind: EdgeKind.model, id: v - 1, share_bps: 4_000 });
        await runBlock([
          sign(builder, publishModelTx, {
            family_id: 1,
            weights_hash: sha256(utf8.encode(`w${v}`)),
            config_hash: new Uint8Array(0),
            recipe_hash: new Uint8Array(0),
            relation: v === 1 ? Relation.base : Relation.finetune,
            parents,
          }),
        ]);
      }
    }

    // Pre-signed payments for the deepest version, round-robin over the senders.
    const blocks: Uint8Array[][] = [];
    let n = 0;
    for (let b = 0; b < WARMUP_BLOCKS + layout.blocks; b++) {
      const txs: Uint8Array[] = [];
      for (let i = 0; i < BLOCK_TXS; i++, n++) {
        if (!layout.payments) {
          txs.push(
            sign(keys[n % SENDERS]!, transferTx, {
              to: addressFromPublicKey(keys[(n + 1) % SENDERS]!.publicKey),
              amount: 1n,
            }),
          );
          continue;
        }
        txs.push(
          sign(keys[n % SENDERS]!, payTx, {
            model_version_id: DEPTH,
            amount: 1_000_000n + BigInt(n),
            request_hash: sha256(utf8.encode(`request ${n}`)),
            response_hash: new Uint8Array(0),
            agent_id: 0,
            attribution_id: 0,
          }),
        );
      }
      blocks.push(txs);
    }

    let admitMs = 0;
    let blockMs = 0;
    let treeKeys = 0;
    // The first block warms the JIT and the caches and is not timed.
    for (const txs of blocks.splice(0, WARMUP_BLOCKS)) await runBlock(txs);
    const cpuStarted = process.cpuUsage();
    for (const txs of blocks) {
      const t = await runBlock(txs);
      admitMs += t.admitMs;
      blockMs += t.blockMs;
      treeKeys += t.treeKeys;
    }
    const cpu = process.cpuUsage(cpuStarted);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const count = layout.blocks * BLOCK_TXS;
    return [
      {
        name: layout.payments ? `inference/pay committed, depth 8, ${layout.name}` : layout.name,
        value: rate(count, admitMs + blockMs),
        unit: 'tx/s',
        note: `${count} txs in ${layout.blocks} blocks of ${BLOCK_TXS}, same pipeline as the spine bench`,
      },
      {
        name: '  same, per CPU second of this process',
        value: rate(count, cpuMs),
        unit: 'tx/s',
        note: 'user + system time of all its threads',
      },
      {
        name: '  mempool admission (decode, verify, simulate)',
        value: ((admitMs / count) * 1000).toFixed(1),
        unit: 'µs/tx',
      },
      { name: '  block execution + synced commit', value: ((blockMs / count) * 1000).toFixed(1), unit: 'µs/tx' },
      {
        name: layout.payments ? '  tree keys written per inference/pay' : '  tree keys written per transfer',
        value: (treeKeys / count).toFixed(3),
        unit: 'keys/tx',
        note: `state keys of the prepared versions / transactions; ${BLOCK_TXS} txs from ${SENDERS} senders per block`,
      },
    ];
  } finally {
    await node.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  printTable('attribution: committed inference payments', await benchAttribution());
}
