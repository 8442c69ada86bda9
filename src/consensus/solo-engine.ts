import type { Logger } from 'pino';
import type { Commit } from '../codec/core.ts';
import { VoteType, voteSignBytes } from '../codec/protocol.ts';
import { addressFromPublicKey, type Address } from '../crypto/address.ts';
import { bytesEqual, toHex } from '../crypto/hash.ts';
import { TributaryError, isTributaryError } from '../errors.ts';
import type { StoredBlock } from '../storage/block-store.ts';
import { buildProposal, makeCommit } from './block-builder.ts';
import type { Chain } from './chain.ts';
import type { Mempool } from './mempool.ts';
import type { Signer } from './signer.ts';

export type EngineErrorCode = 'consensus/not_a_validator' | 'consensus/multi_validator_unsupported';

/**
 * Proof-of-authority with one validator: it proposes on a timer, and its own precommit is the
 * whole commit certificate (it holds all the voting power), so every block is final at once.
 * Proposal and precommit are signed through the persisted `Signer`: after a crash between signing
 * and committing, the height is retried in the next round rather than signed twice.
 */
export class SoloEngine {
  private readonly chain: Chain;
  private readonly mempool: Mempool;
  private readonly signer: Signer;
  private readonly address: Address;
  private readonly intervalMs: number;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;
  private lastCommit: Commit | undefined;
  /** Code of the last failed attempt, so a failure repeated every interval is logged once. */
  private failing: string | undefined;

  constructor(opts: {
    chain: Chain;
    mempool: Mempool;
    signer: Signer;
    intervalMs: number;
    logger?: Logger;
    now?: () => number;
  }) {
    this.chain = opts.chain;
    this.mempool = opts.mempool;
    this.signer = opts.signer;
    this.address = addressFromPublicKey(opts.signer.publicKey);
    this.intervalMs = opts.intervalMs;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
  }

  /** Refuses to run unless this node is the whole validator set of the next height. */
  private async checkSoleValidator(height: number): Promise<void> {
    const set = await this.chain.validatorSet(height);
    if (set.validators.length !== 1) {
      throw new TributaryError(
        'consensus/multi_validator_unsupported',
        `the validator set at height ${height} has ${set.validators.length} validators; this node runs the single-validator engine only`,
      );
    }
    if (!bytesEqual(set.validators[0]!.address, this.address)) {
      throw new TributaryError('consensus/not_a_validator', 'the node key is not the validator of this chain');
    }
  }

  async start(): Promise<void> {
    await this.checkSoleValidator(this.chain.latestHeight + 1);
    const latest = this.chain.blocks.latestBlock;
    if (latest) this.lastCommit = await this.chain.blocks.getCommit(latest.header.height);
    this.stopped = false;
    this.schedule();
  }

  /**
   * Block starts are `intervalMs` apart (the param's "target time between blocks"), not a pause
   * of `intervalMs` after each commit: a block that takes 300 ms to build and commit would
   * otherwise stretch a 500 ms interval to 800 ms, and hold the mempool full for that long under
   * load. A block that takes longer than the interval is followed at once. Measured on the
   * monotonic clock: scheduling is not a state transition, and header times keep `now`.
   */
  private schedule(lastStartedAt?: number): void {
    if (this.stopped) return;
    const elapsed = lastStartedAt === undefined ? 0 : performance.now() - lastStartedAt;
    const delay = Math.max(0, this.intervalMs - elapsed);
    this.timer = setTimeout(() => {
      const startedAt = performance.now();
      this.running = this.produceBlock()
        .then(() => {
          if (this.failing) this.logger?.info({ after: this.failing }, 'block production resumed');
          this.failing = undefined;
        })
        .catch((e: unknown) => {
          const code = isTributaryError(e) ? e.code : 'internal';
          if (code !== this.failing)
            this.logger?.error({ err: e, code }, 'block production failed; retrying every interval');
          else this.logger?.debug({ code }, 'block production still failing');
          this.failing = code;
        })
        .finally(() => this.schedule(startedAt));
    }, delay);
  }

  /** Stops proposing; resolves once a block in progress has been written. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** The round to use at `height`: the one after the last this validator signed there, if any. */
  private roundFor(height: number): number {
    const last = this.signer.lastSigned;
    return last && last.height === height ? last.round + 1 : 0;
  }

  /** Builds, executes, signs and commits the next block from the mempool. */
  async produceBlock(): Promise<StoredBlock> {
    const chain = this.chain;
    const height = chain.latestHeight + 1;
    await this.checkSoleValidator(height);
    // After a disk-full or I/O failure: storage first (reopened and probed), then the signer's file.
    await chain.ensureWritable();
    if (this.signer.failed) await this.signer.recover();
    const round = this.roundFor(height);
    const params = chain.app.params;
    const candidates = this.mempool.reap(params.maxBlockTxs, params.maxBlockBytes);
    const { block, hash, finalized } = await buildProposal(
      chain,
      { proposer: this.address, nowMs: this.now(), candidates, lastCommit: this.lastCommit },
      (signBytes) => this.signer.sign({ height, round, step: 'proposal', signBytes }),
    );
    const precommit = await this.signer.sign({
      height,
      round,
      step: 'precommit',
      signBytes: voteSignBytes({
        chainId: chain.app.chainId,
        type: VoteType.precommit,
        height,
        round,
        blockHash: hash,
      }),
    });
    const commit = makeCommit(height, round, hash, [{ validator: this.address, signature: precommit }]);
    const stored = await chain.commitBlock(block, commit, finalized);
    this.lastCommit = commit;
    for (const d of finalized.dropped) {
      this.logger?.debug({ code: d.error.code }, 'transaction dropped from proposal');
    }
    this.logger?.info(
      { height, round, txs: finalized.txs.length, hash: toHex(stored.hash).slice(0, 16), mempool: this.mempool.size },
      'committed block',
    );
    return stored;
  }
}
