import type { BlockHeader, Commit, CommitSig } from '../codec/core.ts';
import { VoteType, validatorsHash, voteSignBytes } from '../codec/protocol.ts';
import type { Address } from '../crypto/address.ts';
import { formatAddress } from '../crypto/address.ts';
import { verifyEd25519 } from '../crypto/ed25519.ts';
import { bytesEqual, compareBytes } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import type { Validator } from '../state/chainconfig/records.ts';

export type ConsensusErrorCode =
  | 'consensus/bad_commit'
  | 'consensus/insufficient_power'
  | 'consensus/unknown_validator'
  | 'consensus/bad_header'
  | 'consensus/bad_proposer_signature'
  | 'consensus/wrong_proposer';

/**
 * A known validator set of proof-of-authority with BFT finality: a block is final once validators
 * holding more than two thirds of the voting power have signed precommits for it in one round.
 * The set for each height comes from state (`Application.info()`); this class only computes with it.
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
   * The proposer of a height and round, by weighted round-robin without state: slot
   * (height + round) mod total power, and each validator, in address order, owns as many
   * consecutive slots as it has power. Every validator proposes in proportion to its power, each
   * round moves to the next slot, and any node computes it from the set alone (no priority
   * history to replay, unlike CometBFT's accumulator).
   */
  proposer(height: number, round: number): Validator {
    let slot = (height + round) % this.totalPower;
    for (const v of this.validators) {
      if (slot < v.power) return v;
      slot -= v.power;
    }
    throw new TributaryError('consensus/unknown_validator', 'empty validator set');
  }

  /**
   * Checks a commit certificate: precommits for the block's hash in the commit's round, from
   * known, distinct validators sorted by address, with valid signatures and more than 2/3 power.
   */
  verifyCommit(chainId: string, commit: Commit, header: BlockHeader, blockHash: Uint8Array): void {
    if (commit.height !== header.height || !bytesEqual(commit.block_hash, blockHash)) {
      throw new TributaryError('consensus/bad_commit', `commit is for another block (height ${commit.height})`);
    }
    const signBytes = voteSignBytes({
      chainId,
      type: VoteType.precommit,
      height: commit.height,
      round: commit.round,
      blockHash: commit.block_hash,
    });
    let power = 0;
    let previous: CommitSig | undefined;
    for (const sig of commit.signatures) {
      if (previous && compareBytes(previous.validator, sig.validator) >= 0) {
        throw new TributaryError(
          'consensus/bad_commit',
          'commit signatures must be sorted by address without duplicates',
        );
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
