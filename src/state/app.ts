import type { Logger } from 'pino';
import { BlockReceiptsCodec, ReceiptCodec, type Event, type Receipt } from '../codec/core.ts';
import type { Address } from '../crypto/address.ts';
import { merkleRoot } from '../crypto/merkle.ts';
import { toHex } from '../crypto/hash.ts';
import { TributaryError, isTributaryError } from '../errors.ts';
import type { Genesis } from '../genesis.ts';
import { BankKeeper, FEE_COLLECTOR } from './bank/keeper.ts';
import type { BlockContext, ChainReader, GenesisContext, QueryContext, TxContext } from './module.ts';
import type { TxRegistry } from './registry.ts';
import { decodeTx, type DecodedTx } from './tx.ts';
import type { PreparedVersion, StateTree } from './tree/index.ts';
import { WorkingState, type StateReader } from './working-state.ts';

/*
 * The application: everything consensus may ask of state, and nothing more. The calls mirror
 * CometBFT's ABCI (CheckTx, FinalizeBlock, Commit, Query) so that the BFT engine of a later issue
 * drives the same object the single-validator engine drives now. The application never talks to
 * peers and never reads a clock; the block's header time is the only time it knows.
 */

export type AppErrorCode = 'app/invalid_block' | 'app/not_initialized';

export interface BlockInfo {
  chainId: string;
  height: number;
  timeMs: number;
  proposer: Address;
}

/** The result of executing a block, not yet written. `commit` makes it durable state. */
export interface FinalizedBlock {
  info: BlockInfo;
  /** The transactions executed, in order (a proposer drops the ones that were invalid). */
  txs: DecodedTx[];
  receipts: Receipt[];
  endBlockEvents: Event[];
  stateRoot: Uint8Array;
  resultsRoot: Uint8Array;
  /** Tree writes for this version: the caller puts them into the block's atomic batch. */
  prepared: PreparedVersion;
  /** Proposer mode only: transactions left out, with why. */
  dropped: { tx: DecodedTx; error: TributaryError }[];
}

type EventAttrs = Record<string, string | number | bigint | boolean>;

function toEvent(type: string, attrs: EventAttrs): Event {
  return { type, attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: String(v) })) };
}

/** Leaves of the results root: every receipt, then the end-of-block events as one last leaf. */
export function resultsRoot(receipts: Receipt[], endBlockEvents: Event[]): Uint8Array {
  const leaves = receipts.map((r) => ReceiptCodec.encode(r));
  leaves.push(BlockReceiptsCodec.encode({ receipts: [], end_block_events: endBlockEvents }));
  return merkleRoot(leaves);
}

export interface ApplicationOptions {
  tree: StateTree;
  registry: TxRegistry;
  genesis: Genesis;
  logger?: Logger;
}

export class Application {
  readonly genesis: Genesis;
  readonly registry: TxRegistry;
  private readonly tree: StateTree;
  private readonly logger: Logger | undefined;
  /** The mempool's view: committed state plus every admitted, not yet committed transaction. */
  private checkState: WorkingState;
  /** Header time of the last committed block: admission simulates with it, never with a clock. */
  private lastBlockTimeMs: number;

  constructor(opts: ApplicationOptions) {
    this.genesis = opts.genesis;
    this.registry = opts.registry;
    this.tree = opts.tree;
    this.logger = opts.logger;
    this.checkState = new WorkingState(this.tree);
    this.lastBlockTimeMs = opts.genesis.genesisTimeMs;
  }

  get chainId(): string {
    return this.genesis.chainId;
  }

  get params() {
    return this.genesis.params;
  }

  /** Height of the last committed state version (0 = genesis state only). */
  get height(): number {
    return this.tree.latestVersion;
  }

  get stateRoot(): Uint8Array {
    return this.tree.latestRoot;
  }

  /** Restores what the block store knows and the tree does not: the last block's time. */
  setLastBlockTime(timeMs: number): void {
    this.lastBlockTimeMs = timeMs;
  }

