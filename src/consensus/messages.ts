import { readFileSync } from 'node:fs';
import { messageCodec, parseSchema } from '../codec/canonical.ts';
import type { ConsensusMessages } from './consensus.pb.ts';

export type {
  BlockByHashRequest,
  ConsensusMessages,
  Evidence,
  Proposal,
  ProposalMessage,
  SignedProposal,
  SignedVote,
  TxBatch,
  VoteMessage,
  WalRecord,
} from './consensus.pb.ts';

/* Codecs of the BFT consensus messages (consensus.proto). */

const schema = parseSchema<ConsensusMessages>(readFileSync(new URL('./consensus.proto', import.meta.url), 'utf8'));

export const ProposalCodec = messageCodec(schema, 'tributary.consensus.Proposal');
export const SignedProposalCodec = messageCodec(schema, 'tributary.consensus.SignedProposal');
export const SignedVoteCodec = messageCodec(schema, 'tributary.consensus.SignedVote');
export const ProposalMessageCodec = messageCodec(schema, 'tributary.consensus.ProposalMessage');
export const VoteMessageCodec = messageCodec(schema, 'tributary.consensus.VoteMessage');
export const EvidenceCodec = messageCodec(schema, 'tributary.consensus.Evidence');
export const BlockByHashRequestCodec = messageCodec(schema, 'tributary.consensus.BlockByHashRequest');
export const WalRecordCodec = messageCodec(schema, 'tributary.consensus.WalRecord');
export const TxBatchCodec = messageCodec(schema, 'tributary.consensus.TxBatch');

/** WalRecord.kind values. */
export const WalKind = { proposal: 1, vote: 2, timeout: 3, ownBlock: 4 } as const;
/** WalRecord.timeout_step values. */
export const TimeoutStepCode = { propose: 1, prevote: 2, precommit: 3 } as const;

/** The paper's polRound (-1 = none) to and from the wire's pol_round_plus_one. */
export function polRoundToWire(polRound: number): number {
  return polRound + 1;
}
export function polRoundFromWire(plusOne: number): number {
  return plusOne - 1;
}
