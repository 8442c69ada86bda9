import { commitSigners } from './block-builder.ts';
import type { Block, Commit } from '../codec/core.ts';
import { commitHash, headerHash, headerSignBytes } from '../codec/protocol.ts';
import { verifyEd25519 } from '../crypto/ed25519.ts';
import { bytesEqual, toHex } from '../crypto/hash.ts';
import { merkleRoot } from '../crypto/merkle.ts';
import { TributaryError } from '../errors.ts';
import type { Application, FinalizedBlock } from '../state/app.ts';
import type { ChainReader } from '../state/module.ts';
import { txHash, type DecodedTx } from '../state/tx.ts';
import type { BlockStore, StoredBlock } from '../storage/block-store.ts';
import type { KvStore } from '../storage/db.ts';
import { ChainIndex } from '../index/chain-index.ts';
import { committedBlock } from '../index/committed-block.ts';
import { ChainEventStream } from '../index/stream.ts';
import { ValidatorSet } from './validator-set.ts';

/**
 * Who owns the check state (the mempool): every commit runs inside its lock, and it refreshes the
 * check state after each commit. One owner, taken by every path that commits (engines, sync, replay).
 */
export interface CheckStateOwner {
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** The same lock, taken ahead of everyone queued for `exclusive` (commits). */
  exclusiveFirst<T>(fn: () => Promise<T>): Promise<T>;
  /** Inside `exclusive`, right after a commit: forget `removed`, rebuild the check state. */
  afterCommit(removed: readonly Uint8Array[]): void;
}

export interface VerifyProposalOptions {
  /** The highest round whose scheduled proposer is accepted (default: one full rotation). */
  maxRound?: number;
  /** Transactions already decoded with their signatures verified, by hash (the mempool's). */
  knownTx?: (hash: Uint8Array) => DecodedTx | undefined;
}

/**
 * The committed chain: verifies proposals (links, proposer, transactions, re-execution, roots),
 * commits a block with its certificate in one atomic, synced batch, and imports decided blocks
 * from elsewhere (replay, block sync) as the two steps in a row.
 */
export class Chain implements ChainReader {
  readonly app: Application;
  readonly blocks: BlockStore;
  /** Query-side records off the tree, written in each block's batch. */
  readonly index: ChainIndex;
  /** The one typed event stream, published after each block's batch is synced. */
  readonly events: ChainEventStream;
  private readonly db: KvStore;
  private checkStateOwner: CheckStateOwner | undefined;
  private readonly sets = new Map<number, ValidatorSet>();

  constructor(opts: { db: KvStore; app: Application; blocks: BlockStore; events?: ChainEventStream }) {
    this.db = opts.db;
    this.app = opts.app;
    this.blocks = opts.blocks;
    this.index = ChainIndex.forModules(opts.db, opts.app.registry.modules);
    this.events = opts.events ?? new ChainEventStream();
  }

  get latestHeight(): number {
    return this.blocks.latestHeight;
  }

  getReceipts(height: number) {
    return this.blocks.getReceipts(height);
  }

  /** Why the database refuses writes (disk full, I/O error), or undefined while it takes them. */
  storageFault(): string | undefined {
    return this.db.fault();
  }

  /**
   * Before committing: after a write failure, tries to bring storage back (reopen and probe) and
   * throws `storage/write_failed` while it still refuses, so an engine waits instead of executing
   * blocks it cannot store. Nothing committed is lost: a failed batch wrote nothing.
   */
  async ensureWritable(): Promise<void> {
    if (this.db.fault() !== undefined && !(await this.db.recover())) {
      throw new TributaryError('storage/write_failed', `storage refuses writes: ${this.db.fault()}`, {
        reason: this.db.fault(),
      });
    }
    // Index records whose batch failed meanwhile are rewritten from the blocks.
    if (this.index.isBehind) await this.index.catchUp(this.blocks);
  }

