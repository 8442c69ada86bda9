import { toHex } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import type {
  Input,
  Output,
  ProposalInput,
  ProposerFn,
  RoundStep,
  TimeoutConfig,
  ValidatorInfo,
  Value,
  VoteInput,
  VoteType,
} from './types.ts';
import { NIL_KEY, type ValueKey, VoteKeeper, valueFromKey, valueKey } from './vote-keeper.ts';

export type TendermintErrorCode = 'tendermint/bad_timeouts' | 'tendermint/bad_height' | 'tendermint/bad_start_height';

export interface TendermintMachineOptions {
  /**
   * The first height this machine may run; it acts only after `start_height`, whose validator set
   * is the one used (these are checked here so a bad set fails at construction).
   */
  readonly height: number;
  readonly validators: readonly ValidatorInfo[];
  /** This node's validator address, or null for a full node that follows but never votes. */
  readonly self: Uint8Array | null;
  readonly timeouts: TimeoutConfig;
  readonly proposer: ProposerFn;
}

/** What the machine holds for the current height (values as bytes, null = nil / none). */
export interface MachineSnapshot {
  readonly height: number;
  readonly round: number;
  /** 'idle' before `start_height`, 'decided' once the height is decided. */
  readonly step: RoundStep | 'idle' | 'decided';
  readonly lockedValue: Value | null;
  readonly lockedRound: number;
  readonly validValue: Value | null;
  readonly validRound: number;
  readonly decision: Value | null;
}

interface StoredProposal {
  readonly value: ValueKey;
  readonly polRound: number;
  readonly valid: boolean;
}

const STEP_RANK: Record<RoundStep, number> = { propose: 0, prevote: 1, precommit: 2 };

