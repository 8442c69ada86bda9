import { readFileSync } from 'node:fs';
import { messageCodec, parseSchema, type MessageCodec } from '../codec/canonical.ts';
import { moduleAddress, type Address } from '../crypto/address.ts';
import type { AttributionMessages } from './attribution.pb.ts';
import { concatBytes, readU64be, u64be, utf8 } from '../crypto/hash.ts';
import { ModuleStore } from '../state/module-store.ts';
import { WorkingState, type StateReader } from '../state/working-state.ts';

/*
 * Shared by the six AI-economy modules: record types and their canonical codecs, the state key
 * layout, the module accounts that hold escrowed and earned value, and id counters. Execution may
 * not iterate state, so every list a transaction needs is an explicit index key. Only what
 * execution reads back is state: histories and lists only queries need (payments and their legs,
 * agent actions, a contributor's contributions, a version's children) are typed events in the
 * receipts, looked up in the chain index (src/index).
 */

export const attributionSchema = parseSchema<AttributionMessages>(
  readFileSync(new URL('./attribution.proto', import.meta.url), 'utf8'),
);

type ShortName<K> = K extends `tributary.attribution.${infer S}` ? S : never;

/** The canonical codec of a message of attribution.proto, typed by its generated interface. */
export function codec<S extends ShortName<keyof AttributionMessages>>(
  name: S,
): MessageCodec<AttributionMessages[`tributary.attribution.${S}`]> {
  return messageCodec(attributionSchema, `tributary.attribution.${name}`);
}

// ------------------------------------------------------------------ record types

/*
 * The record and message types are generated from attribution.proto (attribution.pb.ts, by
 * `npm run proto`) and typed into every codec through the schema, so a field renamed in one and
 * not the other does not compile. What proto cannot say (names of enum-like numbers, the split's
 * legs) stays here.
 */
export type {
  IdList,
  Datanet,
  Contribution,
  ContributionLeaf,
  MsgCreateDatanet,
  MsgContribute,
  MsgReview,
  ModelFamily,
  ParentEdge,
  ModelVersion,
  AncestorSet,
  ModelUsage,
  MsgRegisterModel,
  MsgPublishModel,
  Weight,
  AttributionRecord,
  MsgRecordAttribution,
  MsgPay,
  Earnings,
  MsgClaim,
  Agent,
  AgentAction,
  MsgRegisterAgent,
  ActPayment,
  MsgAct,
  Dispute,
  MsgOpenDispute,
  MsgRespondDispute,
  MsgVoteDispute,
} from './attribution.pb.ts';

/** `struck`: accepted, then an upheld dispute took it out of its datanet's split (src/attribution/dispute). */
export const ContributionStatus = { pending: 1, accepted: 2, rejected: 3, struck: 4 } as const;
export const CONTRIBUTION_STATUS_NAMES: Record<number, string> = {
  1: 'pending',
  2: 'accepted',
  3: 'rejected',
  4: 'struck',
};

/** Parent edge kinds. Datanets sort after model versions, which fixes the split order. */
export const EdgeKind = { model: 1, datanet: 2 } as const;
export const EDGE_KIND_NAMES: Record<number, string> = { 1: 'model', 2: 'datanet' };

export const Relation = { base: 1, finetune: 2, adapter: 3, merge: 4, quantize: 5, distill: 6 } as const;
export const RELATION_NAMES: Record<number, string> = {
  1: 'base',
  2: 'finetune',
  3: 'adapter',
  4: 'merge',
  5: 'quantize',
  6: 'distill',
};

/** Attribution weight target kinds. */
export const TargetKind = { contribution: 1, datanet: 2 } as const;
export const TARGET_KIND_NAMES: Record<number, string> = { 1: 'contribution', 2: 'datanet' };

