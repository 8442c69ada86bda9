/*
 * TypeScript shapes of the core methods' params and results, for the typed client. They follow
 * the result schemas of src/rpc/schemas.ts (what rpc.discover publishes; the OpenRPC test checks
 * real answers against those). Module queries stay `call<T>(name, params)`: their shapes belong
 * to their modules.
 */

/** A height, a 0x block hash, or a tag; "finalized" is the last committed block (BFT finality). */
export type BlockRef = number | string | 'latest' | 'finalized' | 'earliest';

export interface EventBody {
  type: string;
  attributes: Record<string, string>;
}

export interface ChainEvent extends EventBody {
  height: number;
  blockHash: string;
  blockTimeMs: number;
  txHash: string | null;
  /** null for end-of-block events. */
  txIndex: number | null;
  eventIndex: number;
}

/** An `events` subscription notification: the event and the (opaque) cursor right after it. */
export interface EventNotification extends ChainEvent {
  cursor: string;
}

export interface HeadNotification {
  hash: string;
  height: number;
  timeMs: number;
  parentHash: string;
  proposer: string;
  stateRoot: string;
  resultsRoot: string;
  txCount: number;
}

export interface TxInclusion {
  hash: string;
  height: number;
  index: number;
  blockHash: string;
  status: 'committed' | 'failed';
  errorCode: string | null;
}

export interface Commit {
  height: number;
  round: number;
  blockHash: string;
  signatures: { validator: string; signature: string }[];
}

export interface Header {
  hash: string;
  height: number;
  chainId: string;
  timeMs: number;
  time: string;
  parentHash: string;
  proposer: string;
  txsRoot: string;
  stateRoot: string;
  resultsRoot: string;
  validatorsHash: string;
  nextValidatorsHash: string;
  lastCommitHash: string;
  headerBytes: string;
  proposerSignature: string;
  txCount: number;
  lastCommit: Commit | null;
}

export interface Block extends Header {
  txs: (string | TxBody)[];
}

export interface TxBody {
  hash: string;
  chainId: string;
  sender: string;
  senderPublicKey: string;
  nonce: number;
  fee: string;
  type: string;
  message: Record<string, unknown>;
  size: number;
}

export interface Receipt {
  txHash: string;
  status: 'committed' | 'failed';
  errorCode: string | null;
  errorMessage: string | null;
  fee: string;
  events: EventBody[];
}

export interface ChainStatus {
  chainId: string;
  height: number;
  finalizedHeight: number;
  latestBlockHash: string | null;
  latestBlockTimeMs: number | null;
  stateRoot: string;
  genesisTimeMs: number;
  validators: { name: string; address: string; power: number }[];
  minFee: string;
  mempool: { size: number; bytes: number };
}

export interface TxRecord {
  hash: string;
  status: 'queued' | 'pending' | 'committed' | 'failed';
  height: number | null;
  index: number | null;
  blockHash: string | null;
  tx: TxBody;
  receipt: Receipt | null;
}

export interface Simulation {
  ok: boolean;
  requiredFee: string;
  declaredFee: string;
  chargedFee: string;
  events: EventBody[];
  error: { code: string; message: string } | null;
}

export interface EventFilter {
  types: string | string[];
  attributes?: Record<string, string | string[]>;
  fromHeight?: number;
  toHeight?: number;
  blockHash?: string;
  limit?: number;
  cursor?: string;
}

export interface EventsPage {
  events: ChainEvent[];
  cursor: string | null;
  head: number;
  finalized: number;
}

export interface TxListPage {
  txs: { hash: string; height: number; index: number; type: string; status: 'committed' | 'failed' }[];
  cursor: string | null;
  head: number;
}

export interface ValidatorSet {
  height: number;
  hash: string;
  totalPower: number;
  validators: { name: string; address: string; publicKey: string; power: number }[];
}

/** Params (positional) and result of each core method. */
export interface CoreMethods {
  chain_status: { params: []; result: ChainStatus };
  chain_params: { params: []; result: Record<string, unknown> };
  chain_getBlock: { params: [] | [BlockRef] | [BlockRef, boolean]; result: Block | null };
  chain_getHeader: { params: [] | [BlockRef]; result: Header | null };
  chain_getCommit: { params: [] | [BlockRef]; result: Commit | null };
  chain_getValidators: { params: [] | [number]; result: ValidatorSet };
  chain_getBlockResults: {
    params: [] | [BlockRef];
    result: { height: number; receipts: Receipt[]; endBlockEvents: EventBody[] } | null;
  };
  chain_getEvents: { params: [EventFilter]; result: EventsPage };
  tx_submit: { params: [string]; result: { hash: string; queued: boolean } };
  tx_get: { params: [string]; result: TxRecord | null };
  tx_simulate: { params: [string]; result: Simulation };
  tx_listBySender: {
    params: [string] | [string, number | undefined, number | undefined, string | undefined];
    result: TxListPage;
  };
  account_nextNonce: { params: [string]; result: { address: string; nonce: number } };
  state_keyKinds: { params: []; result: { kind: string; description: string; id: string | null }[] };
  'rpc.discover': { params: []; result: { openrpc: string; info: Record<string, unknown>; methods: unknown[] } };
}

export type CoreMethod = keyof CoreMethods;

export type SubscriptionKind = 'newHeads' | 'events' | 'tx';

/** What each subscription kind delivers. */
export interface SubscriptionItems {
  newHeads: HeadNotification;
  events: EventNotification;
  tx: TxInclusion;
}

/** The typed core methods by name, at run time (the `satisfies` keeps it equal to CoreMethods' keys). */
export const CORE_METHOD_NAMES = Object.keys({
  chain_status: true,
  chain_params: true,
  chain_getBlock: true,
  chain_getHeader: true,
  chain_getCommit: true,
  chain_getValidators: true,
  chain_getBlockResults: true,
  chain_getEvents: true,
  tx_submit: true,
  tx_get: true,
  tx_simulate: true,
  tx_listBySender: true,
  account_nextNonce: true,
  state_keyKinds: true,
  'rpc.discover': true,
} satisfies Record<CoreMethod, true>) as CoreMethod[];
