import type { MessageCodec } from '../codec/canonical.ts';
import type { JsonValue } from '../codec/json.ts';
import type { Address } from '../crypto/address.ts';
import type { StateReader, WorkingState } from './working-state.ts';
import type { ChainParams } from './params.ts';
import type { BankKeeper } from './bank/keeper.ts';
import type { ChainConfigKeeper } from './chainconfig/keeper.ts';
import type { Validator } from './chainconfig/records.ts';

/*
 * The module contract. A transaction type is declared once, as a TxDefinition in its module's
 * file: schema (codec), stateless checks, state transition, events (through ctx.emit), the RPC
 * view and the CLI command. The registry (registry.ts) builds the type table from the module
 * list, and the RPC server and the CLI build their tables from the same list.
 */

/** Everything a state transition may see. No wall clock: time is the block header's. */
export interface TxContext {
  readonly chainId: string;
  readonly height: number;
  readonly timeMs: number;
  readonly txHash: Uint8Array;
  readonly txIndex: number;
  readonly sender: Address;
  readonly senderPublicKey: Uint8Array;
  /** Fee the sender declared and has already paid. */
  readonly fee: bigint;
  readonly state: WorkingState;
  readonly bank: BankKeeper;
  /** The parameters in force at this height (from state; see src/state/config). */
  readonly params: ChainParams;
  /** The typed path for validator-set and parameter changes (staking, governance). */
  readonly chainConfig: ChainConfigKeeper;
  /** Record an event in the receipt. Attribute values are strings; amounts in decimal. */
  emit(type: string, attributes: Record<string, string | number | bigint | boolean>): void;
  /**
   * Meter a fee that depends on the work done (e.g. per lineage node visited). The transaction
   * fails with `tx/fee_too_low` if its declared fee does not cover the base fee plus all metered
   * amounts. The declared fee is what is paid.
   */
  requireFee(amount: bigint, reason: string): void;
}

/** Begin- and end-of-block hook context: block-level state changes (fee distribution, vesting). */
export interface BlockContext {
  readonly chainId: string;
  readonly height: number;
  readonly timeMs: number;
  readonly proposer: Address;
  readonly state: WorkingState;
  readonly bank: BankKeeper;
  readonly params: ChainParams;
  readonly chainConfig: ChainConfigKeeper;
  /** The validator set signing this block, in address order. */
  readonly validators: readonly Validator[];
  emit(type: string, attributes: Record<string, string | number | bigint | boolean>): void;
}

export interface CliOption {
  /** commander flags, e.g. "--to <address>" */
  flags: string;
  description: string;
  required?: boolean;
  defaultValue?: string;
}

/** How `tributary tx <name>` builds this transaction's message from command-line options. */
export interface TxCliSpec<M> {
  name: string;
  description: string;
  options: CliOption[];
  build(options: Record<string, string | boolean | string[] | undefined>): M;
}

export interface TxDefinition<M> {
  /** Stable wire id, "<module>/<action>". Never renamed once a chain uses it. */
  readonly type: string;
  readonly codec: MessageCodec<M>;
  /** Stateless checks; throw a coded TributaryError. */
  validateBasic(message: M): void;
  /** The state transition; throw a coded TributaryError to fail (all its writes are reverted). */
  execute(ctx: TxContext, message: M): Promise<void>;
  /** How RPC and the CLI show the message. */
  view(message: M): JsonValue;
  readonly cli?: TxCliSpec<M>;
}

export type ParamKind = 'string' | 'integer' | 'address' | 'hash' | 'hex' | 'blockTag' | 'boolean' | 'json';

export interface ParamSpec {
  name: string;
  kind: ParamKind;
  optional?: boolean;
  description?: string;
}

/** Read access for queries: committed state at one height, plus the block store. */
export interface QueryContext {
  readonly height: number;
  readonly state: StateReader;
  /** Ordered iteration over committed keys with this prefix (latest height only). */
  iterate(prefix: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
  readonly params: ChainParams;
  readonly chain: ChainReader;
}

export interface ChainReader {
  readonly latestHeight: number;
  getReceipts(height: number): Promise<{ receipts: import('../codec/core.ts').Receipt[]; end_block_events: import('../codec/core.ts').Event[] } | undefined>;
}

export interface QueryDefinition {
  /** JSON-RPC method name, "<area>_<verb>", e.g. "datanet_get". */
  method: string;
  description: string;
  /** Accepted as a positional array in this order, or as an object by name. */
  params: ParamSpec[];
  /** `tributary query <cli> <positional params...>` when set. */
  cli?: string;
  handler(q: QueryContext, params: Record<string, unknown>): Promise<JsonValue>;
}

/**
 * A kind of state record a client can ask a proof for by name (`state_getProof` with
 * `{kind, id}`, `tributary query proof KIND ID`) instead of by raw key.
 */
export interface StateKeyDefinition {
  kind: string;
  description: string;
  /** How the id is given; omitted for singletons (e.g. the supply record). */
  id?: ParamSpec;
  key(id: unknown): Uint8Array;
  /** Decodes the stored bytes for display. */
  view(value: Uint8Array): JsonValue;
}

export interface GenesisContext {
  readonly chainId: string;
  readonly state: WorkingState;
  readonly bank: BankKeeper;
  readonly params: ChainParams;
  readonly chainConfig: ChainConfigKeeper;
  readonly validators: readonly Validator[];
}

export interface Module {
  readonly name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly txs: readonly TxDefinition<any>[];
  readonly queries?: readonly QueryDefinition[];
  readonly stateKeys?: readonly StateKeyDefinition[];
  /** Apply this module's genesis section (genesis.json `modules.<name>`). */
  initGenesis?(ctx: GenesisContext, section: unknown): Promise<void>;
  /**
   * Checks this module's section of the parameters (`params.modules.<name>` or whatever it reads);
   * throws `params/invalid`. Runs at genesis and before any parameter change is scheduled.
   */
  validateParams?(params: ChainParams): void;
  /** Runs before the block's transactions, in the order of `ModuleOrder.beginBlock`. */
  beginBlock?(ctx: BlockContext): Promise<void>;
  /** Runs after the block's transactions, in the order of `ModuleOrder.endBlock`. */
  endBlock?(ctx: BlockContext): Promise<void>;
  /** Checks run after blocks in tests and by `tributary verify`; return a message when broken. */
  readonly invariants?: readonly { name: string; check(q: QueryContext): Promise<string | undefined> }[];
}