  /** Set once by the composition root when a mempool runs on this chain. */
  useCheckStateOwner(owner: CheckStateOwner): void {
    this.checkStateOwner = owner;
  }

  /** The validator set that signs `height` (known up to the latest height + 2). */
  async validatorSet(height: number): Promise<ValidatorSet> {
    let set = this.sets.get(height);
    if (!set) {
      set = new ValidatorSet(await this.app.validatorsAt(height));
      // Sets for heights consensus still works on; older ones are read again when asked.
      if (this.sets.size >= 8) this.sets.delete(Math.min(...this.sets.keys()));
      this.sets.set(height, set);
    }
    return set;
  }

  /**
   * Everything about a proposed block that needs no commit certificate for it: header links and
   * hashes against the tip, the proposer (scheduled for some round up to `maxRound`) and its
   * signature, the parent's certificate, every transaction, then re-execution and the roots.
   * Returns the executed block, ready for `commitBlock`.
   */
  async verifyProposal(block: Block, opts: VerifyProposalOptions = {}): Promise<FinalizedBlock> {
    const header = block.header;
    if (!header) throw new TributaryError('consensus/bad_header', 'block has no header');
    const app = this.app;
    const expectedHeight = this.latestHeight + 1;
    const parent = this.blocks.latestBlock;
    const fail = (why: string): never => {
      throw new TributaryError('consensus/bad_header', `block ${header.height}: ${why}`);
    };
    if (header.chain_id !== app.chainId) fail('wrong chain id');
    if (header.height !== expectedHeight) fail(`expected height ${expectedHeight}`);
    if (!bytesEqual(header.parent_hash, parent ? parent.hash : new Uint8Array(32))) fail('parent hash does not match');
    if (header.time_ms <= (parent ? parent.header.time_ms : app.genesis.genesisTimeMs)) fail('time does not increase');
    const set = await this.validatorSet(header.height);
    if (!bytesEqual(header.validators_hash, set.hash)) fail('validators hash does not match');
    if (!bytesEqual(header.next_validators_hash, (await this.validatorSet(header.height + 1)).hash)) {
      fail('next validators hash does not match');
    }
    if (!bytesEqual(header.last_commit_hash, commitHash(block.last_commit))) fail('last commit hash does not match');
    const proposer = set.get(header.proposer);
    if (!proposer) fail('proposer is not a validator');
    if (!this.isScheduledProposer(set, header.height, header.proposer, opts.maxRound ?? set.totalPower)) {
      throw new TributaryError(
        'consensus/wrong_proposer',
        `block ${header.height}: not proposed by a scheduled proposer`,
      );
    }
    const hash = headerHash(header);
    if (!verifyEd25519(proposer!.publicKey, headerSignBytes(hash), block.proposer_signature)) {
      throw new TributaryError('consensus/bad_proposer_signature', `block ${header.height}: bad proposer signature`);
    }
    if (parent) {
      if (!block.last_commit) fail('missing last commit');
      (await this.validatorSet(parent.header.height)).verifyCommit(
        app.chainId,
        block.last_commit!,
        parent.header,
        parent.hash,
      );
    }
    const txs = block.txs.map((bytes) => {
      // A transaction this node already decoded and verified (its mempool holds it): the hash
      // covers the signed bytes and the signature, so the same hash means the same bytes and the
      // same verdict under the one acceptance rule. Only the size limit can have changed since.
      const known = opts.knownTx?.(txHash(bytes));
      return known && known.bytes.length <= app.params.maxTxBytes ? known : app.decodeTx(bytes);
    });
    if (!bytesEqual(merkleRoot(txs.map((t) => t.hash)), header.txs_root)) fail('transactions root does not match');
    const finalized = await app.processProposal(
      {
        chainId: header.chain_id,
        height: header.height,
        timeMs: header.time_ms,
        proposer: header.proposer,
        lastCommitSigners: commitSigners(block.last_commit),
      },
      txs,
    );
    if (!bytesEqual(finalized.stateRoot, header.state_root)) {
      fail(`state root mismatch: header ${toHex(header.state_root)}, computed ${toHex(finalized.stateRoot)}`);
    }
    if (!bytesEqual(finalized.resultsRoot, header.results_root)) fail('results root does not match');
    return finalized;
  }

