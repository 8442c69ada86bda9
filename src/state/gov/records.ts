import { readFileSync } from 'node:fs';
import { messageCodec, parseSchema } from '../../codec/canonical.ts';
import { moduleAddress } from '../../crypto/address.ts';
import { concatBytes, u64be, utf8 } from '../../crypto/hash.ts';
import type { ModuleStore } from '../module-store.ts';
import type { StateReader } from '../working-state.ts';
import type { Deposits, GovMessages, Proposal, ProposalQueue, Votes } from './gov.pb.ts';

/* The governance module: codecs, state keys, names of the enum-like numbers, record access. */

export type { Content, Deposits, MsgDeposit, MsgPropose, MsgVote, Proposal, Votes } from './gov.pb.ts';

const schema = parseSchema<GovMessages>(readFileSync(new URL('./gov.proto', import.meta.url), 'utf8'));
export const ContentCodec = messageCodec(schema, 'tributary.gov.Content');
export const MsgProposeCodec = messageCodec(schema, 'tributary.gov.MsgPropose');
export const MsgDepositCodec = messageCodec(schema, 'tributary.gov.MsgDeposit');
export const MsgVoteCodec = messageCodec(schema, 'tributary.gov.MsgVote');
export const ProposalCodec = messageCodec(schema, 'tributary.gov.Proposal');
export const DepositsCodec = messageCodec(schema, 'tributary.gov.Deposits');
export const VotesCodec = messageCodec(schema, 'tributary.gov.Votes');
export const ProposalQueueCodec = messageCodec(schema, 'tributary.gov.ProposalQueue');
export const NextIdCodec = messageCodec(schema, 'tributary.gov.NextId');

/** The module account holding every deposit not yet refunded or sent to the treasury. */
export const GOV_DEPOSITS = moduleAddress('gov_deposits');

export const ContentKind = { paramChange: 1, validatorAddition: 2, validatorRemoval: 3, treasurySpend: 4 } as const;
export const CONTENT_KIND_NAMES: Record<number, string> = {
  1: 'param_change',
  2: 'validator_addition',
  3: 'validator_removal',
  4: 'treasury_spend',
};

/** Validator-set proposals are decided one vote per validator; the others by bonded stake. */
export function isValidatorSetKind(kind: number): boolean {
  return kind === ContentKind.validatorAddition || kind === ContentKind.validatorRemoval;
}

export const ProposalStatus = {
  /** Collecting deposits. */
  deposit: 1,
  /** Minimum deposit reached: votes are accepted from voting_start_height to voting_end_height. */
  voting: 2,
  /** Tally passed; waiting for execute_height (the timelock). */
  passed: 3,
  executed: 4,
  /** Tally passed but the execution raised a coded error; nothing changed. */
  failed: 5,
  /** Quorum reached, threshold not. */
  rejected: 6,
  /** Fewer than quorumBps of the eligible weight voted. */
  noQuorum: 7,
  /** The deposit period ended below minDeposit. */
  expired: 8,
} as const;
export const STATUS_NAMES: Record<number, string> = {
  1: 'deposit',
  2: 'voting',
  3: 'passed',
  4: 'executed',
  5: 'failed',
  6: 'rejected',
  7: 'no_quorum',
  8: 'expired',
};
export const STATUS_BY_NAME: ReadonlyMap<string, number> = new Map(
  Object.entries(STATUS_NAMES).map(([n, name]) => [name, Number(n)]),
);

export const VoteOption = { yes: 1, no: 2, abstain: 3 } as const;
export const OPTION_NAMES: Record<number, string> = { 1: 'yes', 2: 'no', 3: 'abstain' };

const PROPOSAL = utf8.encode('gov/proposal/');
const DEPOSITS = utf8.encode('gov/deposits/');
const VOTES = utf8.encode('gov/votes/');
const QUEUE = utf8.encode('gov/queue/');
const NEXT_ID = utf8.encode('gov/next_id');
export const DEPOSITS_PREFIX = DEPOSITS;

export function proposalKey(id: number): Uint8Array {
  return concatBytes(PROPOSAL, u64be(id));
}
export function depositsKey(id: number): Uint8Array {
  return concatBytes(DEPOSITS, u64be(id));
}
export function votesKey(id: number): Uint8Array {
  return concatBytes(VOTES, u64be(id));
}
export function queueKey(height: number): Uint8Array {
  return concatBytes(QUEUE, u64be(height));
}

export async function readProposal(state: StateReader, id: number): Promise<Proposal | undefined> {
  const raw = await state.get(proposalKey(id));
  return raw ? ProposalCodec.decodeStored(raw) : undefined;
}

export function writeProposal(store: ModuleStore, p: Proposal): void {
  store.save(ProposalCodec, proposalKey(p.id), p);
}

/** The id the next proposal gets (ids start at 1). */
export async function readNextId(state: StateReader): Promise<number> {
  const raw = await state.get(NEXT_ID);
  return raw ? NextIdCodec.decodeStored(raw).id : 1;
}

export function writeNextId(store: ModuleStore, id: number): void {
  store.save(NextIdCodec, NEXT_ID, { id });
}

export async function readDeposits(state: StateReader, id: number): Promise<Deposits> {
  const raw = await state.get(depositsKey(id));
  return raw ? DepositsCodec.decodeStored(raw) : { entries: [] };
}

export async function readVotes(state: StateReader, id: number): Promise<Votes> {
  const raw = await state.get(votesKey(id));
  return raw ? VotesCodec.decodeStored(raw) : { entries: [] };
}

async function readQueue(store: ModuleStore, height: number): Promise<ProposalQueue> {
  return (await store.load(ProposalQueueCodec, queueKey(height))) ?? { ids: [] };
}

function writeQueue(store: ModuleStore, height: number, q: ProposalQueue): void {
  if (q.ids.length === 0) store.delete(queueKey(height));
  else store.save(ProposalQueueCodec, queueKey(height), q);
}

/** Schedules a step of proposal `id` for the end of block `height`; ids stay ascending. */
export async function enqueue(store: ModuleStore, height: number, id: number): Promise<void> {
  const q = await readQueue(store, height);
  if (q.ids.includes(id)) return;
  q.ids.push(id);
  q.ids.sort((a, b) => a - b);
  writeQueue(store, height, q);
}

export async function dequeue(store: ModuleStore, height: number, id: number): Promise<void> {
  const q = await readQueue(store, height);
  writeQueue(store, height, { ids: q.ids.filter((x) => x !== id) });
}

/** Takes the proposals due at the end of block `height` off the queue. */
export async function takeDue(store: ModuleStore, height: number): Promise<number[]> {
  const q = await readQueue(store, height);
  if (q.ids.length > 0) store.delete(queueKey(height));
  return q.ids;
}
