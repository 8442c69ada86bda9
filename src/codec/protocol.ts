import { BlockHeaderCodec, CommitCodec, VoteCodec, type BlockHeader, type Commit, type Vote } from './core.ts';
import { concatBytes, sha256, u64be, utf8 } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';

/*
 * The protocol's hashes and signed byte strings, in one place: every engine, the block store, the
 * light client and block sync compute them here, so they cannot drift apart.
 */

export type ProtocolErrorCode = 'protocol/bad_vote_type';

/** Tendermint's two vote kinds; numbers on the wire because the canonical codec refuses enums. */
export const VoteType = { prevote: 1, precommit: 2 } as const;
export type VoteType = (typeof VoteType)[keyof typeof VoteType];

export function isVoteType(n: number): n is VoteType {
  return n === VoteType.prevote || n === VoteType.precommit;
}

// Domain separation between the kinds of signed bytes in the protocol.
const VOTE_DOMAIN = utf8.encode('tributary/vote/v2\0');
const HEADER_DOMAIN = utf8.encode('tributary/header/v1\0');
const PROPOSAL_DOMAIN = utf8.encode('tributary/proposal/v1\0');
const VALIDATORS_DOMAIN = utf8.encode('tributary/validators/v1');

export interface VoteFields {
  chainId: string;
  type: VoteType;
  height: number;
  round: number;
  /** Empty for a vote for nil. */
  blockHash: Uint8Array;
}

export function voteSignBytes(v: VoteFields): Uint8Array {
  if (!isVoteType(v.type)) throw new TributaryError('protocol/bad_vote_type', `unknown vote type ${v.type}`);
  return concatBytes(
    VOTE_DOMAIN,
    VoteCodec.encode({ chain_id: v.chainId, type: v.type, height: v.height, round: v.round, block_hash: v.blockHash }),
  );
}

/** Sign bytes of a decoded wire `Vote` (its type is checked here: `protocol/bad_vote_type`). */
export function voteSignBytesOf(vote: Vote): Uint8Array {
  return voteSignBytes({
    chainId: vote.chain_id,
    type: vote.type as VoteType,
    height: vote.height,
    round: vote.round,
    blockHash: vote.block_hash,
  });
}

export function headerHash(header: BlockHeader): Uint8Array {
  return sha256(BlockHeaderCodec.encode(header));
}

export function headerSignBytes(hash: Uint8Array): Uint8Array {
  return concatBytes(HEADER_DOMAIN, hash);
}

/**
 * What a BFT proposer signs: the canonical `tributary.consensus.Proposal` bytes (height, round,
 * proof-of-lock round, block hash; src/consensus/consensus.proto), domain-separated from votes
 * and headers. The caller encodes, so this file needs no consensus types.
 */
export function proposalSignBytes(proposalBytes: Uint8Array): Uint8Array {
  return concatBytes(PROPOSAL_DOMAIN, proposalBytes);
}

export function commitHash(commit: Commit | undefined): Uint8Array {
  return commit ? sha256(CommitCodec.encode(commit)) : new Uint8Array(32);
}

/** Hash of a validator set, committed in every header: address ‖ public key ‖ power, in address order. */
export function validatorsHash(
  validators: readonly { address: Uint8Array; publicKey: Uint8Array; power: number }[],
): Uint8Array {
  const parts: Uint8Array[] = [VALIDATORS_DOMAIN];
  for (const v of validators) parts.push(v.address, v.publicKey, u64be(v.power));
  return sha256(...parts);
}
