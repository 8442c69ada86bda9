import { canonicalJson } from '../../codec/json.ts';
import { viewOf } from '../../codec/view.ts';
import { ADDRESS_LENGTH } from '../../crypto/address.ts';
import { PUBLIC_KEY_LENGTH } from '../../crypto/ed25519.ts';
import { bytesEqual } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { validatorsAt } from '../chainconfig/keeper.ts';
import type { TxDefinition } from '../module.ts';
import type { StateReader } from '../working-state.ts';
import { STAKE } from '../staking/api.ts';
import { proposalSubmittedEvent, votedEvent } from './events.ts';
import { addDeposit } from './lifecycle.ts';
import { govParams } from './params.ts';
import {
  CONTENT_KIND_NAMES,
  type Content,
  ContentKind,
  MsgDepositCodec,
  MsgProposeCodec,
  MsgVoteCodec,
  type MsgDeposit,
  type MsgPropose,
  type MsgVote,
  OPTION_NAMES,
  type Proposal,
  ProposalCodec,
  ProposalStatus,
  VotesCodec,
  enqueue,
  isValidatorSetKind,
  readNextId,
  readProposal,
  readVotes,
  votesKey,
  writeNextId,
  writeProposal,
} from './records.ts';

/* The governance module: its transactions (propose, deposit, vote). The rules are in lifecycle.ts. */

export type GovErrorCode =
  | 'gov/invalid'
  | 'gov/not_found'
  | 'gov/not_in_deposit_period'
  | 'gov/not_in_voting_period'
  | 'gov/not_validator'
  | 'gov/no_voting_power'
  | 'gov/insufficient_bond'
  | 'gov/already_validator'
  | 'gov/execution_failed';

export const MAX_TITLE_LENGTH = 140;
export const MAX_NAME_LENGTH = 64;
export const MAX_PARAMS_JSON_BYTES = 16 * 1024;

/** The top-level fields of ChainParamsJson a parameter change may set. */
const PARAM_FIELDS = new Set([
  'minFee',
  'maxTxBytes',
  'maxBlockTxs',
  'maxBlockBytes',
  'blockIntervalMs',
  'maxClockDriftMs',
  'modules',
]);

