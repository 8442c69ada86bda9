import type { Logger } from 'pino';
import { BlockReceiptsCodec, ReceiptCodec, type Event, type Receipt } from '../codec/core.ts';
import type { Address } from '../crypto/address.ts';
import { merkleRoot } from '../crypto/merkle.ts';
import { toHex } from '../crypto/hash.ts';
import { TributaryError, isTributaryError, type ErrorCode } from '../errors.ts';
import { BankKeeper, FEE_COLLECTOR } from './bank/keeper.ts';
import {
  ChainConfigKeeper,
  UPDATE_DELAY,
  paramsAt,
  readParamsSchedule,
  readValidatorSchedule,
  validatorsAt,
  type ScheduledChange,
} from './chainconfig/keeper.ts';
import { paramsFromRecord, validatorSetFromRecord, type Validator } from './chainconfig/records.ts';
import type { ChainParams } from './params.ts';
import type {
  BlockContext,
  ChainReader,
  GenesisContext,
  KeeperSlot,
  KeeperSource,
  Module,
  QueryContext,
  TxContext,
} from './module.ts';
import { ModuleStore } from './module-store.ts';
import type { TxRegistry } from './registry.ts';
import { decodeTx, type DecodedTx } from './tx.ts';
import type { PreparedVersion, StateTree } from './tree/index.ts';
import { WorkingState, type StateReader } from './working-state.ts';

/*
 * The application: everything consensus may ask of state, and nothing more. The calls are
 * CometBFT's ABCI 2.0: Info, CheckTx, PrepareProposal, ProcessProposal, FinalizeBlock, Commit and
 * Query. Unlike ABCI, a header here commits to the state root *after* its own block, so a
 * proposer must execute before it can build its header: PrepareProposal and ProcessProposal
 * execute the block and return the FinalizedBlock that Commit later makes durable (FinalizeBlock
 * is the same execution, for blocks that arrive already decided: replay and block sync). The
 * application never talks to peers and never reads a clock; the header time is the only time it
 * knows. It owns no check state: the mempool does (`newCheckState`, `checkTx`).
 */

export type AppErrorCode = 'app/invalid_block' | 'app/not_initialized';