  /** Writes the genesis state as version 0 if the tree is empty. Returns the current root. */
  async initChain(): Promise<Uint8Array> {
    if (this.tree.latestVersion >= 0) return this.tree.latestRoot;
    const state = new WorkingState(this.tree);
    const bank = new BankKeeper(state);
    for (const account of this.genesis.accounts) await bank.mintAtGenesis(account.address, account.balance);
    const ctx: GenesisContext = { chainId: this.chainId, state, bank, params: this.params };
    for (const mod of this.registry.modules) {
      if (mod.initGenesis) await mod.initGenesis(ctx, this.genesis.modules[mod.name]);
    }
    const prepared = await this.tree.commit(state.sortedWrites());
    if (prepared.version !== 0) throw new TributaryError('app/not_initialized', 'genesis must be state version 0');
    this.resetCheckState();
    return prepared.root;
  }

  /** Stateless checks and signature; the same for RPC, gossip and block validation. */
  decodeTx(bytes: Uint8Array, verifySignature = true): DecodedTx {
    return decodeTx(bytes, this.registry, {
      chainId: this.chainId,
      maxTxBytes: this.params.maxTxBytes,
      verifySignature,
    });
  }

  /**
   * Mempool admission: runs the transaction against the check state, exactly as a block would. A
   * transaction that would fail is refused with its code and leaves the check state as it was.
   */
  async checkTx(tx: DecodedTx): Promise<void> {
    const state = this.checkState;
    state.checkpoint();
    try {
      const info: BlockInfo = { chainId: this.chainId, height: this.height + 1, timeMs: this.lastBlockTimeMs, proposer: FEE_COLLECTOR };
      const receipt = await this.runTx(state, new BankKeeper(state), info, tx, 0);
      if (receipt.failed) {
        throw new TributaryError(receipt.error_code, receipt.error_message);
      }
      state.commitCheckpoint();
    } catch (e) {
      state.revert();
      throw e;
    }
  }

  /** After a commit the check state starts again from the new committed state. */
  resetCheckState(): void {
    this.checkState = new WorkingState(this.tree);
  }

  /**
   * Executes a block on top of the committed state. In `propose` mode a transaction that cannot
   * be included (stale nonce, unpaid fee) is dropped and reported; in `validate` mode it makes the
   * whole block invalid. Nothing is written until `commit`.
   */
  async finalizeBlock(info: BlockInfo, txs: DecodedTx[], mode: 'propose' | 'validate'): Promise<FinalizedBlock> {
    if (info.height !== this.height + 1) {
      throw new TributaryError('app/invalid_block', `expected height ${this.height + 1}, got ${info.height}`);
    }
    const state = new WorkingState(this.tree);
    const bank = new BankKeeper(state);
    const included: DecodedTx[] = [];
    const receipts: Receipt[] = [];
    const dropped: FinalizedBlock['dropped'] = [];
    for (const tx of txs) {
      try {
        receipts.push(await this.runTx(state, bank, info, tx, included.length));
        included.push(tx);
      } catch (e) {
        const err = isTributaryError(e) ? e : new TributaryError('tx/internal_error', String(e));
        if (mode === 'validate') {
          throw new TributaryError('app/invalid_block', `transaction ${included.length} is invalid: ${err.message}`, {
            txCode: err.code,
          });
        }
        dropped.push({ tx, error: err });
      }
    }
    const endBlockEvents: Event[] = [];
    const blockCtx: BlockContext = {
      chainId: info.chainId,
      height: info.height,
      timeMs: info.timeMs,
      proposer: info.proposer,
      state,
      bank,
      params: this.params,
      validators: this.genesis.validators,
      emit: (type, attrs) => endBlockEvents.push(toEvent(type, attrs)),
    };
    for (const mod of this.registry.modules) {
      if (mod.endBlock) await mod.endBlock(blockCtx);
    }
    const prepared = await this.tree.prepare(state.sortedWrites());
    return {
      info,
      txs: included,
      receipts,
      endBlockEvents,
      stateRoot: prepared.root,
      resultsRoot: resultsRoot(receipts, endBlockEvents),
      prepared,
      dropped,
    };
  }

  /** Call once the batch holding `block.prepared.ops` is on disk. */
  commit(block: FinalizedBlock): void {
    this.tree.markCommitted(block.prepared);
    this.lastBlockTimeMs = block.info.timeMs;
    this.resetCheckState();
  }

