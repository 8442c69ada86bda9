import { ADDRESS_LENGTH } from '../../crypto/address.ts';
import { compareBytes, fromHex, toHex } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import type { EquivocationOutput, ValidatorInfo, Value, VoteType } from './types.ts';

export type VoteKeeperErrorCode = 'tendermint/bad_validator_set';

/** A value as a map key: its hex, or NIL_KEY for nil (not hex, so it cannot collide). */
export type ValueKey = string;
export const NIL_KEY: ValueKey = 'nil';

export function valueKey(value: Value | null): ValueKey {
  return value === null ? NIL_KEY : toHex(value);
}

export function valueFromKey(key: ValueKey): Value | null {
  return key === NIL_KEY ? null : fromHex(key);
}

/** Votes of one (round, type). */
interface Tally {
  /** Each validator's first vote: the one equivocation evidence quotes first. */
  readonly firstVote: Map<string, ValueKey>;
  /** Per value, the validators who voted for it (an equivocator may be under several values). */
  readonly votersOf: Map<ValueKey, Set<string>>;
  readonly powerOf: Map<ValueKey, number>;
  /** Power of the distinct validators with a vote here. */
  total: number;
  /** Validators already reported for this (round, type): one piece of evidence each is enough. */
  readonly reported: Set<string>;
}

interface RoundVotes {
  readonly prevote: Tally;
  readonly precommit: Tally;
  /** Validators with any vote in this round, for the round-skip rule. */
  readonly voters: Set<string>;
  voterPower: number;
}

export interface AddVoteResult {
  /** The vote changed the counts (false: a duplicate or from a non-validator). */
  readonly counted: boolean;
  readonly evidence: EquivocationOutput | null;
}

function newTally(): Tally {
  return { firstVote: new Map(), votersOf: new Map(), powerOf: new Map(), total: 0, reported: new Set() };
}

/**
 * Counts voting power per (round, type, value) for one height. A validator counts at most once
 * per (round, type, value), and once in the (round, type) total whatever it voted. A second,
 * different vote by one validator for the same (round, type) is equivocation: it is reported once
 * as evidence and it still counts for its own value. That is the paper's counting (2f+1 PREVOTE
 * messages *for id(v)*), and liveness needs it: if each node kept only the first vote it got from
 * an equivocator, nodes that received the two votes in different orders would disagree forever
 * on whether a POL exists, and a node locked on that POL could never convince the others (the
 * property test found exactly this stall). Safety does not suffer: two quorums for different
 * values of one round still share more than 1/3 of the power, so an honest validator would have
 * to vote twice. (CometBFT does the same for blocks a peer claims a +2/3 majority for.)
 * Votes of any round are kept, so a future round's votes are there when the machine gets to it.
 * Memory grows with the distinct signed votes received; bounding a spamming validator is the
 * driver's job (it has the evidence).
 * Thresholds are integers: quorum (more than 2/3) = floor(2 * total / 3) + 1 and
 * "more than 1/3" (f + 1) = floor(total / 3) + 1.
 */
export class VoteKeeper {
  readonly height: number;
  readonly totalPower: number;
  /** More than 2/3 of the power (the paper's 2f + 1). */
  readonly quorum: number;
  /** More than 1/3 of the power (the paper's f + 1): at least one honest validator among them. */
  readonly oneThird: number;
  private readonly powerByValidator = new Map<string, number>();
  private readonly addressByValidator = new Map<string, Uint8Array>();
  private readonly rounds = new Map<number, RoundVotes>();

  constructor(height: number, validators: readonly ValidatorInfo[]) {
    this.height = height;
    let total = 0;
    for (const v of validators) {
      if (v.address.length !== ADDRESS_LENGTH) {
        throw new TributaryError('tendermint/bad_validator_set', `a validator address is ${ADDRESS_LENGTH} bytes`);
      }
      if (!Number.isSafeInteger(v.power) || v.power <= 0) {
        throw new TributaryError('tendermint/bad_validator_set', 'validator power must be a positive safe integer');
      }
      const key = toHex(v.address);
      if (this.powerByValidator.has(key))
        throw new TributaryError('tendermint/bad_validator_set', 'duplicate validator address');
      this.powerByValidator.set(key, v.power);
      this.addressByValidator.set(key, v.address);
      total += v.power;
    }
    // 2 * total must be exact too (quorum arithmetic).
    if (total === 0 || !Number.isSafeInteger(2 * total)) {
      throw new TributaryError(
        'tendermint/bad_validator_set',
        'total power must be positive and 2 * total a safe integer',
      );
    }
    this.totalPower = total;
    this.quorum = Math.floor((2 * total) / 3) + 1;
    this.oneThird = Math.floor(total / 3) + 1;
  }

