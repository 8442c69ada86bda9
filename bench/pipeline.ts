import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chain } from '../src/consensus/chain.ts';
import { Mempool } from '../src/consensus/mempool.ts';
import { SoloEngine } from '../src/consensus/solo-engine.ts';
import { ValidatorSet } from '../src/consensus/validator-set.ts';
import type { SigningKey } from '../src/crypto/ed25519.ts';
import { SignatureVerifier } from '../src/crypto/verify-pool.ts';
import type { Genesis } from '../src/genesis.ts';
import { defaultRegistry } from '../src/modules.ts';
import { Application } from '../src/state/app.ts';
import { StateTree } from '../src/state/tree/index.ts';
import { BlockStore } from '../src/storage/block-store.ts';
import { LevelKvStore } from '../src/storage/db.ts';

/**
 * A node as `tributary start` wires it (mempool with worker-thread signature checks, the
 * single-validator engine, the chain writing one synced LevelDB batch per block), minus the RPC
 * server and the timer: benchmarks push transactions in and produce blocks on demand, so what they
 * time is the node's own pipeline.
 */
export class BenchNode {
  readonly app: Application;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly engine: SoloEngine;
  private readonly db: LevelKvStore;
  private readonly verifier: SignatureVerifier;
  private readonly dir: string;
  /** Keys the last prepared state version writes (each tree key once, however often the block set it). */
  private lastTreeKeys = 0;

  private constructor(parts: { app: Application; chain: Chain; mempool: Mempool; engine: SoloEngine; db: LevelKvStore; verifier: SignatureVerifier; dir: string }) {
    this.app = parts.app;
    this.chain = parts.chain;
    this.mempool = parts.mempool;
    this.engine = parts.engine;
    this.db = parts.db;
    this.verifier = parts.verifier;
    this.dir = parts.dir;
  }

  static async open(genesis: Genesis, validator: SigningKey, opts: { keepVersions?: number } = {}): Promise<BenchNode> {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
    const db = await LevelKvStore.open(dir);
    const tree = await StateTree.open(db, { keepVersions: opts.keepVersions ?? 0 });
    // Counts the writes handed to each prepared version, for the tree-keys-per-transaction figure.
    const prepare = tree.prepare.bind(tree);
    let node: BenchNode | undefined;
    tree.prepare = (writes) => {
      if (node) node.lastTreeKeys = writes.length;
      return prepare(writes);
    };
    const app = new Application({ tree, registry: defaultRegistry(), genesis });
    await app.initChain();
    const chain = new Chain({ db, app, blocks: await BlockStore.open(db), validatorSet: new ValidatorSet(genesis.validators) });
    const verifier = SignatureVerifier.create();
    const mempool = new Mempool(app, { maxTxs: 1_000_000, maxBytes: 1 << 30 }, undefined, verifier);
    let clock = genesis.genesisTimeMs;
    const engine = new SoloEngine({ chain, mempool, key: validator, intervalMs: 1000, now: () => (clock += 1000) });
    node = new BenchNode({ app, chain, mempool, engine, db, verifier, dir });
    return node;
  }

  /**
   * Admits `txs` as concurrent submissions (as many clients would send them), then produces one
   * block. Throws if any transaction is refused, left out, or fails.
   */
  async block(txs: Uint8Array[]): Promise<{ admitMs: number; blockMs: number; count: number; treeKeys: number }> {
    const a = performance.now();
    await Promise.all(txs.map((bytes) => this.mempool.add(bytes)));
    const b = performance.now();
    const stored = await this.engine.produceBlock();
    const c = performance.now();
    if (stored.block.txs.length !== txs.length) throw new Error(`block holds ${stored.block.txs.length} of ${txs.length} transactions`);
    const results = await this.chain.blocks.getReceipts(stored.header.height);
    const failed = results?.receipts.find((r) => r.failed);
    if (failed) throw new Error(`transaction failed: ${failed.error_code} ${failed.error_message}`);
    return { admitMs: b - a, blockMs: c - b, count: txs.length, treeKeys: this.lastTreeKeys };
  }

  async close(): Promise<void> {
    await this.verifier.close();
    await this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
