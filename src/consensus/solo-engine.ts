import type { Logger } from 'pino';
import type { Block, BlockHeader, Commit } from '../codec/core.ts';
import { addressFromPublicKey } from '../crypto/address.ts';
import type { SigningKey } from '../crypto/ed25519.ts';
import { merkleRoot } from '../crypto/merkle.ts';
import { toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import { headerHash, type StoredBlock } from '../storage/block-store.ts';
import type { Chain } from './chain.ts';
import type { Mempool } from './mempool.ts';
import { commitHash, headerSignBytes } from './validator-set.ts';

export type EngineErrorCode = 'consensus/not_a_validator' | 'consensus/multi_validator_unsupported';

/**
 * Proof-of-authority with one validator: it proposes on a timer, and its own precommit is the
 * whole commit certificate (it holds all the voting power), so every block is final at once.
 * The BFT engine for many validators replaces this class behind the same Chain and Mempool; the
 * header, commit and validation code are already the multi-validator ones.
 */
export class SoloEngine {
  private readonly chain: Chain;
  private readonly mempool: Mempool;
  private readonly key: SigningKey;
  private readonly intervalMs: number;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;
  private lastCommit: Commit | undefined;

  constructor(opts: { chain: Chain; mempool: Mempool; key: SigningKey; intervalMs: number; logger?: Logger; now?: () => number }) {
    this.chain = opts.chain;
    this.mempool = opts.mempool;
    this.key = opts.key;
    this.intervalMs = opts.intervalMs;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    const set = this.chain.validatorSet;
    if (set.validators.length !== 1) {
      throw new TributaryError(
        'consensus/multi_validator_unsupported',
        `genesis has ${set.validators.length} validators; this node runs the single-validator engine only`,
      );
    }
    if (!set.get(addressFromPublicKey(this.key.publicKey))) {
      throw new TributaryError('consensus/not_a_validator', 'the node key is not in the genesis validator set');
    }
  }

  async start(): Promise<void> {
    const latest = this.chain.blocks.latestBlock;
    if (latest) this.lastCommit = await this.chain.blocks.getCommit(latest.header.height);
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.produceBlock()
        .catch((e) => this.logger?.error({ err: e }, 'block production failed'))
        .finally(() => this.schedule());
    }, this.intervalMs);
  }

  /** Stops proposing; resolves once a block in progress has been written. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Builds, executes, signs and commits the next block from the mempool. */
  produceBlock(): Promise<StoredBlock> {
    return this.mempool.exclusive(async () => {
      const chain = this.chain;
      const app = chain.app;
      const params = app.params;
      const parent = chain.blocks.latestBlock;
      const height = chain.latestHeight + 1;
      const parentTime = parent ? parent.header.time_ms : app.genesis.genesisTimeMs;
      // Header time must rise strictly even if the wall clock steps back.
      const timeMs = Math.max(this.now(), parentTime + 1);
      const proposer = addressFromPublicKey(this.key.publicKey);
      const candidates = this.mempool.reap(params.maxBlockTxs, params.maxBlockBytes);
      const finalized = await app.finalizeBlock({ chainId: app.chainId, height, timeMs, proposer }, candidates, 'propose');
      const header: BlockHeader = {
        chain_id: app.chainId,
        height,
        time_ms: timeMs,
        parent_hash: parent ? parent.hash : new Uint8Array(32),
        proposer,
        txs_root: merkleRoot(finalized.txs.map((t) => t.hash)),
        state_root: finalized.stateRoot,
        results_root: finalized.resultsRoot,
        validators_hash: chain.validatorSet.hash,
        last_commit_hash: commitHash(this.lastCommit),
      };
      const hash = headerHash(header);
      const block: Block = {
        header,
        proposer_signature: this.key.sign(headerSignBytes(hash)),
        txs: finalized.txs.map((t) => t.bytes),
        last_commit: this.lastCommit,
      };
      const commit: Commit = {
        height,
        round: 0,
        block_hash: hash,
        signatures: [{ validator: proposer, signature: chain.validatorSet.sign(this.key, app.chainId, height, 0, hash) }],
      };
      const stored = await chain.append(finalized, block, commit);
      this.lastCommit = commit;
      for (const d of finalized.dropped) {
        this.logger?.debug({ code: d.error.code }, 'transaction dropped from proposal');
      }
      await this.mempool.afterCommit([...finalized.txs, ...finalized.dropped.map((d) => d.tx)].map((t) => t.hash));
      this.logger?.info({ height, txs: finalized.txs.length, hash: toHex(stored.hash).slice(0, 16), mempool: this.mempool.size }, 'committed block');
      return stored;
    });
  }
}