  isValidator(address: Uint8Array): boolean {
    return this.powerByValidator.has(toHex(address));
  }

  add(type: VoteType, round: number, validator: Uint8Array, value: ValueKey): AddVoteResult {
    const who = toHex(validator);
    const power = this.powerByValidator.get(who);
    if (power === undefined) return { counted: false, evidence: null };
    const votes = this.roundVotes(round, true);
    const tally = votes[type];
    let voters = tally.votersOf.get(value);
    if (voters?.has(who)) return { counted: false, evidence: null };
    if (!voters) {
      voters = new Set();
      tally.votersOf.set(value, voters);
    }
    voters.add(who);
    tally.powerOf.set(value, (tally.powerOf.get(value) ?? 0) + power);
    const first = tally.firstVote.get(who);
    if (first === undefined) {
      tally.firstVote.set(who, value);
      tally.total += power;
      if (!votes.voters.has(who)) {
        votes.voters.add(who);
        votes.voterPower += power;
      }
      return { counted: true, evidence: null };
    }
    if (tally.reported.has(who)) return { counted: true, evidence: null };
    tally.reported.add(who);
    return {
      counted: true,
      evidence: {
        kind: 'equivocation',
        validator: this.addressByValidator.get(who)!,
        type,
        height: this.height,
        round,
        first: valueFromKey(first),
        second: valueFromKey(value),
      },
    };
  }

  /** Power of the votes of (round, type) for `value` (NIL_KEY for nil). */
  power(round: number, type: VoteType, value: ValueKey): number {
    return this.roundVotes(round, false)?.[type].powerOf.get(value) ?? 0;
  }

  /** Power of the distinct validators with a vote of (round, type), whatever its value (the paper's "2f + 1 ⟨·, ∗⟩"). */
  powerAny(round: number, type: VoteType): number {
    return this.roundVotes(round, false)?.[type].total ?? 0;
  }

  hasQuorumFor(round: number, type: VoteType, value: ValueKey): boolean {
    return this.power(round, type, value) >= this.quorum;
  }

  hasQuorumAny(round: number, type: VoteType): boolean {
    return this.powerAny(round, type) >= this.quorum;
  }

  /**
   * The values (NIL_KEY for nil) holding a quorum of (round, type), in the order they first got
   * a vote. With less than 1/3 of the power Byzantine there is at most one: two quorums share more
   * than 1/3 of the power, so some honest validator would have voted twice.
   */
  quorumValues(round: number, type: VoteType): ValueKey[] {
    const tally = this.roundVotes(round, false)?.[type];
    if (!tally) return [];
    const out: ValueKey[] = [];
    for (const [value, power] of tally.powerOf) if (power >= this.quorum) out.push(value);
    return out;
  }

  /** Power of the distinct validators with any vote in `round`. */
  roundPower(round: number): number {
    return this.roundVotes(round, false)?.voterPower ?? 0;
  }

  /** The highest round above `round` in which validators of more than 1/3 of the power voted. */
  skipRound(round: number): number | undefined {
    let best: number | undefined;
    for (const [r, votes] of this.rounds) {
      if (r > round && votes.voterPower >= this.oneThird && (best === undefined || r > best)) best = r;
    }
    return best;
  }

  /** Rounds with any vote, ascending. */
  votedRounds(): number[] {
    return [...this.rounds.keys()].sort((a, b) => a - b);
  }

  /** Validators who voted `value` in (round, type), sorted by address. */
  voters(round: number, type: VoteType, value: ValueKey): Uint8Array[] {
    const voters = this.roundVotes(round, false)?.[type].votersOf.get(value);
    if (!voters) return [];
    return [...voters].map((who) => this.addressByValidator.get(who)!).sort(compareBytes);
  }

  private roundVotes(round: number, create: true): RoundVotes;
  private roundVotes(round: number, create: false): RoundVotes | undefined;
  private roundVotes(round: number, create: boolean): RoundVotes | undefined {
    let votes = this.rounds.get(round);
    if (!votes && create) {
      votes = { prevote: newTally(), precommit: newTally(), voters: new Set(), voterPower: 0 };
      this.rounds.set(round, votes);
    }
    return votes;
  }
}