/** Transactions executed between two turns of the event loop in finalizeBlock. */
const YIELD_EVERY_TXS = 64;
/** Math.max for amounts (bigint). */
function maxAmount(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** What a simulation found (`Application.simulateTx`). */
export interface Simulation {
  /** Whether a transaction paying `chargedFee` would be included and succeed. */
  ok: boolean;
  /** The fee it needs: the minimum fee plus everything its execution metered. */
  requiredFee: bigint;
  declaredFee: bigint;
  /** The fee the reported outcome paid: max(declared, minimum, required). */
  chargedFee: bigint;
  /** Its events, had it been included (empty when it fails). */
  events: Event[];
  /** Why it would not be included or would fail, with its code. */
  error: { code: ErrorCode; message: string } | undefined;
}

/** A simulation's fee accounting: what it charges in place of the declared fee, what it metered. */
interface FeeMeter {
  charge: bigint;
  required: bigint;
}

export interface BlockInfo {
  chainId: string;
  height: number;
  timeMs: number;
  proposer: Address;
  /**
   * Who signed the parent block: the validators of the block's `last_commit` (none at height 1, or
   * when omitted). The staking module's liveness window reads it.
   */
  lastCommitSigners?: readonly Address[];
}

/** What consensus needs to know about the next heights (ABCI Info, plus the schedule). */
export interface AppInfo {
  /** Last committed height (0: genesis state only). */
  height: number;
  /** State root at that height. */
  appHash: Uint8Array;
  /** The set that signs height + 1. */
  validators: readonly Validator[];
  /** The set that signs height + 2 (committed as `next_validators_hash` in header height + 1). */
  nextValidators: readonly Validator[];
  /** Parameters in force at height + 1. */
  params: ChainParams;
}

/** The result of executing a block, not yet written. `commit` makes it durable state. */
export interface FinalizedBlock {
  info: BlockInfo;
  /** The transactions executed, in order (a proposer drops the ones that were invalid). */
  txs: DecodedTx[];
  receipts: Receipt[];
  /** Each receipt's canonical bytes (the results root's leaves), encoded once per block. */
  receiptBytes: Uint8Array[];
  /** Events of the block hooks: begin-block hooks' first, then end-block hooks'. */
  endBlockEvents: Event[];
  /** `endBlockEventsLeaf(endBlockEvents)`: the results root's last leaf, encoded once per block. */
  endBlockEventsBytes: Uint8Array;
  /** The app hash: the state root after this block. */
  stateRoot: Uint8Array;
  resultsRoot: Uint8Array;
  /** Tree writes for this version: the caller puts them into the block's atomic batch. */
  prepared: PreparedVersion;
  /** State keys the block sets or deletes (each once, however often it wrote them). */
  stateKeysWritten: number;
  /** Proposer mode only: transactions left out, with why. */
  dropped: { tx: DecodedTx; error: TributaryError }[];
  /** Validator-set changes this block scheduled, each with the height it takes effect. */
  validatorUpdates: ScheduledChange<readonly Validator[]>[];
  /** Parameter changes this block scheduled. */
  paramUpdates: ScheduledChange<ChainParams>[];
  /** `info()` once this block is committed. */
  nextInfo: AppInfo;
}

/** The genesis the application writes as state version 0. */
export interface AppGenesis {
  chainId: string;
  genesisTimeMs: number;
  /** Sorted by address: the canonical order for votes, fee shares and the validators hash. */
  validators: Validator[];
  accounts: { address: Address; balance: bigint }[];
  params: ChainParams;
  /** Per-module genesis sections, keyed by module name. */
  modules: Record<string, unknown>;
}

type EventAttrs = Record<string, string | number | bigint | boolean>;

/*
 * Keepers live as long as their working state (one per block), but the events they emit belong to
 * whatever is running: the transaction being executed or the block hooks. The application points
 * this per-state slot at that sink before each one.
 */
type EmitFn = (type: string, attrs: EventAttrs) => void;

function sinkSlot(state: WorkingState): { current: EmitFn | undefined } {
  return state.scratch('#app/event-sink', () => ({ current: undefined as EmitFn | undefined }));
}

function setEventSink(state: WorkingState, emit: EmitFn): void {
  sinkSlot(state).current = emit;
}

function eventSink(state: WorkingState): EmitFn {
  const current = sinkSlot(state).current;
  if (!current)
    throw new TributaryError('tx/internal_error', 'a keeper emitted an event outside a transaction or hook');
  return current;
}

function toEvent(type: string, attrs: EventAttrs): Event {
  return { type, attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: String(v) })) };
}

/** The results root's last leaf: the block hooks' events as a BlockReceipts without receipts. */
export function endBlockEventsLeaf(endBlockEvents: Event[]): Uint8Array {
  return BlockReceiptsCodec.encode({ receipts: [], end_block_events: endBlockEvents });
}

/**
 * Leaves of the results root: every receipt (its canonical bytes, which the block store keeps as
 * they are), then the block hooks' events as one last leaf (`endBlockEventsLeaf`, also kept).
 */
export function resultsRoot(receiptBytes: readonly Uint8Array[], endBlockEventsBytes: Uint8Array): Uint8Array {
  return merkleRoot([...receiptBytes, endBlockEventsBytes]);
}

export interface ApplicationOptions {
  tree: StateTree;
  registry: TxRegistry;
  genesis: AppGenesis;
  logger?: Logger;
}

export class Application {
  readonly genesis: AppGenesis;
  readonly registry: TxRegistry;
  private readonly tree: StateTree;
  private readonly logger: Logger | undefined;
  private current: AppInfo | undefined;
  /** Header time of the last committed block: admission simulates with it, never with a clock. */
  private lastBlockTimeMs: number;
  /** Figures of the last committed block, for metrics and benchmarks. */
  lastBlockStats = { stateKeysWritten: 0 };

