import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Chain } from '../src/consensus/chain.ts';
import type { Mempool } from '../src/consensus/mempool.ts';
import type { Signer } from '../src/consensus/signer.ts';
import type { SoloEngine } from '../src/consensus/solo-engine.ts';
import type { SigningKey } from '../src/crypto/ed25519.ts';
import { SignatureVerifier } from '../src/crypto/verify-pool.ts';
import type { Genesis } from '../src/genesis.ts';
import { openChain, startProducer } from '../src/node.ts';
import type { Application } from '../src/state/app.ts';
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
  private readonly signer: Signer;
  private readonly dir: string;

  private constructor(parts: {
    app: Application;
    chain: Chain;
    mempool: Mempool;
    engine: SoloEngine;
    db: LevelKvStore;
    verifier: SignatureVerifier;
    signer: Signer;
    dir: string;
  }) {
    this.app = parts.app;
    this.chain = parts.chain;
    this.mempool = parts.mempool;
    this.engine = parts.engine;
    this.db = parts.db;
    this.verifier = parts.verifier;
    this.signer = parts.signer;
    this.dir = parts.dir;
  }

  static async open(genesis: Genesis, validator: SigningKey, opts: { keepVersions?: number } = {}): Promise<BenchNode> {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
    const db = await LevelKvStore.open(join(dir, 'data'));
    const opened = await openChain({ db, genesis, keepVersions: opts.keepVersions ?? 0 });
    const verifier = SignatureVerifier.create();
    let clock = genesis.genesisTimeMs;
    const { mempool, engine, signer } = await startProducer(opened, {
      key: validator,
      signerPath: join(dir, 'signer-state.json'),
      // The node's own pipeline is what is timed, not its per-sender policy.
      // The pipeline is measured with the whole run admitted before its blocks: no recheck-budget cap.
      mempool: {
        maxTxs: 1_000_000,
        maxBytes: 1 << 30,
        maxTxsPerSender: 1_000_000,
        maxBytesPerSender: 1 << 30,
        recheckBudgetMs: 0,
      },
      intervalMs: 1000,
      verifier,
      now: () => (clock += 1000),
    });
    const { app, chain } = opened;
    return new BenchNode({ app, chain, mempool, engine, db, verifier, signer, dir });
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
    if (stored.block.txs.length !== txs.length)
      throw new Error(`block holds ${stored.block.txs.length} of ${txs.length} transactions`);
    const results = await this.chain.blocks.getReceipts(stored.header.height);
    const failed = results?.receipts.find((r) => r.failed);
    if (failed) throw new Error(`transaction failed: ${failed.error_code} ${failed.error_message}`);
    return { admitMs: b - a, blockMs: c - b, count: txs.length, treeKeys: this.app.lastBlockStats.stateKeysWritten };
  }

  async close(): Promise<void> {
    await this.signer.close();
    await this.verifier.close();
    await this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
