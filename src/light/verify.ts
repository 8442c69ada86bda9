import { BlockHeaderCodec, type BlockHeader, type Commit } from '../codec/core.ts';
import { ValidatorSet } from '../consensus/validator-set.ts';
import { bytesEqual, toHex } from '../crypto/hash.ts';
import { TributaryError, isTributaryError } from '../errors.ts';
import { verifyProof } from '../state/tree/proof.ts';
import { headerHash } from '../codec/protocol.ts';
import type { Validator } from '../state/chainconfig/records.ts';

/*
 * What a light client checks, as pure functions over bytes: no RPC, no files, no options. The
 * caller fetches the canonical header bytes, the commit certificate and the proof from any node
 * and brings the validator set it trusts (the genesis validators, trusted to sign height 1).
 * Nothing the node says about the header is believed unless it is in those bytes, and the bytes
 * are believed only because validators holding more than 2/3 of the trusted power signed their hash.
 *
 * Validator-set changes are followed header by header (`followToHeight`): header h names the set
 * that signs h (`validators_hash`) and commits to the set that signs h + 1 (`next_validators_hash`).
 * A change executed in block H takes effect at H + UPDATE_DELAY = H + 2 (`ChainConfigKeeper`), so
 * header H still commits to the old set for H + 1, header H + 1 is the first whose
 * `next_validators_hash` names the new set, and block H + 2 is the first the new set signs. Once
 * header h is verified, its `next_validators_hash` is the only thing that makes a set for h + 1
 * trusted: the set itself is fetched from the node and must hash (`validatorsHash`) to it.
 */

export type LightErrorCode =
  | 'light/bad_header'
  | 'light/wrong_chain'
  | 'light/validators_mismatch'
  | 'light/validators_hash_mismatch'
  | 'light/insufficient_commit'
  | 'light/commit_mismatch'
  | 'light/behind_trust'
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

/** A validator set trusted to sign block `height` of `chainId`. */
export interface TrustedHeight extends TrustedValidators {
  height: number;
}

/** The trust a chain starts from: its genesis validators sign block 1. */
export function genesisTrust(chainId: string, validators: ValidatorSet): TrustedHeight {
  return { chainId, height: 1, validators };
}

/** Where `followToHeight` gets its data: any node, believed in nothing (an RPC client in the CLI). */
export interface LightSource {
  /** The canonical header bytes of block `height` and the commit certificate that finalized it. */
  certifiedHeader(height: number): Promise<{ headerBytes: Uint8Array; commit: Commit }>;
  /** The validator set the node says signs block `height`. */
  validators(height: number): Promise<readonly Validator[]>;
}