  /**
   * Checks `commit` against the block's validator set, then writes the tree version, block, commit
   * certificate, receipts and tx index in one synced batch, and only then, with the check state's
   * owner holding its lock, moves state and the block store to the new tip, hands the block to the
   * chain index and publishes it on the event stream.
   */
  async commitBlock(block: Block, commit: Commit, finalized: FinalizedBlock): Promise<StoredBlock> {
    const header = block.header!;
    const hash = headerHash(header);
    if (header.height !== this.latestHeight + 1 || finalized.info.height !== header.height) {
      throw new TributaryError('consensus/bad_header', `block ${header.height} does not follow ${this.latestHeight}`);
    }
    (await this.validatorSet(header.height)).verifyCommit(this.app.chainId, commit, header, hash);
    await this.ensureWritable();
    // Another block of this height may have been executed since (the tree holds one prepared
    // version): run this one again, so that the batch and the in-memory tree agree; a stale
    // execution would land on disk and then fail to be marked committed.
    const ensureOutstanding = async (): Promise<void> => {
      if (this.app.canCommit(finalized)) return;
      finalized = await this.app.finalizeBlock(finalized.info, finalized.txs, 'validate');
      if (!bytesEqual(finalized.stateRoot, header.state_root)) {
        throw new TributaryError('consensus/bad_header', `block ${header.height}: state root differs on re-execution`);
      }
    };
    await ensureOutstanding();
    const batch = this.db.writeBatch();
    finalized.prepared.writeTo(batch);
    this.blocks.writeTo(
      batch,
      block,
      commit,
      { receiptBytes: finalized.receiptBytes, endBlockEventsBytes: finalized.endBlockEventsBytes },
      finalized.txs.map((t) => t.hash),
    );
    // sync: the write-ahead log reaches the disk before a block is reported committed. The
    // mempool's lock is not held while the disk syncs (tens of milliseconds): admissions check
    // against the state before this block meanwhile and are rechecked after it, and nothing reads
    // the block's records before markCommitted.
    await batch.write({ sync: true });
    const publish = async (): Promise<StoredBlock> => {
      // The same execution again if another of this height ran during the write: its writes are
      // the ones on disk (execution is deterministic), and the tree must hold them to commit.
      await ensureOutstanding();
      this.app.commit(finalized);
      this.blocks.markCommitted(block);
      this.checkStateOwner?.afterCommit(
        finalized.txs.map((t) => t.hash).concat(finalized.dropped.map((d) => d.tx.hash)),
      );
      const committed = committedBlock(block, finalized);
      // The index follows in a batch of its own (ChainIndex.follow); its reads wait for it.
      this.index.follow(committed);
      this.events.publish(committed);
      return this.blocks.latestBlock!;
    };
    return this.checkStateOwner ? this.checkStateOwner.exclusiveFirst(publish) : publish();
  }

  /** A decided block from elsewhere (replay, block sync): full verification, then commit. */
  async importBlock(block: Block, commit: Commit): Promise<StoredBlock> {
    const finalized = await this.verifyProposal(block, { maxRound: commit.round });
    return this.commitBlock(block, commit, finalized);
  }

  /** A block may be built by the proposer of any round up to the one that decided it. */
  private isScheduledProposer(set: ValidatorSet, height: number, address: Uint8Array, maxRound: number): boolean {
    // The schedule repeats after totalPower rounds, so no more rounds need checking.
    const rounds = Math.min(maxRound, set.totalPower - 1);
    for (let r = 0; r <= rounds; r++) if (bytesEqual(set.proposer(height, r).address, address)) return true;
    return false;
  }
}