export const AttributionMethod = { declared: 1, infiniGram: 2, trak: 3, influence: 4, shapley: 5 } as const;
export const METHOD_NAMES: Record<number, string> = {
  1: 'declared',
  2: 'infini-gram',
  3: 'trak',
  4: 'influence',
  5: 'shapley',
};

export type LegRole = 'validated' | 'treasury' | 'executed' | 'refined' | 'curated' | 'contributed';

/** What a leg's node_id refers to. */
export const NodeKind = { none: 0, modelVersion: 1, datanet: 2, contribution: 3, agent: 4 } as const;
export const NODE_KIND_NAMES: Record<number, string> = {
  0: 'none',
  1: 'model_version',
  2: 'datanet',
  3: 'contribution',
  4: 'agent',
};

/** One credit of a payment, as the split produces it. */
export interface Leg {
  role: LegRole;
  recipient: Address;
  amount: bigint;
  node_kind: number;
  node_id: number;
}

export const IdListCodec = codec('IdList');
export const DatanetCodec = codec('Datanet');
export const ContributionCodec = codec('Contribution');
export const ContributionLeafCodec = codec('ContributionLeaf');
export const ModelFamilyCodec = codec('ModelFamily');
export const ModelVersionCodec = codec('ModelVersion');
export const AncestorSetCodec = codec('AncestorSet');
export const ModelUsageCodec = codec('ModelUsage');
export const AttributionRecordCodec = codec('AttributionRecord');
export const EarningsCodec = codec('Earnings');
export const AgentCodec = codec('Agent');
export const AgentActionCodec = codec('AgentAction');
export const DisputeCodec = codec('Dispute');
export const EpochCreditCodec = codec('EpochCredit');

// ------------------------------------------------------------------ module accounts

/** Contribution stakes, held until rejection or the end of the challenge window. */
export const DATANET_ESCROW = moduleAddress('datanet_escrow');
/** Every credited, unclaimed reward (claimable and still-locked alike). */
export const REWARDS_POOL = moduleAddress('rewards_pool');
/** The treasury's share of every inference payment. */
export const TREASURY = moduleAddress('treasury');
/** Agent stakes. */
export const AGENT_STAKE = moduleAddress('agent_stake');
/** Dispute bonds and counter-bonds, and rewards held from a disputed target, until resolution. */
export const DISPUTE_ESCROW = moduleAddress('dispute_escrow');

/** An agent's own account: derived from its id, so no private key exists for it. */
export function agentAccount(agentId: number): Address {
  return moduleAddress(`agent/${agentId}`);
}

// ------------------------------------------------------------------ key layout

const p = (s: string): Uint8Array => utf8.encode(s);

export const PREFIX = {
  datanetSeq: p('datanet/seq/datanet'),
  contributionSeq: p('datanet/seq/contribution'),
  datanet: p('datanet/d/'),
  contribution: p('datanet/c/'),
  /** ‖ datanet id ‖ accepted index -> contribution id (u64) */
  accepted: p('datanet/a/'),
  /** ‖ datanet id ‖ submission index -> contribution id (u64) */
  submitted: p('datanet/s/'),
  /** ‖ content hash -> id of the accepted contribution holding it */
  content: p('datanet/h/'),
  /** ‖ height -> IdList of contributions that vest at the end of that block */
  vesting: p('datanet/v/'),
  /** ‖ datanet id -> EpochCredit: credited to its contributions this reward epoch */
  datanetEpoch: p('datanet/ec/'),
  /** ‖ contributor address -> EpochCredit: credited to its contributions this reward epoch */
  contributorEpoch: p('datanet/ep/'),
  familySeq: p('model/seq/family'),
  versionSeq: p('model/seq/version'),
  family: p('model/f/'),
  version: p('model/v/'),
  ancestors: p('model/anc/'),
  usage: p('model/u/'),
  recordSeq: p('attribution/seq'),
  record: p('attribution/r/'),
  paymentSeq: p('inference/seq'),
  earnings: p('rewards/a/'),
  agentSeq: p('agent/seq'),
  agent: p('agent/g/'),
  /** attribution/flag/ ‖ record id -> id of the upheld dispute that flagged it */
  recordFlag: p('attribution/flag/'),
  /** agent/flag/ ‖ agent id -> id of the latest upheld dispute against one of its actions */
  agentFlag: p('agent/flag/'),
  /** model/flag/ ‖ version id -> id of the upheld dispute that flagged it */
  versionFlag: p('model/flag/'),
  disputeSeq: p('dispute/seq'),
  dispute: p('dispute/d/'),
  /** ‖ target kind (u64) ‖ target id -> id of the open dispute against that target */
  disputeTarget: p('dispute/t/'),
  /** ‖ dispute id ‖ voter address -> 1 (a vote was cast) */
  disputeVote: p('dispute/v/'),
  /** ‖ height -> IdList of disputes resolved at the end of that block */
  disputeQueue: p('dispute/q/'),
} as const;