  private constructor(opts: ApplicationOptions) {
    this.genesis = opts.genesis;
    this.registry = opts.registry;
    this.tree = opts.tree;
    this.logger = opts.logger;
    this.lastBlockTimeMs = opts.genesis.genesisTimeMs;
  }

  /** Writes the genesis state as version 0 if the tree is empty, then reads what consensus needs. */
  static async open(opts: ApplicationOptions): Promise<Application> {
    const app = new Application(opts);
    if (app.tree.latestVersion < 0) await app.initChain();
    const state = app.committedReader();
    const h = app.tree.latestVersion;
    app.current = {
      height: h,
      appHash: app.tree.latestRoot,
      validators: await validatorsAt(state, h + 1),
      nextValidators: await validatorsAt(state, h + 2),
      params: await paramsAt(state, h + 1),
    };
    return app;
  }

  get chainId(): string {
    return this.genesis.chainId;
  }

  /** ABCI Info: the committed height and app hash, the next two validator sets, the next params. */
  info(): AppInfo {
    if (!this.current) throw new TributaryError('app/not_initialized', 'the application is not open');
    return this.current;
  }

  /** Parameters in force for the next block. */
  get params(): ChainParams {
    return this.info().params;
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

  /**
   * The validator set that signs block `height`: from `info()` for the next two heights, else from
   * the state version `height`, whose schedule still holds the entry in force at that height.
   */
  async validatorsAt(height: number): Promise<readonly Validator[]> {
    const info = this.info();
    if (height === info.height + 1) return info.validators;
    if (height === info.height + 2) return info.nextValidators;
    if (height < 1 || height > info.height + 2) {
      throw new TributaryError('app/invalid_block', `no validator set is known for height ${height}`);
    }
    const tree = this.tree;
    return validatorsAt({ get: (key) => tree.get(key, height) }, height);
  }

  private committedReader(): StateReader {
    const tree = this.tree;
    return { get: (key) => tree.get(key) };
  }

  private validateParams(params: ChainParams): void {
    for (const mod of this.registry.modules) mod.validateParams?.(params);
  }

  private async initChain(): Promise<void> {
    const g = this.genesis;
    const state = new WorkingState(this.tree);
    const bank = new BankKeeper(state);
    for (const account of g.accounts) await bank.mintAtGenesis(account.address, account.balance);
    const config = new ChainConfigKeeper(state, 0, (p) => this.validateParams(p));
    for (const mod of this.registry.modules) {
      if (!mod.initGenesis) continue;
      const ctx: GenesisContext = {
        chainId: this.chainId,
        store: this.moduleStore(state, mod),
        bank: bank.transfers,
        params: g.params,
        chainConfig: config,
        validators: g.validators,
      };
      await mod.initGenesis(ctx, g.modules[mod.name]);
    }
    const prepared = await this.tree.commit(state.sortedWrites());
    if (prepared.version !== 0) throw new TributaryError('app/not_initialized', 'genesis must be state version 0');
  }

  /** Stateless checks and signature; the same for RPC, gossip and block validation. */
  decodeTx(bytes: Uint8Array, verifySignature = true): DecodedTx {
    return decodeTx(bytes, this.registry, {
      chainId: this.chainId,
      maxTxBytes: this.params.maxTxBytes,
      verifySignature,
    });
  }

  /** A fresh check state over the committed state, for the mempool that owns it. */
  newCheckState(): WorkingState {
    return new WorkingState(this.tree);
  }

  /**
   * CheckTx: runs the transaction against `state` (the mempool's check state) exactly as a block
   * would. A transaction that would fail is refused with its code and leaves `state` as it was.
   */
  async checkTx(state: WorkingState, tx: DecodedTx): Promise<void> {
    state.checkpoint();
    try {
      const info = this.checkInfo();
      const config = new ChainConfigKeeper(state, info.height, (p) => this.validateParams(p));
      const receipt = await this.runTx(state, new BankKeeper(state), config, this.params, info, tx, 0);
      if (receipt.failed) {
        // A receipt's code is one a TributaryError carried, or tx/internal_error.
        throw new TributaryError(receipt.error_code as ErrorCode, receipt.error_message);
      }
      state.commitCheckpoint();
    } catch (e) {
      state.revert();
      throw e;
    }
  }

  /**
   * Simulate: runs the transaction against `state` as `checkTx` would, reports the fee it needs,
   * its events and its error, and leaves `state` as it was. The signature is not required (a fee
   * is signed over, so the fee to sign with must be known first, as Cosmos's simulate does it).
   * The metered fee does not depend on the fee paid (modules never read it); only the sender's
   * balance does. So a first run charges the declared fee (or the minimum), and when that is less
   * than the fee needed a second run charges the fee needed: the outcome reported is the one a
   * transaction paying `max(declared, required)` would have.
   */
  async simulateTx(state: WorkingState, tx: DecodedTx): Promise<Simulation> {
    const info = this.checkInfo();
    const once = async (charge: bigint) => {
      const meter: FeeMeter = { charge, required: this.params.minFee };
      state.checkpoint();
      try {
        const config = new ChainConfigKeeper(state, info.height, (p) => this.validateParams(p));
        const receipt = await this.runTx(state, new BankKeeper(state), config, this.params, info, tx, 0, meter);
        return { receipt, error: undefined, required: meter.required };
      } catch (e) {
        if (!isTributaryError(e)) throw e;
        return { receipt: undefined, error: e, required: meter.required };
      } finally {
        state.revert();
      }
    };
    const declared = tx.body.fee;
    const firstCharge = maxAmount(declared, this.params.minFee);
    let run = await once(firstCharge);
    const charged = maxAmount(run.required, firstCharge);
    if (charged !== firstCharge) run = await once(charged);
    const failure = run.receipt?.failed
      ? { code: run.receipt.error_code as ErrorCode, message: run.receipt.error_message }
      : run.error && { code: run.error.code, message: run.error.message };
    return {
      ok: failure === undefined,
      requiredFee: run.required,
      declaredFee: declared,
      chargedFee: charged,
      events: run.receipt?.events ?? [],
      error: failure,
    };
  }

  /** The block a check or simulation runs in: the next height, the last block's time. */
  private checkInfo(): BlockInfo {
    return { chainId: this.chainId, height: this.height + 1, timeMs: this.lastBlockTimeMs, proposer: FEE_COLLECTOR };
  }

  /** PrepareProposal: executes the candidates in order, leaving out (and reporting) what cannot be included. */
  prepareProposal(info: BlockInfo, candidates: DecodedTx[]): Promise<FinalizedBlock> {
    return this.finalizeBlock(info, candidates, 'propose');
  }

  /**
   * ProcessProposal: executes another proposer's block; any transaction that cannot be included
   * makes the whole block invalid (`app/invalid_block`). Consensus compares the roots.
   */
  processProposal(info: BlockInfo, txs: DecodedTx[]): Promise<FinalizedBlock> {
    return this.finalizeBlock(info, txs, 'validate');
  }

  /**
   * Executes a block on top of the committed state: begin-block hooks, the transactions, end-block
   * hooks, then the tree's new root. In `propose` mode a transaction that cannot be included
   * (stale nonce, unpaid fee) is dropped and reported; in `validate` mode it makes the whole block
   * invalid. Nothing is written until `commit`.
   */
  async finalizeBlock(
    info: BlockInfo,
    txs: DecodedTx[],
    mode: 'propose' | 'validate' = 'validate',
  ): Promise<FinalizedBlock> {
    if (info.height !== this.height + 1) {
      throw new TributaryError('app/invalid_block', `expected height ${this.height + 1}, got ${info.height}`);
    }
    const { params, validators } = this.info();
    const state = new WorkingState(this.tree);
    const bank = new BankKeeper(state);
    const config = new ChainConfigKeeper(state, info.height, (p) => this.validateParams(p));
    const blockEvents: Event[] = [];
    const emitBlockEvent = (type: string, attrs: EventAttrs) => blockEvents.push(toEvent(type, attrs));
    // Read before any hook runs: the chainconfig hook drops schedule entries no longer in force.
    const lastValidators = info.height > 1 ? await validatorsAt(state, info.height - 1) : [];
    const blockCtx = (mod: Module): BlockContext => ({
      chainId: info.chainId,
      height: info.height,
      timeMs: info.timeMs,
      proposer: info.proposer,
      store: this.moduleStore(state, mod),
      bank: bank.transfers,
      keeper: this.keeperResolver(state, bank, mod),
      params,
      chainConfig: config,
      validators,
      lastValidators,
      lastCommitSigners: info.lastCommitSigners ?? [],
      emit: emitBlockEvent,
    });
    setEventSink(state, emitBlockEvent);
    for (const mod of this.registry.beginBlockers) await mod.beginBlock!(blockCtx(mod));
    const included: DecodedTx[] = [];
    const receipts: Receipt[] = [];
    const dropped: FinalizedBlock['dropped'] = [];
    for (const [i, tx] of txs.entries()) {
      // Timers and I/O get a turn every few milliseconds of execution: admissions and RPC reads
      // would otherwise wait for a whole block (a block of 3,000 transfers runs ~100 ms). Order
      // and result do not depend on it; nothing else writes this working state.
      if (i > 0 && i % YIELD_EVERY_TXS === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        receipts.push(await this.runTx(state, bank, config, params, info, tx, included.length));
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
    setEventSink(state, emitBlockEvent);
    for (const mod of this.registry.endBlockers) await mod.endBlock!(blockCtx(mod));
    const receiptBytes = receipts.map((r) => ReceiptCodec.encode(r));
    const endBlockEventsBytes = endBlockEventsLeaf(blockEvents);
    const writes = state.sortedWrites();
    const prepared = await this.tree.prepare(writes);
    // Changes made in this block are the schedule entries at exactly this height + UPDATE_DELAY:
    // no earlier block can have written that height, and a failed transaction's entries were reverted.
    const effective = info.height + UPDATE_DELAY;
    const validatorSchedule = await readValidatorSchedule(state);
    const paramsSchedule = await readParamsSchedule(state);
    const scheduledSet = validatorSchedule.entries.find((e) => e.from_height === effective);
    const scheduledParams = paramsSchedule.entries.find((e) => e.from_height === effective);
    return {
      info,
      txs: included,
      receipts,
      endBlockEvents: blockEvents,
      stateRoot: prepared.root,
      receiptBytes,
      endBlockEventsBytes,
      resultsRoot: resultsRoot(receiptBytes, endBlockEventsBytes),
      prepared,
      stateKeysWritten: writes.length,
      dropped,
      validatorUpdates: scheduledSet ? [{ height: effective, value: validatorSetFromRecord(scheduledSet.set) }] : [],
      paramUpdates: scheduledParams ? [{ height: effective, value: paramsFromRecord(scheduledParams.params) }] : [],
      nextInfo: {
        height: info.height,
        appHash: prepared.root,
        validators: await validatorsAt(state, info.height + 1),
        nextValidators: await validatorsAt(state, info.height + 2),
        params: await paramsAt(state, info.height + 1),
      },
    };
  }

  /**
   * Whether `block` can still be committed: the tree holds one prepared version at a time, so
   * executing another block since (a second proposal of the height) makes this one stale.
   */
  canCommit(block: FinalizedBlock): boolean {
    return this.tree.isOutstanding(block.prepared);
  }

  /** Commit: call once the batch holding `block.prepared` is on disk. */
  commit(block: FinalizedBlock): void {
    this.tree.markCommitted(block.prepared);
    this.lastBlockTimeMs = block.info.timeMs;
    this.current = block.nextInfo;
    this.lastBlockStats = { stateKeysWritten: block.stateKeysWritten };
  }

  /**
   * Runs one transaction. Throws (and changes nothing) when the transaction cannot be included at
   * all: wrong nonce, fee below the minimum or not covered by the balance. Otherwise the fee is
   * taken and the nonce bumped, and the receipt tells whether the message itself succeeded; a
   * failed message's writes are all reverted.
   */
  private async runTx(
    state: WorkingState,
    bank: BankKeeper,
    config: ChainConfigKeeper,
    params: ChainParams,
    info: BlockInfo,
    tx: DecodedTx,
    index: number,
    meter?: FeeMeter,
  ): Promise<Receipt> {
    const { body, sender } = tx;
    // A simulation charges `meter.charge` in place of the declared fee and never refuses a fee as
    // too low: it reports the fee the transaction needs instead.
    const fee = meter?.charge ?? body.fee;
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
    if (!meter && body.fee < params.minFee) {
      throw new TributaryError('tx/fee_too_low', `fee ${body.fee} is below the minimum ${params.minFee}`, {
        minFee: params.minFee.toString(),
      });
    }
    if (account.balance < fee) {
      throw new TributaryError('tx/insufficient_fee_balance', `balance ${account.balance} cannot pay fee ${fee}`);
    }
    account.nonce += 1;
    bank.setAccount(sender, account);
    await bank.transfer(sender, FEE_COLLECTOR, fee);

    const events: Event[] = [];
    let requiredFee = params.minFee;
    const mod = this.registry.moduleOf(tx.definition);
    const ctx: TxContext = {
      chainId: info.chainId,
      height: info.height,
      timeMs: info.timeMs,
      txHash: tx.hash,
      txIndex: index,
      sender,
      senderPublicKey: body.sender_pubkey,
      fee: body.fee,
      store: this.moduleStore(state, mod),
      bank: bank.transfers,
      keeper: this.keeperResolver(state, bank, mod),
      params,
      chainConfig: config,
      emit: (type, attrs) => events.push(toEvent(type, attrs)),
      requireFee: (amount, reason) => {
        requiredFee += amount;
        if (meter) meter.required = requiredFee;
        else if (requiredFee > body.fee) {
          throw new TributaryError('tx/fee_too_low', `fee ${body.fee} does not cover ${requiredFee} (${reason})`, {
            required: requiredFee.toString(),
          });
        }
      },
    };
    state.checkpoint();
    try {
      setEventSink(state, ctx.emit);
      await tx.definition.execute(ctx, tx.message);
      state.commitCheckpoint();
      return { tx_hash: tx.hash, failed: false, error_code: '', error_message: '', fee, events };
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
      return { tx_hash: tx.hash, failed: true, error_code: code, error_message: message, fee, events: [] };
    }
  }

  /** A module's store over a working state: one per module and working state, so its write count holds. */
  private moduleStore(state: WorkingState, mod: Module): ModuleStore {
    const stores = state.scratch('#app/stores', () => new Map<string, ModuleStore>());
    let store = stores.get(mod.name);
    if (!store) {
      store = new ModuleStore(state, mod.name, this.registry.storePrefixes(mod.name));
      stores.set(mod.name, store);
    }
    return store;
  }

  /**
   * How a module's context resolves its expected keepers: the provider bound in the module list,
   * built over the provider's own store, once per working state (keepers hold no state of their own).
   */
  private keeperResolver(state: WorkingState, bank: BankKeeper, consumer: Module): <K>(slot: KeeperSlot<K>) => K {
    return <K>(slot: KeeperSlot<K>): K => {
      const source = this.registry.keeperSource(consumer.name, slot);
      const keepers = state.scratch('#app/keepers', () => new Map<KeeperSource<unknown>, unknown>());
      let keeper = keepers.get(source);
      if (keeper === undefined) {
        const provider = this.registry.module(source.module);
        keeper = source.create({
          store: this.moduleStore(state, provider),
          bank: bank.transfers,
          keeper: this.keeperResolver(state, bank, provider),
          emit: (type, attrs) => eventSink(state)(type, attrs),
        });
        keepers.set(source, keeper);
      }
      return keeper as K;
    };
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
  async prove(
    key: Uint8Array,
    height: number,
  ): Promise<{ value: Uint8Array | undefined; proof: Uint8Array; root: Uint8Array }> {
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