function isRound(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * The Tendermint consensus algorithm for one height at a time (Algorithm 1 of arXiv 1807.04938;
 * "line N" below is a line of that algorithm). `step(input)` applies one input and returns what to
 * do; nothing here reads a clock, a socket or a key.
 *
 * Unlock rule: the paper's. A process locked on v in round lockedRound prevotes for another value w
 * only when w's proposal carries a proof-of-lock round vr with lockedRound <= vr < round and the
 * process holds 2f+1 prevotes for w in vr (lines 28-33); a proposal without one (vr = -1, line
 * 22-27) gets a prevote only if the process is unlocked or locked on that very value. The lock is
 * never dropped otherwise (no unlock on 2f+1 nil prevotes, unlike early Tendermint): it is
 * replaced when the process sees a newer polka while in prevote step (line 36-41) and reset only
 * at a new height.
 *
 * Conventions of this implementation:
 * - "2f + 1" is more than 2/3 of the voting power and "f + 1" more than 1/3 (the vote keeper).
 *   Like the paper, which counts messages for id(v), an equivocator's two votes each count for
 *   their own value (and are reported); see vote-keeper.ts for why liveness needs that.
 * - Our own proposal and votes are counted at once, as if received; the driver need not loop them
 *   back (a looped-back copy is an identical duplicate and is ignored).
 * - Messages of a future round are kept (votes in the vote keeper, proposals here) and act when
 *   the machine reaches that round; messages of another height are ignored (the driver buffers
 *   height + 1). Before `start_height` the machine ignores everything.
 * - Of several proposals from one proposer in one round (an equivocating proposer), the first one
 *   that satisfies line 22 or 28 gets our prevote; all are kept for lines 36 and 49, which look a
 *   proposal up by the value that has the votes.
 * - The proposer also arms timeoutPropose (the paper arms it for the others only, line 21), so a
 *   slow `get_value` ends in a nil prevote instead of a stalled round.
 */
export class TendermintMachine {
  private readonly self: Uint8Array | null;
  private readonly selfKey: string | null;
  private readonly timeouts: TimeoutConfig;
  private readonly proposerOf: ProposerFn;

  private height: number;
  private keeper: VoteKeeper;
  private started = false;
  private decision: ValueKey | null = null;

  private round = 0;
  private roundStep: RoundStep = 'propose';
  private lockedValue: ValueKey | null = null;
  private lockedRound = -1;
  private validValue: ValueKey | null = null;
  private validRound = -1;
  /** Per round, proposals from that round's proposer by value, in arrival order. */
  private proposals = new Map<number, Map<ValueKey, StoredProposal>>();
  /** We emitted get_value for the current round and wait for proposal_value. */
  private awaitingValue = false;
  /** The round in which each "for the first time" rule last fired (lines 34, 36, 47). */
  private prevoteTimeoutRound = -1;
  private polkaRound = -1;
  private precommitTimeoutRound = -1;

  private out: Output[] = [];

  constructor(options: TendermintMachineOptions) {
    const t = options.timeouts;
    for (const ms of [t.proposeMs, t.prevoteMs, t.precommitMs, t.deltaMs, t.maxMs]) {
      if (!Number.isSafeInteger(ms) || ms < 0)
        throw new TributaryError('tendermint/bad_timeouts', 'timeouts are non-negative integer milliseconds');
    }
    if (!isRound(options.height))
      throw new TributaryError('tendermint/bad_height', 'height must be a non-negative safe integer');
    this.timeouts = t;
    this.proposerOf = options.proposer;
    this.self = options.self;
    this.selfKey = options.self === null ? null : toHex(options.self);
    this.height = options.height;
    this.keeper = new VoteKeeper(options.height, options.validators);
  }

  snapshot(): MachineSnapshot {
    return {
      height: this.height,
      round: this.round,
      step: !this.started ? 'idle' : this.decision !== null ? 'decided' : this.roundStep,
      lockedValue: this.lockedValue === null ? null : valueFromKey(this.lockedValue),
      lockedRound: this.lockedRound,
      validValue: this.validValue === null ? null : valueFromKey(this.validValue),
      validRound: this.validRound,
      decision: this.decision === null ? null : valueFromKey(this.decision),
    };
  }

  /** The vote keeper of the current height (read-only use: the driver may read voters from it). */
  get votes(): VoteKeeper {
    return this.keeper;
  }

  /** Applies one input. Throws tendermint/bad_start_height for a start_height that is not ahead. */
  step(input: Input): Output[] {
    this.out = [];
    switch (input.kind) {
      case 'start_height':
        this.startHeight(input.height, input.validators);
        break;
      case 'proposal':
        this.onProposal(input);
        break;
      case 'vote':
        this.onVote(input);
        break;
      case 'proposal_value':
        if (this.isCurrent(input.height, input.round) && this.awaitingValue && this.roundStep === 'propose') {
          this.awaitingValue = false;
          this.propose(valueKey(input.valueId), -1);
        }
        break;
      case 'timeout':
        if (this.isCurrent(input.height, input.round)) this.onTimeout(input.step);
        break;
    }
    this.evaluate();
    const out = this.out;
    this.out = [];
    return out;
  }

  // ---- Inputs ----

  private startHeight(height: number, validators: readonly ValidatorInfo[]): void {
    if (!isRound(height) || height < this.height || (height === this.height && this.started)) {
      throw new TributaryError('tendermint/bad_start_height', `cannot start height ${height} at height ${this.height}`);
    }
    // Line 53: a new height starts from nothing (locks, valid value, message log).
    this.keeper = new VoteKeeper(height, validators);
    this.height = height;
    this.started = true;
    this.decision = null;
    this.lockedValue = null;
    this.lockedRound = -1;
    this.validValue = null;
    this.validRound = -1;
    this.proposals = new Map();
    this.startRound(0);
  }

  private onProposal(p: ProposalInput): void {
    if (p.height !== this.height || !this.started || this.decision !== null) return;
    if (!isRound(p.round) || !Number.isSafeInteger(p.polRound) || p.polRound < -1) return;
    if (toHex(p.proposer) !== toHex(this.proposerOf(p.height, p.round))) return;
    this.storeProposal(p.round, valueKey(p.valueId), p.polRound, p.valid);
  }

  private storeProposal(round: number, value: ValueKey, polRound: number, valid: boolean): void {
    let byValue = this.proposals.get(round);
    if (!byValue) {
      byValue = new Map();
      this.proposals.set(round, byValue);
    }
    if (!byValue.has(value)) byValue.set(value, { value, polRound, valid });
  }

  private onVote(v: VoteInput): void {
    if (v.height !== this.height || !this.started || this.decision !== null || !isRound(v.round)) return;
    const result = this.keeper.add(v.type, v.round, v.validator, valueKey(v.valueId));
    if (result.evidence) this.out.push(result.evidence);
  }

  private onTimeout(step: RoundStep): void {
    if (step === 'propose' && this.roundStep === 'propose') {
      // Lines 57-60: OnTimeoutPropose.
      this.awaitingValue = false;
      this.vote('prevote', NIL_KEY);
      this.roundStep = 'prevote';
    } else if (step === 'prevote' && this.roundStep === 'prevote') {
      // Lines 61-64: OnTimeoutPrevote.
      this.vote('precommit', NIL_KEY);
      this.roundStep = 'precommit';
    } else if (step === 'precommit') {
      // Lines 65-67: OnTimeoutPrecommit.
      this.startRound(this.round + 1);
    }
  }

  private isCurrent(height: number, round: number): boolean {
    return this.started && this.decision === null && height === this.height && round === this.round;
  }

  // ---- The upon-rules, applied until none fires ----

  private evaluate(): void {
    if (!this.started) return;
    while (this.decision === null) {
      if (this.tryDecide()) return;
      if (this.trySkipRound()) continue;
      if (this.roundStep === 'propose' && this.tryPrevoteOnProposal()) continue;
      if (this.tryPolka()) continue;
      if (this.tryNilPolka()) continue;
      this.maybeArmPrevoteTimeout();
      this.maybeArmPrecommitTimeout();
      return;
    }
  }

  /** Lines 49-54: a proposal of any round r with 2f+1 precommits for it in r decides, even r < round. */
  private tryDecide(): boolean {
    for (const r of this.keeper.votedRounds()) {
      const value = this.keeper.quorumValues(r, 'precommit').find((v) => v !== NIL_KEY && this.hasValidProposal(r, v));
      if (value === undefined) continue;
      this.decision = value;
      this.out.push({
        kind: 'decide',
        height: this.height,
        round: r,
        valueId: valueFromKey(value)!,
        commit: this.keeper.voters(r, 'precommit', value),
      });
      return true;
    }
    return false;
  }

  /** Lines 55-56: f+1 of the power voted in a higher round: at least one honest is there, follow. */
  private trySkipRound(): boolean {
    const r = this.keeper.skipRound(this.round);
    if (r === undefined) return false;
    this.startRound(r);
    return true;
  }

  /** Lines 22-33, in propose step: prevote on the round's proposal. */
  private tryPrevoteOnProposal(): boolean {
    const byValue = this.proposals.get(this.round);
    if (!byValue) return false;
    for (const p of byValue.values()) {
      let acceptable: boolean;
      if (p.polRound === -1) {
        // Line 23: a fresh value, prevoted if we are unlocked or locked on it.
        acceptable = p.valid && (this.lockedRound === -1 || this.lockedValue === p.value);
      } else if (p.polRound < this.round && this.keeper.hasQuorumFor(p.polRound, 'prevote', p.value)) {
        // Line 29: a value with a proof of lock in vr; it unlocks us if vr >= lockedRound.
        acceptable = p.valid && (this.lockedRound <= p.polRound || this.lockedValue === p.value);
      } else {
        // polRound >= round, or the polka is not (yet) here: not actionable (the timeout is).
        continue;
      }
      this.vote('prevote', acceptable ? p.value : NIL_KEY);
      this.roundStep = 'prevote';
      return true;
    }
    return false;
  }

  /** Lines 36-43: the proposal and 2f+1 prevotes for it in this round, first time: lock (if in prevote), record valid. */
  private tryPolka(): boolean {
    if (STEP_RANK[this.roundStep] < STEP_RANK.prevote || this.polkaRound === this.round) return false;
    const value = this.keeper
      .quorumValues(this.round, 'prevote')
      .find((v) => v !== NIL_KEY && this.hasValidProposal(this.round, v));
    if (value === undefined) return false;
    this.polkaRound = this.round;
    if (this.roundStep === 'prevote') {
      this.lockedValue = value;
      this.lockedRound = this.round;
      this.vote('precommit', value);
      this.roundStep = 'precommit';
    }
    this.validValue = value;
    this.validRound = this.round;
    return true;
  }

  /** Lines 44-46: 2f+1 nil prevotes in prevote step: precommit nil. */
  private tryNilPolka(): boolean {
    if (this.roundStep !== 'prevote' || !this.keeper.hasQuorumFor(this.round, 'prevote', NIL_KEY)) return false;
    this.vote('precommit', NIL_KEY);
    this.roundStep = 'precommit';
    return true;
  }

  /** Lines 34-35: 2f+1 prevotes of any value in prevote step, first time: arm timeoutPrevote. */
  private maybeArmPrevoteTimeout(): void {
    if (this.roundStep !== 'prevote' || this.prevoteTimeoutRound === this.round) return;
    if (!this.keeper.hasQuorumAny(this.round, 'prevote')) return;
    this.prevoteTimeoutRound = this.round;
    this.schedule('prevote');
  }

  /** Lines 47-48: 2f+1 precommits of any value in this round, first time: arm timeoutPrecommit. */
  private maybeArmPrecommitTimeout(): void {
    if (this.precommitTimeoutRound === this.round || !this.keeper.hasQuorumAny(this.round, 'precommit')) return;
    this.precommitTimeoutRound = this.round;
    this.schedule('precommit');
  }

  private hasValidProposal(round: number, value: ValueKey): boolean {
    return this.proposals.get(round)?.get(value)?.valid === true;
  }

  // ---- Actions ----

  /** Lines 11-21: StartRound. */
  private startRound(round: number): void {
    this.round = round;
    this.roundStep = 'propose';
    this.awaitingValue = false;
    if (this.isVoter() && toHex(this.proposerOf(this.height, round)) === this.selfKey) {
      if (this.validValue !== null) {
        this.propose(this.validValue, this.validRound); // lines 15-16, 19
      } else {
        this.awaitingValue = true; // line 18: getValue(), answered by proposal_value
        this.out.push({ kind: 'get_value', height: this.height, round });
      }
    }
    this.schedule('propose'); // line 21 (for the proposer too, see the class comment)
  }

  private propose(value: ValueKey, polRound: number): void {
    this.out.push({
      kind: 'broadcast_proposal',
      height: this.height,
      round: this.round,
      polRound,
      valueId: valueFromKey(value)!,
    });
    this.storeProposal(this.round, value, polRound, true);
  }

  private vote(type: VoteType, value: ValueKey): void {
    if (!this.isVoter()) return;
    this.out.push({
      kind: 'broadcast_vote',
      type,
      height: this.height,
      round: this.round,
      valueId: valueFromKey(value),
    });
    this.keeper.add(type, this.round, this.self!, value);
  }

  /** A node votes and proposes only at heights where it is in the validator set. */
  private isVoter(): boolean {
    return this.self !== null && this.keeper.isValidator(this.self);
  }

  private schedule(step: RoundStep): void {
    const base =
      step === 'propose'
        ? this.timeouts.proposeMs
        : step === 'prevote'
          ? this.timeouts.prevoteMs
          : this.timeouts.precommitMs;
    const durationMs = Math.min(base + this.round * this.timeouts.deltaMs, this.timeouts.maxMs);
    this.out.push({ kind: 'schedule_timeout', step, height: this.height, round: this.round, durationMs });
  }
}
