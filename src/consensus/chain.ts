import type { Block, Commit } from '../codec/core.ts';
import { merkleRoot } from '../crypto/merkle.ts';
import { bytesEqual, toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import type { Application, FinalizedBlock } from '../state/app.ts';
import type { ChainReader } from '../state/module.ts';
import { headerHash, type BlockStore, type StoredBlock } from '../storage/block-store.ts';
import type { KvStore } from '../storage/db.ts';
import { ValidatorSet, commitHash, headerSignBytes } from './validator-set.ts';
import { verifyEd25519 } from '../crypto/ed25519.ts';
import { ChainIndex } from '../index/chain-index.ts';
import { committedBlock } from '../index/committed-block.ts';
import { ChainEventStream } from '../index/stream.ts';

/**
 * The committed chain: appends a block and its state in one atomic, synced batch, and checks
 * blocks that come from elsewhere (replay, and block sync in the BFT issue) before appending them.
 */
export class Chain implements ChainReader {
  readonly app: Application;
  readonly blocks: BlockStore;
  readonly validatorSet: ValidatorSet;
  readonly index: ChainIndex;
  readonly events: ChainEventStream;
  private readonly db: KvStore;

  constructor(opts: { db: KvStore; app: Application; blocks: BlockStore; validatorSet: ValidatorSet; events?: ChainEventStream }) {
    this.db = opts.db;
    this.app = opts.app;
    this.blocks = opts.blocks;
    this.validatorSet = opts.validatorSet;
    this.index = ChainIndex.forModules(opts.db, opts.app.registry.modules);
    this.events = opts.events ?? new ChainEventStream();
  }

  get latestHeight(): number {
    return this.blocks.latestHeight;
  }

  getReceipts(height: number) {
    return this.blocks.getReceipts(height);
  }

  /** Writes block, commit certificate, receipts, tx index, chain index and state version in one batch. */
  async append(finalized: FinalizedBlock, block: Block, commit: Commit): Promise<StoredBlock> {
    const batch = this.db.writeBatch();
    finalized.prepared.writeTo(batch);
    const blockOps = this.blocks.commitOps(
      block,
      commit,
      { receipts: finalized.receipts, end_block_events: finalized.endBlockEvents },
      finalized.txs.map((t) => t.hash),
    );
    for (const op of blockOps) {
      if (op.type === 'put') batch.put(op.key, op.value);
      else batch.del(op.key);
    }
    const committed = committedBlock(block, finalized);
    this.index.writeTo(batch, committed);
    // sync: the write-ahead log reaches the disk before a block is reported committed.
    await batch.write({ sync: true });
    this.app.commit(finalized);
    this.blocks.markCommitted(block);
    this.events.publish(committed);
    return this.blocks.latestBlock!;
  }

  /**
   * Full validation of a block from elsewhere against the committed tip: header links, proposer
   * signature, commit certificate, every transaction, and the roots after re-execution.
   */
  async importBlock(block: Block, commit: Commit): Promise<StoredBlock> {
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
    if (!bytesEqual(header.validators_hash, this.validatorSet.hash)) fail('validators hash does not match');
    if (!bytesEqual(header.last_commit_hash, commitHash(block.last_commit))) fail('last commit hash does not match');
    const proposer = this.validatorSet.get(header.proposer);
    if (!proposer) fail('proposer is not a validator');
    const hash = headerHash(header);
    if (!verifyEd25519(proposer!.publicKey, headerSignBytes(hash), block.proposer_signature)) {
      throw new TributaryError('consensus/bad_proposer_signature', `block ${header.height}: bad proposer signature`);
    }
    if (parent) {
      if (!block.last_commit) fail('missing last commit');
      this.validatorSet.verifyCommit(app.chainId, block.last_commit!, parent.header, parent.hash);
    }
    this.validatorSet.verifyCommit(app.chainId, commit, header, hash);
    const txs = block.txs.map((bytes) => app.decodeTx(bytes));
    if (!bytesEqual(merkleRoot(txs.map((t) => t.hash)), header.txs_root)) fail('transactions root does not match');
    const finalized = await app.finalizeBlock(
      { chainId: header.chain_id, height: header.height, timeMs: header.time_ms, proposer: header.proposer },
      txs,
      'validate',
    );
    if (!bytesEqual(finalized.stateRoot, header.state_root)) {
      fail(`state root mismatch: header ${toHex(header.state_root)}, computed ${toHex(finalized.stateRoot)}`);
    }
    if (!bytesEqual(finalized.resultsRoot, header.results_root)) fail('results root does not match');
    return this.append(finalized, block, commit);
  }
}