  /**
   * Runs one transaction. Throws (and changes nothing) when the transaction cannot be included at
   * all: wrong nonce, fee below the minimum or not covered by the balance. Otherwise the fee is
   * taken and the nonce bumped, and the receipt tells whether the message itself succeeded; a
   * failed message's writes are all reverted.
   */
  private async runTx(state: WorkingState, bank: BankKeeper, info: BlockInfo, tx: DecodedTx, index: number): Promise<Receipt> {
    const { body, sender } = tx;
    const account = await bank.account(sender);
    if (body.nonce < account.nonce) {
      throw new TributaryError('tx/nonce_too_low', `nonce ${body.nonce} already used; next is ${account.nonce}`, {
        expected: account.nonce,
      });
    }
    if (body.nonce > account.nonce) {
      throw new TributaryError('tx/nonce_too_high', `nonce ${body.nonce} is ahead; next is ${account.nonce}`, {
        expected: account.nonce,
      });
    }
    if (body.fee < this.params.minFee) {
      throw new TributaryError('tx/fee_too_low', `fee ${body.fee} is below the minimum ${this.params.minFee}`, {
        minFee: this.params.minFee.toString(),
      });
    }
    if (account.balance < body.fee) {
      throw new TributaryError('tx/insufficient_fee_balance', `balance ${account.balance} cannot pay fee ${body.fee}`);
    }
    account.nonce += 1;
    bank.setAccount(sender, account);
    await bank.transfer(sender, FEE_COLLECTOR, body.fee);

    const events: Event[] = [];
    let requiredFee = this.params.minFee;
    const ctx: TxContext = {
      chainId: info.chainId,
      height: info.height,
      timeMs: info.timeMs,
      txHash: tx.hash,
      txIndex: index,
      sender,
      senderPublicKey: body.sender_pubkey,
      fee: body.fee,
      state,
      bank,
      params: this.params,
      emit: (type, attrs) => events.push(toEvent(type, attrs)),
      requireFee: (amount, reason) => {
        requiredFee += amount;
        if (requiredFee > body.fee) {
          throw new TributaryError('tx/fee_too_low', `fee ${body.fee} does not cover ${requiredFee} (${reason})`, {
            required: requiredFee.toString(),
          });
        }
      },
    };
    state.checkpoint();
    try {
      await tx.definition.execute(ctx, tx.message);
      state.commitCheckpoint();
      return { tx_hash: tx.hash, failed: false, error_code: '', error_message: '', fee: body.fee, events };
    } catch (e) {
      state.revert();
      let code = 'tx/internal_error';
      let message = String(e);
      if (isTributaryError(e)) {
        code = e.code;
        message = e.message;
      } else {
        this.logger?.error({ err: e, tx: toHex(tx.hash) }, 'transaction raised a non-coded error');
      }
      return { tx_hash: tx.hash, failed: true, error_code: code, error_message: message, fee: body.fee, events: [] };
    }
  }

  /** Read-only view of committed state at a height (default: latest). */
  queryContext(chain: ChainReader, height?: number): QueryContext {
    const h = height ?? this.height;
    const tree = this.tree;
    const reader: StateReader = { get: (key) => tree.get(key, h) };
    return {
      height: h,
      state: reader,
      iterate: (prefix) => tree.iterate(prefix),
      params: this.params,
      chain,
    };
  }

  /** Inclusion or non-inclusion proof of a raw state key at a height, against that height's root. */
  async prove(key: Uint8Array, height: number): Promise<{ value: Uint8Array | undefined; proof: Uint8Array; root: Uint8Array }> {
    const { value, proof } = await this.tree.prove(key, height);
    return { value, proof, root: await this.tree.rootAt(height) };
  }

  /** Every module invariant on the latest committed state; returns the broken ones. */
  async checkInvariants(chain: ChainReader): Promise<string[]> {
    const q = this.queryContext(chain);
    const broken: string[] = [];
    for (const mod of this.registry.modules) {
      for (const inv of mod.invariants ?? []) {
        const problem = await inv.check(q);
        if (problem) broken.push(`${mod.name}: ${inv.name}: ${problem}`);
      }
    }
    return broken;
  }
}
