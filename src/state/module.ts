import type { MessageCodec } from '../codec/canonical.ts';
import type { Event, Receipt } from '../codec/core.ts';
import type { JsonValue } from '../codec/json.ts';
import type { Address } from '../crypto/address.ts';
import type { StateReader } from './working-state.ts';
import type { ChainParams } from './params.ts';
import type { BankTransfers } from './bank/keeper.ts';
import type { ModuleStore } from './module-store.ts';
import type { ChainConfigKeeper } from './chainconfig/keeper.ts';
import type { Validator } from './chainconfig/records.ts';
import type { JsonSchema } from './json-schema.ts';

/*
 * The module contract. A transaction type is declared once, as a TxDefinition in its module's
 * file: schema (codec), stateless checks, state transition and the RPC view (its CLI command is
 * the CLI's, src/cli/specs, keyed by type). The
 * events it emits are declared beside it (EventDefinition, made with `defineEvent` in events.ts)
 * and emitted through them, so every event in a receipt has a declared type and typed fields. The
 * registry (registry.ts) builds the type table from the module list, and the RPC server, the CLI
 * and the index (src/index) build their tables from the same list.
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
  /** The executing module's own store: reads anywhere, writes only under its prefixes. */
  readonly store: ModuleStore;
  /** Transfers and balances; only the application's fee-and-nonce path sets an account. */
  readonly bank: BankTransfers;
  /** Another module's keeper, as this module declared it needs (`Module.expects`), bound in the module list. */
  keeper<K>(slot: KeeperSlot<K>): K;
  /** The parameters in force at this height (from state; see src/state/chainconfig). */
  readonly params: ChainParams;
  /** The typed path for validator-set and parameter changes (staking, governance). */
  readonly chainConfig: ChainConfigKeeper;
  /**
   * Record an event in the receipt. Attribute values are strings; amounts in decimal. Modules call
   * it through their declared events (`someEvent.emit(ctx, values)`), never with a bare string.
   */
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
  /** The hook's module's own store. */
  readonly store: ModuleStore;
  readonly bank: BankTransfers;
  keeper<K>(slot: KeeperSlot<K>): K;
  readonly params: ChainParams;
  readonly chainConfig: ChainConfigKeeper;
  /** The validator set signing this block, in address order. */
  readonly validators: readonly Validator[];
  /** The set that signed the parent block (empty at height 1). */
  readonly lastValidators: readonly Validator[];
  /** The validators whose precommits the block's `last_commit` carries (empty at height 1). */
  readonly lastCommitSigners: readonly Address[];
  emit(type: string, attributes: Record<string, string | number | bigint | boolean>): void;
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
}

/**
 * A definition in a table of many message types (registry, module lists, CLI): each one is only
 * ever used with its own codec's type, so the table erases the type parameter.
 */
// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous table; see above
export type AnyTxDefinition = TxDefinition<any>;

export type ParamKind = 'string' | 'integer' | 'address' | 'hash' | 'hex' | 'blockTag' | 'boolean' | 'json';

/** A JSON Schema (draft-07), as `rpc.discover` publishes it (fragments: `schema` in json-schema.ts). */
export type { JsonSchema };

export interface ParamSpec {
  name: string;
  kind: ParamKind;
  optional?: boolean;
  description?: string;
  /** Narrows the kind in `rpc.discover` (the shape of a `json` param, an enumeration of strings). */
  schema?: JsonSchema;
}

// ------------------------------------------------------------------ events

/**
 * How an event field's value is written as an attribute string: `address` bech32 (`trib1…`),
 * `amount` and `integer` decimal, `hash` lowercase hex without 0x (empty for none), `boolean`
 * "true"/"false", `string` as is. A `list` field holds such values joined by commas (elements
 * are never empty, and string elements never hold a comma).
 */
export type EventFieldKind = 'address' | 'amount' | 'integer' | 'hash' | 'string' | 'boolean';

