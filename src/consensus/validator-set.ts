import { VoteCodec, type BlockHeader, type Commit, type CommitSig } from '../codec/core.ts';
import type { Address } from '../crypto/address.ts';
import { formatAddress } from '../crypto/address.ts';
import { verifyEd25519, type SigningKey } from '../crypto/ed25519.ts';
import { bytesEqual, compareBytes, concatBytes, sha256, utf8 } from '../crypto/hash.ts';
import { CommitCodec } from '../codec/core.ts';
import { TributaryError } from '../errors.ts';
import { validatorsHash, type Validator } from '../genesis.ts';

export type ConsensusErrorCode =
  | 'consensus/bad_commit'
  | 'consensus/insufficient_power'
  | 'consensus/unknown_validator'
  | 'consensus/bad_header'
  | 'consensus/bad_proposer_signature';

// Domain separation between the three kinds of signed bytes in the protocol.
const VOTE_DOMAIN = utf8.encode('tributary/vote/v1\0');
const HEADER_DOMAIN = utf8.encode('tributary/header/v1\0');

export function voteSignBytes(chainId: string, height: number, round: number, blockHash: Uint8Array): Uint8Array {
  return concatBytes(VOTE_DOMAIN, VoteCodec.encode({ chain_id: chainId, height, round, block_hash: blockHash }));
}

export function headerSignBytes(headerHash: Uint8Array): Uint8Array {
  return concatBytes(HEADER_DOMAIN, headerHash);
}

export function commitHash(commit: Commit | undefined): Uint8Array {
  return commit ? sha256(CommitCodec.encode(commit)) : new Uint8Array(32);
}

/**
 * The known validator set of proof-of-authority with BFT finality: a block is final once
 * validators holding more than two thirds of the voting power have signed its commit.
 */
export class ValidatorSet {
  readonly validators: readonly Validator[];
  readonly totalPower: number;
  readonly hash: Uint8Array;
  private readonly byAddress = new Map<string, Validator>();

  constructor(validators: readonly Validator[]) {
    this.validators = [...validators].sort((a, b) => compareBytes(a.address, b.address));
    this.totalPower = this.validators.reduce((s, v) => s + v.power, 0);
    this.hash = validatorsHash(this.validators);
    for (const v of this.validators) this.byAddress.set(formatAddress(v.address), v);
  }

  /** Smallest power strictly above 2/3 of the total (integer arithmetic). */
  get quorum(): number {
    return Math.floor((2 * this.totalPower) / 3) + 1;
  }

  get(address: Address): Validator | undefined {
    return this.byAddress.get(formatAddress(address));
  }

  /**
   * The proposer for a height and round: weighted round-robin would come with the BFT engine;
   * until then it rotates through the set by height, which for one validator is always itself.
   */
  proposer(height: number, round: number): Validator {
    return this.validators[(height + round) % this.validators.length]!;
  }

  sign(key: SigningKey, chainId: string, height: number, round: number, blockHash: Uint8Array): Uint8Array {
    return key.sign(voteSignBytes(chainId, height, round, blockHash));
  }

  /** Checks a commit certificate: known, distinct, sorted signers; valid signatures; > 2/3 power. */
  verifyCommit(chainId: string, commit: Commit, header: BlockHeader, blockHash: Uint8Array): void {
    if (commit.height !== header.height || !bytesEqual(commit.block_hash, blockHash)) {
      throw new TributaryError('consensus/bad_commit', `commit is for another block (height ${commit.height})`);
    }
    const signBytes = voteSignBytes(chainId, commit.height, commit.round, commit.block_hash);
    let power = 0;
    let previous: CommitSig | undefined;
    for (const sig of commit.signatures) {
      if (previous && compareBytes(previous.validator, sig.validator) >= 0) {
        throw new TributaryError('consensus/bad_commit', 'commit signatures must be sorted by address without duplicates');
      }
      previous = sig;
      const validator = this.get(sig.validator);
      if (!validator) throw new TributaryError('consensus/unknown_validator', 'commit signed by an unknown validator');
      if (!verifyEd25519(validator.publicKey, signBytes, sig.signature)) {
        throw new TributaryError('consensus/bad_commit', `bad vote signature from ${formatAddress(sig.validator)}`);
      }
      power += validator.power;
    }
    if (power < this.quorum) {
      throw new TributaryError('consensus/insufficient_power', `commit has power ${power}, needs ${this.quorum}`);
    }
  }
}