/** prefix ‖ each id as 8 bytes big-endian (so keys of one prefix sort by id). Hot: no temporaries. */
export function idKey(prefix: Uint8Array, ...ids: number[]): Uint8Array {
  const out = new Uint8Array(prefix.length + 8 * ids.length);
  out.set(prefix, 0);
  let at = prefix.length;
  for (const id of ids) {
    let hi = Math.floor(id / 0x1_0000_0000);
    let lo = id >>> 0;
    for (let i = 3; i >= 0; i--) {
      out[at + i] = hi & 0xff;
      hi >>>= 8;
      out[at + 4 + i] = lo & 0xff;
      lo >>>= 8;
    }
    at += 8;
  }
  return out;
}

export function bytesKey(prefix: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(prefix, ...parts);
}

/*
 * Reads take any StateReader (a module store in execution, committed state in queries); writes
 * take the module's own store, which refuses keys outside its prefixes. Decoded values and the
 * committed-value read cache are kept by the working state under the store (working-state.ts).
 */
/** A module's store (or, in tests, a bare working state: the same cache layer without a guard). */
export type RecordStore = Pick<ModuleStore, 'get' | 'set' | 'delete' | 'load' | 'save' | 'loadCached'>;

export async function load<T>(state: StateReader, c: MessageCodec<T>, key: Uint8Array): Promise<T | undefined> {
  if (state instanceof ModuleStore || state instanceof WorkingState) return state.load(c, key);
  const raw = await state.get(key);
  return raw ? c.decodeStored(raw) : undefined;
}

export function put(store: RecordStore, key: Uint8Array, value: Uint8Array): void {
  store.set(key, value);
}

export function remove(store: RecordStore, key: Uint8Array): void {
  store.delete(key);
}

export function save<T>(store: RecordStore, c: MessageCodec<T>, key: Uint8Array, value: T): void {
  store.save(c, key, value);
}

/** A committed value parsed once per working state (shared: never mutate it); see WorkingState.loadCached. */
export function loadCached<T>(
  store: RecordStore,
  key: Uint8Array,
  parse: (raw: Uint8Array) => T,
): Promise<T | undefined> {
  return store.loadCached(key, parse);
}

export async function readId(state: StateReader, key: Uint8Array): Promise<number | undefined> {
  const raw = await state.get(key);
  return raw ? readU64be(raw) : undefined;
}

export function writeId(store: RecordStore, key: Uint8Array, id: number): void {
  store.set(key, u64be(id));
}

/** Allocates the next id of a sequence; ids start at 1 so 0 can mean "none" on the wire. */
export async function nextId(store: RecordStore, seqKey: Uint8Array): Promise<number> {
  const id = ((await readId(store, seqKey)) ?? 0) + 1;
  writeId(store, seqKey, id);
  return id;
}

/** Ids allocated so far in a sequence (queries). */
export async function lastId(state: StateReader, seqKey: Uint8Array): Promise<number> {
  return (await readId(state, seqKey)) ?? 0;
}