export interface EventFieldSpec {
  readonly kind: EventFieldKind;
  /** The index keeps a lookup by this field's value (by each element's, for a list). */
  readonly indexed?: boolean;
  /** Several values of the kind, in order (one attribute, comma-separated). */
  readonly list?: boolean;
}

export type EventFields = Readonly<Record<string, EventFieldSpec>>;

export interface EventFieldTypes {
  address: Address;
  amount: bigint;
  integer: number;
  hash: Uint8Array;
  string: string;
  boolean: boolean;
}

export type EventValues<F extends EventFields> = {
  [N in keyof F]: F[N]['list'] extends true ? readonly EventFieldTypes[F[N]['kind']][] : EventFieldTypes[F[N]['kind']];
};

/** Where an event goes: a transaction's receipt or the block's end-of-block events. */
export interface EventSink {
  emit(type: string, attributes: Record<string, string | number | bigint | boolean>): void;
}

/**
 * One kind of event, declared in its module next to the transactions that emit it. `type` is the
 * stable wire name (like a tx type, never renamed once a chain uses it); the attributes of an
 * emitted event are exactly `fields`, in declaration order.
 */
export interface EventDefinition<F extends EventFields = EventFields> {
  readonly type: string;
  readonly description: string;
  readonly fields: F;
  emit(sink: EventSink, values: EventValues<F>): void;
  /** Typed values of an event of this type (throws `event/malformed` when it does not match). */
  read(event: Event): EventValues<F>;
}

/** Where an event sits in the chain. End-of-block events have no transaction (`txIndex` null). */
export interface EventPosition {
  readonly height: number;
  readonly txIndex: number | null;
  readonly eventIndex: number;
}

/** An event as the stream delivers it and the index returns it. */
export interface ChainEvent extends EventPosition {
  readonly blockHash: Uint8Array;
  /** The block's header time, so that a reader needs no second call per block for it. */
  readonly blockTimeMs: number;
  readonly txHash: Uint8Array | null;
  readonly event: Event;
}

export interface EventFilter {
  readonly type: string;
  /** Only events with this attribute value (for a list field: holding it); the field must be declared `indexed`. */
  readonly attribute?: { readonly key: string; readonly value: string };
  readonly fromHeight?: number;
  /** Inclusive. */
  readonly toHeight?: number;
  /** Resume strictly after this event (a cursor from an earlier page). */
  readonly after?: EventPosition;
  /** Pass over this many matching events first (offset paging). */
  readonly skip?: number;
}

export interface IndexedTx {
  readonly height: number;
  readonly index: number;
  readonly hash: Uint8Array;
  readonly sender: Address;
  readonly type: string;
  readonly failed: boolean;
}

/**
 * Query-side records kept outside the state tree (src/index): written in each block's batch,
 * rebuildable from blocks and receipts, never read by execution. Iteration is in chain order.
 */
export interface IndexReader {
  events(filter: EventFilter): AsyncIterable<ChainEvent>;
  /** Every event of one transaction, in receipt order. */
  txEvents(height: number, txIndex: number): Promise<ChainEvent[]>;
  txsBySender(
    sender: Address,
    range?: { fromHeight?: number; toHeight?: number; after?: { height: number; index: number } },
  ): AsyncIterable<IndexedTx>;
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
  getReceipts(height: number): Promise<{ receipts: Receipt[]; end_block_events: Event[] } | undefined>;
  /** Events, transactions by sender and other query-only records (latest height). */
  readonly index: IndexReader;
}