function invalid(message: string): never {
  throw new TributaryError('gov/invalid', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A parameter change's JSON: canonical (one byte string per change, so the proposal's bytes say
 * exactly what is proposed) and shaped like a partial ChainParamsJson. Whether the values are
 * valid is the typed path's question, asked at execution with the parameters then in force.
 */
function checkParamsJson(text: string): void {
  if (text.length === 0) invalid('a parameter change needs params_json');
  if (text.length > MAX_PARAMS_JSON_BYTES) invalid(`params_json is longer than ${MAX_PARAMS_JSON_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    if (canonicalJson(parsed) !== text) invalid('params_json must be canonical JSON (sorted keys, integers only)');
  } catch (e) {
    if (e instanceof TributaryError) throw e;
    invalid('params_json is not canonical JSON');
  }
  if (!isObject(parsed) || Object.keys(parsed).length === 0) invalid('params_json must be a non-empty object');
  for (const key of Object.keys(parsed)) if (!PARAM_FIELDS.has(key)) invalid(`params_json: unknown parameter ${key}`);
  if (parsed.modules !== undefined) {
    if (!isObject(parsed.modules)) invalid('params_json: modules must be an object');
    for (const [name, section] of Object.entries(parsed.modules)) {
      if (!isObject(section)) invalid(`params_json: modules.${name} must be an object`);
    }
  }
}

/** Every field a kind does not use must stay at its default, so one content has one meaning. */
function onlyFields(c: Content, used: readonly (keyof Content)[]): void {
  const unused: [keyof Content, boolean][] = [
    ['params_json', c.params_json !== ''],
    ['public_key', c.public_key.length > 0],
    ['power', c.power !== 0],
    ['name', c.name !== ''],
    ['recipient', c.recipient.length > 0],
    ['amount', c.amount !== 0n],
  ];
  for (const [field, set] of unused) {
    if (set && !used.includes(field)) invalid(`${field} is not a field of a ${CONTENT_KIND_NAMES[c.kind]} proposal`);
  }
}

export function checkContent(c: Content | undefined): asserts c is Content {
  if (!c) invalid('a proposal needs content');
  if (!CONTENT_KIND_NAMES[c.kind]) invalid(`unknown content kind ${c.kind}`);
  if (c.title.length === 0 || c.title.length > MAX_TITLE_LENGTH)
    invalid(`title must be 1 to ${MAX_TITLE_LENGTH} characters`);
  switch (c.kind) {
    case ContentKind.paramChange:
      onlyFields(c, ['params_json']);
      checkParamsJson(c.params_json);
      return;
    case ContentKind.validatorAddition:
      onlyFields(c, ['public_key', 'power', 'name']);
      if (c.public_key.length !== PUBLIC_KEY_LENGTH) invalid('public_key must be a 32-byte Ed25519 key');
      if (!Number.isSafeInteger(c.power) || c.power < 1) invalid('power must be a positive integer');
      if (c.name.length > MAX_NAME_LENGTH) invalid(`name is longer than ${MAX_NAME_LENGTH} characters`);
      return;
    case ContentKind.validatorRemoval:
      onlyFields(c, ['public_key']);
      if (c.public_key.length !== PUBLIC_KEY_LENGTH) invalid('public_key must be a 32-byte Ed25519 key');
      return;
    case ContentKind.treasurySpend:
      onlyFields(c, ['recipient', 'amount']);
      if (c.recipient.length !== ADDRESS_LENGTH) invalid(`recipient must be a ${ADDRESS_LENGTH}-byte address`);
      if (c.amount === 0n) invalid('a treasury spend needs an amount');
      return;
  }
}

function requireProposalId(id: number): void {
  if (!Number.isSafeInteger(id) || id < 1) invalid('proposal_id must be a positive id');
}

export async function requireProposal(state: StateReader, id: number): Promise<Proposal> {
  const p = await readProposal(state, id);
  if (!p) throw new TributaryError('gov/not_found', `proposal ${id} does not exist`, { proposalId: id });
  return p;
}

export const proposeTx: TxDefinition<MsgPropose> = {
  type: 'gov/propose',
  codec: MsgProposeCodec,
  validateBasic(m) {
    checkContent(m.content);
  },
  async execute(ctx, m) {
    const content = m.content!;
    const gp = govParams(ctx.params);
    const id = await readNextId(ctx.store);
    writeNextId(ctx.store, id + 1);
    const proposal: Proposal = {
      ...ProposalCodec.empty(),
      id,
      content,
      proposer: ctx.sender,
      status: ProposalStatus.deposit,
      submit_height: ctx.height,
      deposit_end_height: ctx.height + gp.depositPeriodBlocks - 1,
    };
    writeProposal(ctx.store, proposal);
    proposalSubmittedEvent.emit(ctx, {
      proposal_id: id,
      proposer: ctx.sender,
      kind: CONTENT_KIND_NAMES[content.kind]!,
      deposit_end_height: proposal.deposit_end_height,
    });
    await enqueue(ctx.store, proposal.deposit_end_height, id);
    if (m.initial_deposit > 0n) await addDeposit(ctx, proposal, ctx.sender, m.initial_deposit);
  },
  view(m) {
    return viewOf(MsgProposeCodec, m);
  },
};

export const depositTx: TxDefinition<MsgDeposit> = {
  type: 'gov/deposit',
  codec: MsgDepositCodec,
  validateBasic(m) {
    requireProposalId(m.proposal_id);
    if (m.amount === 0n) invalid('a deposit needs an amount');
  },
  async execute(ctx, m) {
    const p = await requireProposal(ctx.store, m.proposal_id);
    if (p.status !== ProposalStatus.deposit || ctx.height > p.deposit_end_height) {
      throw new TributaryError('gov/not_in_deposit_period', `proposal ${p.id} no longer takes deposits`, {
        proposalId: p.id,
      });
    }
    await addDeposit(ctx, p, ctx.sender, m.amount);
  },
  view(m) {
    return viewOf(MsgDepositCodec, m);
  },
};

export const voteTx: TxDefinition<MsgVote> = {
  type: 'gov/vote',
  codec: MsgVoteCodec,
  validateBasic(m) {
    requireProposalId(m.proposal_id);
    if (!OPTION_NAMES[m.option]) invalid('option must be 1 (yes), 2 (no) or 3 (abstain)');
  },
  async execute(ctx, m) {
    const p = await requireProposal(ctx.store, m.proposal_id);
    if (p.status !== ProposalStatus.voting || ctx.height < p.voting_start_height || ctx.height > p.voting_end_height) {
      throw new TributaryError('gov/not_in_voting_period', `proposal ${p.id} does not take votes at this height`, {
        proposalId: p.id,
        votingStartHeight: p.voting_start_height,
        votingEndHeight: p.voting_end_height,
      });
    }
    // Who may vote is checked now so that the vote list holds only possible voters; what a vote
    // weighs is read at the tally (lifecycle.ts).
    if (isValidatorSetKind(p.content!.kind)) {
      const validators = await validatorsAt(ctx.store, ctx.height);
      if (!validators.some((v) => bytesEqual(v.address, ctx.sender)))
        throw new TributaryError('gov/not_validator', 'validator-set proposals are voted on by validators');
    } else if ((await ctx.keeper(STAKE).bondedTotal(ctx.sender)) === 0n) {
      throw new TributaryError('gov/no_voting_power', 'the sender has no bonded stake');
    }
    const votes = await readVotes(ctx.store, p.id);
    const mine = votes.entries.find((v) => bytesEqual(v.voter, ctx.sender));
    if (mine) mine.option = m.option;
    else votes.entries.push({ voter: ctx.sender, option: m.option });
    ctx.store.save(VotesCodec, votesKey(p.id), votes);
    votedEvent.emit(ctx, { proposal_id: p.id, voter: ctx.sender, option: OPTION_NAMES[m.option]! });
  },
  view(m) {
    return viewOf(MsgVoteCodec, m);
  },
};