export interface VerifiedHeader {
  header: BlockHeader;
  blockHash: Uint8Array;
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
 * One header against a set trusted for it: the bytes decode canonically, belong to the trusted
 * chain, name the trusted set, and carry a commit certificate with more than 2/3 of its power
 * over their hash. An unknown signer or too little power is `light/insufficient_commit` (for
 * example the old set signing a block after a change); a bad signature stays `consensus/bad_commit`.
 */
export function verifyCertifiedHeader(
  headerBytes: Uint8Array,
  commit: Commit,
  trusted: TrustedValidators & { height?: number },
): VerifiedHeader {
  const { header, blockHash } = decodeHeader(headerBytes);
  if (header.chain_id !== trusted.chainId) {
    throw new TributaryError<LightErrorCode>(
      'light/wrong_chain',
      `header is for chain "${header.chain_id}", expected "${trusted.chainId}"`,
    );
  }
  if (trusted.height !== undefined && header.height !== trusted.height) {
    throw new TributaryError<LightErrorCode>(
      'light/commit_mismatch',
      `the node sent the header of block ${header.height} for block ${trusted.height}`,
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
  try {
    trusted.validators.verifyCommit(trusted.chainId, commit, header, blockHash);
  } catch (e) {
    if (
      isTributaryError(e) &&
      (e.code === 'consensus/insufficient_power' || e.code === 'consensus/unknown_validator')
    ) {
      throw new TributaryError<LightErrorCode>(
        'light/insufficient_commit',
        `block ${header.height}: the certificate lacks more than 2/3 of the trusted set's power (${e.code}: ${e.message})`,
      );
    }
    throw e;
  }
  return { header, blockHash };
}

/**
 * The set that signs `header.height + 1`, given verified `header` and the set that signed it:
 * the same set when `next_validators_hash` names it, else the one `source` sends, which must hash
 * to `next_validators_hash` (`light/validators_hash_mismatch` if not).
 */
export async function nextTrustedSet(
  header: BlockHeader,
  signedBy: ValidatorSet,
  source: LightSource,
): Promise<ValidatorSet> {
  if (bytesEqual(header.next_validators_hash, signedBy.hash)) return signedBy;
  const claimed = new ValidatorSet(await source.validators(header.height + 1));
  if (!bytesEqual(claimed.hash, header.next_validators_hash)) {
    throw new TributaryError<LightErrorCode>(
      'light/validators_hash_mismatch',
      `the validator set sent for height ${header.height + 1} hashes to ${toHex(claimed.hash)}, header ${header.height} committed to ${toHex(header.next_validators_hash)}`,
    );
  }
  return claimed;
}

/** Headers requested ahead of the one being checked while following. */
const FOLLOW_WINDOW = 16;

/**
 * Moves trust forward from `trusted` (a set trusted to sign `trusted.height`) to block `target`,
 * verifying every header on the way with the set its predecessor committed to. Returns the
 * verified target header and the trust at `target`, which a caller may keep to start from next time.
 */
export async function followToHeight(
  trusted: TrustedHeight,
  target: number,
  source: LightSource,
): Promise<VerifiedHeader & { headerBytes: Uint8Array; trusted: TrustedHeight }> {
  if (target < trusted.height) {
    throw new TributaryError<LightErrorCode>(
      'light/behind_trust',
      `block ${target} is below the trusted height ${trusted.height}: trust only moves forward`,
    );
  }
  // Fetching runs ahead of checking (a window of requests in flight); checking stays in order.
  const fetched = new Map<number, Promise<{ headerBytes: Uint8Array; commit: Commit }>>();
  let requested = trusted.height;
  const fetchAhead = (upTo: number) => {
    for (; requested <= Math.min(upTo, target); requested++) {
      const p = source.certifiedHeader(requested);
      // Awaited in turn below; until then a rejection must not count as unhandled.
      p.catch(() => {});
      fetched.set(requested, p);
    }
  };
  let validators = trusted.validators;
  for (let height = trusted.height; ; height++) {
    fetchAhead(height + FOLLOW_WINDOW - 1);
    const next = fetched.get(height)!;
    fetched.delete(height);
    const { headerBytes, commit } = await next;
    const verified = verifyCertifiedHeader(headerBytes, commit, { chainId: trusted.chainId, height, validators });
    if (height === target) {
      return { ...verified, headerBytes, trusted: { chainId: trusted.chainId, height, validators } };
    }
    validators = await nextTrustedSet(verified.header, validators, source);
  }
}

/**
 * The full light-client check of one state value: the header verifies against the trusted set
 * (`verifyCertifiedHeader`) and the proof leads from key and value to its state root. Throws a
 * coded error for the first check that fails (`light/*`, or `consensus/bad_commit`).
 */
export function verifyStateProof(
  claim: StateProofClaim,
  headerBytes: Uint8Array,
  commit: Commit,
  trusted: TrustedValidators,
): VerifiedState {
  // Any height: a bare set is trusted for whichever header it signs.
  const { header, blockHash } = verifyCertifiedHeader(headerBytes, commit, {
    chainId: trusted.chainId,
    validators: trusted.validators,
  });
  checkProof(claim, header);
  return { header, blockHash, exists: claim.value !== undefined };
}

/** The proof against an already verified header (from `followToHeight`). */
export function verifyProofInVerifiedHeader(claim: StateProofClaim, verified: VerifiedHeader): VerifiedState {
  checkProof(claim, verified.header);
  return { ...verified, exists: claim.value !== undefined };
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