export interface QueryDefinition {
  /** JSON-RPC method name, "<area>_<verb>", e.g. "datanet_get". */
  method: string;
  description: string;
  /** Accepted as a positional array in this order, or as an object by name. */
  params: ParamSpec[];
  /** `tributary query <cli> <positional params...>` when set. */
  cli?: string;
  /**
   * JSON Schema of the answer, published by `rpc.discover` (fragments: `schema` in
   * src/state/json-schema.ts); test/e2e/rpc-discover.test.ts checks real answers against it.
   */
  result: JsonSchema;
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

/** A check over committed state; returns a message when broken. */
export interface Invariant {
  name: string;
  check(q: QueryContext): Promise<string | undefined>;
}

export interface GenesisContext {
  readonly chainId: string;
  readonly store: ModuleStore;
  readonly bank: BankTransfers;
  readonly params: ChainParams;
  readonly chainConfig: ChainConfigKeeper;
  readonly validators: readonly Validator[];
}

// ------------------------------------------------------------------ keepers

/** What a keeper is built from: its own module's store and the bank, in one working state. */
export interface KeeperEnv {
  readonly store: ModuleStore;
  readonly bank: BankTransfers;
  /** The keepers the providing module itself expects. */
  keeper<K>(slot: KeeperSlot<K>): K;
  /** Records an event in the transaction or block hooks now running (through a declared event's `emit`). */
  emit(type: string, attributes: Record<string, string | number | bigint | boolean>): void;
}

/**
 * A keeper a module offers others (listed in its `Module.keepers`), built per working state over
 * that module's own store: the only way another module changes its records.
 */
export interface KeeperSource<K> {
  /** The providing module; the keeper writes through its store. */
  readonly module: string;
  create(env: KeeperEnv): K;
}

/**
 * A dependency a module declares (Cosmos `expected_keepers`): a name and the interface it needs.
 * The module list binds each slot to a provider (`bindKeeper`), checked by the type of `K`.
 */
export interface KeeperSlot<K> {
  readonly name: string;
  /** Type-only: the interface a bound keeper must implement. */
  readonly interface?: K;
}

export function expectKeeper<K>(name: string): KeeperSlot<K> {
  return { name };
}

export interface KeeperBinding {
  readonly slot: KeeperSlot<unknown>;
  readonly source: KeeperSource<unknown>;
}

export function bindKeeper<K>(slot: KeeperSlot<K>, source: KeeperSource<K>): KeeperBinding {
  return { slot, source };
}

/** A module with its expected keepers bound (the module list does this). */
export function withKeepers(module: Module, bindings: readonly KeeperBinding[]): Module {
  return { ...module, keeperBindings: bindings };
}

export interface Module {
  readonly name: string;
  /**
   * The key prefixes this module's store may write (default `["<name>/"]`). Prefixes of
   * different modules never overlap (checked by the registry).
   */
  readonly storePrefixes?: readonly string[];
  /** Keepers this module offers other modules. */
  readonly keepers?: readonly KeeperSource<unknown>[];
  /** Keepers this module needs from others; each must be bound in the module list. */
  readonly expects?: readonly KeeperSlot<unknown>[];
  /** The providers bound to `expects` (set by `withKeepers` in the module list). */
  readonly keeperBindings?: readonly KeeperBinding[];
  readonly txs: readonly AnyTxDefinition[];
  readonly queries?: readonly QueryDefinition[];
  readonly stateKeys?: readonly StateKeyDefinition[];
  /** Every event this module's transactions and hooks emit. */
  readonly events?: readonly EventDefinition[];
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
  /** Checks run after blocks in tests and by `tributary verify`. */
  readonly invariants?: readonly Invariant[];
  /** Accounts this module keeps value in (no private key exists for them), listed by `chain_params`. */
  readonly moduleAccounts?: readonly ModuleAccount[];
  /** The fees this module meters on top of `minFee` (`ctx.requireFee`), at the parameters given. */
  feeRules?(params: ChainParams): readonly FeeRule[];
}

/** A module account: a well-known address (`moduleAddress(name)`) that holds a module's funds. */
export interface ModuleAccount {
  /** The name its address derives from, e.g. "fee_collector". */
  name: string;
  address: Address;
  description: string;
}

/** One fee a transaction needs: `amount` base units per `per` (a unit of metered work). */
export interface FeeRule {
  /** The parameter that sets it, e.g. "params.modules.inference.feePerNode". */
  param: string;
  amount: bigint;
  /** What one unit is, e.g. "lineage node visited with a non-zero inflow". */
  per: string;
  /** The transaction types it applies to ("*": every transaction). */
  txTypes: readonly string[];
}
