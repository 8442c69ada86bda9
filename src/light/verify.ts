import { BlockHeaderCodec, type BlockHeader, type Commit } from '../codec/core.ts';
import type { ValidatorSet } from '../consensus/validator-set.ts';
import { bytesEqual } from '../crypto/hash.ts';
import { TributaryError, isTributaryError } from '../errors.ts';
import { verifyProof } from '../state/tree/proof.ts';
import { headerHash } from '../codec/protocol.ts';

/*
 * What a light client checks, as pure functions over bytes: no RPC, no files, no options. The
 * caller fetches the canonical header bytes, the commit certificate and the proof from any node
 * and brings the validator set it trusts (today: the genesis validators). Nothing the node says
 * about the header is believed unless it is in those bytes, and the bytes are believed only
 * because validators holding more than 2/3 of the trusted power signed their hash.
 */

export type LightErrorCode =
  | 'light/bad_header'
  | 'light/wrong_chain'
  | 'light/validators_mismatch'
  | 'light/commit_mismatch'
  | 'light/bad_proof';

/** A state value claimed by a node: `value` undefined claims the key is absent. */
export interface StateProofClaim {
  key: Uint8Array;
  value: Uint8Array | undefined;
  proof: Uint8Array;
}

/** What the verifier trusts from outside the node it talks to. */
export interface TrustedValidators {
  chainId: string;
  validators: ValidatorSet;
}

export interface VerifiedState {
  header: BlockHeader;
  blockHash: Uint8Array;
  /** True for an inclusion proof, false for a proof that the key is absent. */
  exists: boolean;
}

/** Header bytes must be the one canonical encoding: then their hash is the block hash validators sign. */
export function decodeHeader(headerBytes: Uint8Array): { header: BlockHeader; blockHash: Uint8Array } {
  let header: BlockHeader;
  try {
    header = BlockHeaderCodec.decode(headerBytes);
  } catch (e) {
    if (!isTributaryError(e)) throw e;
    throw new TributaryError<LightErrorCode>(
      'light/bad_header',
      `header bytes are not a canonical BlockHeader (${e.code}: ${e.message})`,
    );
  }
  return { header, blockHash: headerHash(header) };
}

/**
 * The proof leads from key and value to the state root in these header bytes. This alone says
 * nothing about whether the header is part of the chain: see `verifyStateProof`.
 */
export function verifyProofInHeader(claim: StateProofClaim, headerBytes: Uint8Array): VerifiedState {
  const { header, blockHash } = decodeHeader(headerBytes);
  checkProof(claim, header);
  return { header, blockHash, exists: claim.value !== undefined };
}

/**
 * The full light-client check of one state value: the header bytes decode canonically, belong to
 * the trusted chain and validator set, carry a commit certificate with more than 2/3 of the
 * trusted power over their hash, and the proof leads from key and value to their state root.
 * Throws a coded error for the first check that fails (`light/*`, or `consensus/*` from the
 * commit certificate).
 */
export function verifyStateProof(
  claim: StateProofClaim,
  headerBytes: Uint8Array,
  commit: Commit,
  trusted: TrustedValidators,
): VerifiedState {
  const { header, blockHash } = decodeHeader(headerBytes);
  if (header.chain_id !== trusted.chainId) {
    throw new TributaryError<LightErrorCode>(
      'light/wrong_chain',
      `header is for chain "${header.chain_id}", expected "${trusted.chainId}"`,
    );
  }
  if (!bytesEqual(header.validators_hash, trusted.validators.hash)) {
    throw new TributaryError<LightErrorCode>(
      'light/validators_mismatch',
      `header at height ${header.height} names another validator set than the trusted one`,
    );
  }
  if (commit.height !== header.height || !bytesEqual(commit.block_hash, blockHash)) {
    throw new TributaryError<LightErrorCode>(
      'light/commit_mismatch',
      `the commit certificate is for another block (height ${commit.height}) than these header bytes (height ${header.height})`,
    );
  }
  trusted.validators.verifyCommit(trusted.chainId, commit, header, blockHash);
  checkProof(claim, header);
  return { header, blockHash, exists: claim.value !== undefined };
}

function checkProof(claim: StateProofClaim, header: BlockHeader): void {
  if (!verifyProof(header.state_root, claim.key, claim.value, claim.proof)) {
    const what = claim.value === undefined ? 'the key absent' : 'this value for the key';
    throw new TributaryError<LightErrorCode>(
      'light/bad_proof',
      `the proof does not show ${what} under the state root of block ${header.height}`,
    );
  }
}
