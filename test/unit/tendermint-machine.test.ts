import { describe, expect, it } from 'vitest';
import { TendermintMachine } from '../../src/consensus/tendermint/state-machine.ts';
import type { Output, Value, VoteType } from '../../src/consensus/tendermint/types.ts';
import { NIL_KEY, VoteKeeper, valueKey } from '../../src/consensus/tendermint/vote-keeper.ts';
import { ValidatorSet } from '../../src/consensus/validator-set.ts';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { isTributaryError } from '../../src/errors.ts';
import type { Validator } from '../../src/state/chainconfig/records.ts';

// Four validators of power 1 (f = 1, quorum 3) unless a test says otherwise. With the real
// ValidatorSet at height 1 the proposer of round r is V[(1 + r) % 4] (addresses sorted):
// round 0 -> V[1], round 1 -> V[2], round 2 -> V[3], round 3 -> V[0].
function validatorSet(powers: number[]): ValidatorSet {
  const validators: Validator[] = powers.map((power, i) => {
    const publicKey = new Uint8Array(32).fill(i + 1);
    return { name: `v${i}`, publicKey, address: addressFromPublicKey(publicKey), power };
  });
  return new ValidatorSet(validators);
}

const SET = validatorSet([1, 1, 1, 1]);
const V = SET.validators.map((v) => v.address);
const H = 1;
const TIMEOUTS = { proposeMs: 1000, prevoteMs: 500, precommitMs: 500, deltaMs: 250, maxMs: 2000 };
const VAL_V: Value = new Uint8Array(32).fill(0xaa);
const VAL_W: Value = new Uint8Array(32).fill(0xbb);

function node(self: number | null, set = SET): TendermintMachine {
  return new TendermintMachine({
    height: H,
    validators: set.validators,
    self: self === null ? null : set.validators[self]!.address,
    timeouts: TIMEOUTS,
    proposer: (h, r) => set.proposer(h, r).address,
  });
}

function start(m: TendermintMachine, set = SET): Output[] {
  return m.step({ kind: 'start_height', height: H, validators: set.validators });
}

function proposal(m: TendermintMachine, round: number, value: Value, polRound = -1, valid = true, set = SET): Output[] {
  return m.step({
    kind: 'proposal',
    height: H,
    round,
    polRound,
    valueId: value,
    valid,
    proposer: set.proposer(H, round).address,
  });
}

function vote(
  m: TendermintMachine,
  type: VoteType,
  from: number,
  round: number,
  value: Value | null,
  set = SET,
): Output[] {
  return m.step({ kind: 'vote', type, height: H, round, valueId: value, validator: set.validators[from]!.address });
}

/** Several votes, returning all outputs. */
function votes(
  m: TendermintMachine,
  type: VoteType,
  from: number[],
  round: number,
  value: Value | null,
  set = SET,
): Output[] {
  return from.flatMap((i) => vote(m, type, i, round, value, set));
}

function timeout(m: TendermintMachine, step: 'propose' | 'prevote' | 'precommit', round: number): Output[] {
  return m.step({ kind: 'timeout', step, height: H, round });
}

const prevoteOut = (round: number, value: Value | null): Output => ({
  kind: 'broadcast_vote',
  type: 'prevote',
  height: H,
  round,
  valueId: value,
});
const precommitOut = (round: number, value: Value | null): Output => ({
  kind: 'broadcast_vote',
  type: 'precommit',
  height: H,
  round,
  valueId: value,
});
const timeoutOut = (step: 'propose' | 'prevote' | 'precommit', round: number, durationMs: number): Output => ({
  kind: 'schedule_timeout',
  step,
  height: H,
  round,
  durationMs,
});

function sorted(indices: number[]): Uint8Array[] {
  return indices.map((i) => V[i]!).sort(Buffer.compare);
}

/** Node 0 locks on VAL_V in round 0 (proposal + 3 prevotes), then round 0 ends on nil precommits. */
function lockedInRound0(): TendermintMachine {
  const m = node(0);
  start(m);
  expect(proposal(m, 0, VAL_V)).toEqual([prevoteOut(0, VAL_V)]);
  expect(votes(m, 'prevote', [1, 2], 0, VAL_V)).toEqual([precommitOut(0, VAL_V)]);
  expect(votes(m, 'precommit', [1, 2], 0, null)).toEqual([timeoutOut('precommit', 0, 500)]);
  expect(timeout(m, 'precommit', 0)).toEqual([timeoutOut('propose', 1, 1250)]);
  expect(m.snapshot()).toMatchObject({
    round: 1,
    step: 'propose',
    lockedValue: VAL_V,
    lockedRound: 0,
    validValue: VAL_V,
    validRound: 0,
  });
  return m;
}

/** Ends the current round r of `m` by nil prevote and precommit timeouts with `others` voting nil. */
function endRoundNil(m: TendermintMachine, round: number, others: number[]): void {
  if (m.snapshot().step === 'propose') timeout(m, 'propose', round);
  votes(m, 'prevote', others, round, null);
  votes(m, 'precommit', others, round, null);
  timeout(m, 'precommit', round);
  expect(m.snapshot().round).toBe(round + 1);
}

describe('tendermint vote keeper', () => {
  it('uses integer thresholds: quorum floor(2T/3)+1, one third floor(T/3)+1', () => {
    const cases: [number[], number, number][] = [
      [[1, 1, 1, 1], 3, 2],
      [[1, 1, 1], 3, 2],
      [[1, 1, 1, 1, 1, 1, 1], 5, 3],
      [[3, 3, 2, 1, 1], 7, 4],
      [[5], 4, 2],
    ];
    for (const [powers, quorum, oneThird] of cases) {
      const keeper = new VoteKeeper(H, validatorSet(powers).validators);
      expect([keeper.quorum, keeper.oneThird]).toEqual([quorum, oneThird]);
    }
  });

  it('counts power per value, one vote per validator, and finds the quorum value', () => {
    // Powers 3, 3, 2, 1, 1: total 10, quorum 7.
    const set = validatorSet([3, 3, 2, 1, 1]);
    const keeper = new VoteKeeper(H, set.validators);
    const byPower = (p: number) => set.validators.filter((v) => v.power === p).map((v) => v.address);
    const [big1, big2] = byPower(3) as [Uint8Array, Uint8Array];
    const [mid] = byPower(2) as [Uint8Array];
    const [small1] = byPower(1) as [Uint8Array];
    const v = valueKey(VAL_V);
    expect(keeper.add('prevote', 0, big1, v)).toEqual({ counted: true, evidence: null });
    keeper.add('prevote', 0, big2, v);
    keeper.add('prevote', 0, mid, NIL_KEY);
    expect(keeper.power(0, 'prevote', v)).toBe(6);
    expect(keeper.power(0, 'prevote', NIL_KEY)).toBe(2);
    expect(keeper.powerAny(0, 'prevote')).toBe(8);
    expect(keeper.hasQuorumAny(0, 'prevote')).toBe(true);
    expect(keeper.quorumValues(0, 'prevote')).toEqual([]);
    expect(keeper.power(0, 'precommit', v)).toBe(0);
    // A repeated identical vote changes nothing; a non-validator is not counted.
    expect(keeper.add('prevote', 0, big1, v)).toEqual({ counted: false, evidence: null });
    expect(keeper.add('prevote', 0, new Uint8Array(20).fill(9), v)).toEqual({ counted: false, evidence: null });
    expect(keeper.power(0, 'prevote', v)).toBe(6);
    keeper.add('prevote', 0, small1, v);
    expect(keeper.quorumValues(0, 'prevote')).toEqual([v]);
    expect(keeper.voters(0, 'prevote', v)).toEqual([big1, big2, small1].sort(Buffer.compare));
    // Round power counts each validator once across both types; skipRound needs 4 (f + 1).
    keeper.add('precommit', 2, mid, NIL_KEY);
    keeper.add('prevote', 2, mid, NIL_KEY);
    expect(keeper.roundPower(2)).toBe(2);
    expect(keeper.skipRound(0)).toBeUndefined();
    keeper.add('prevote', 2, small1, v);
    keeper.add('prevote', 1, big1, v);
    expect(keeper.skipRound(0)).toBeUndefined();
    keeper.add('precommit', 1, small1, NIL_KEY);
    expect(keeper.skipRound(0)).toBe(1);
    keeper.add('prevote', 2, big2, v);
    expect(keeper.skipRound(0)).toBe(2);
    expect(keeper.skipRound(2)).toBeUndefined();
    expect(keeper.votedRounds()).toEqual([0, 1, 2]);
  });

  it('refuses malformed validator sets with tendermint/bad_validator_set', () => {
    const addr = new Uint8Array(20).fill(1);
    const bad = [
      [],
      [{ address: addr, power: 0 }],
      [{ address: addr, power: 1.5 }],
      [{ address: new Uint8Array(19), power: 1 }],
      [
        { address: addr, power: 1 },
        { address: addr, power: 2 },
      ],
      [{ address: addr, power: Number.MAX_SAFE_INTEGER }],
    ];
    for (const validators of bad) {
      try {
        new VoteKeeper(H, validators);
        expect.unreachable();
      } catch (e) {
        expect(isTributaryError(e) && e.code).toBe('tendermint/bad_validator_set');
      }
    }
  });
});

describe('tendermint state machine', () => {
  it('decides in round 0 on the happy path (lines 22-27, 36-43, 49)', () => {
    const m = node(0);
    expect(start(m)).toEqual([timeoutOut('propose', 0, 1000)]);
    expect(proposal(m, 0, VAL_V)).toEqual([prevoteOut(0, VAL_V)]);
    expect(vote(m, 'prevote', 1, 0, VAL_V)).toEqual([]);
    expect(vote(m, 'prevote', 2, 0, VAL_V)).toEqual([precommitOut(0, VAL_V)]);
    expect(vote(m, 'precommit', 1, 0, VAL_V)).toEqual([]);
    expect(vote(m, 'precommit', 3, 0, VAL_V)).toEqual([
      { kind: 'decide', height: H, round: 0, valueId: VAL_V, commit: sorted([0, 1, 3]) },
    ]);
    expect(m.snapshot()).toMatchObject({ step: 'decided', decision: VAL_V });
    // Nothing more happens at a decided height.
    expect(vote(m, 'precommit', 2, 0, VAL_V)).toEqual([]);
    expect(timeout(m, 'precommit', 0)).toEqual([]);
  });

  it('as proposer asks for a value, proposes it and counts its own proposal and votes', () => {
    const m = node(1);
    expect(start(m)).toEqual([{ kind: 'get_value', height: H, round: 0 }, timeoutOut('propose', 0, 1000)]);
    expect(m.step({ kind: 'proposal_value', height: H, round: 0, valueId: VAL_V })).toEqual([
      { kind: 'broadcast_proposal', height: H, round: 0, polRound: -1, valueId: VAL_V },
      prevoteOut(0, VAL_V),
    ]);
    // A late or repeated answer is ignored.
    expect(m.step({ kind: 'proposal_value', height: H, round: 0, valueId: VAL_W })).toEqual([]);
    expect(votes(m, 'prevote', [0, 2], 0, VAL_V)).toEqual([precommitOut(0, VAL_V)]);
    const out = votes(m, 'precommit', [0, 2], 0, VAL_V);
    expect(out).toEqual([{ kind: 'decide', height: H, round: 0, valueId: VAL_V, commit: sorted([0, 1, 2]) }]);
  });

  it('on proposer timeout prevotes nil, precommits nil on 2f+1 nil prevotes, moves to round 1 (lines 57-60, 44-48, 65-67)', () => {
    const m = node(0);
    start(m);
    expect(timeout(m, 'propose', 0)).toEqual([prevoteOut(0, null)]);
    expect(timeout(m, 'propose', 0)).toEqual([]); // stale: already in prevote
    expect(vote(m, 'prevote', 1, 0, null)).toEqual([]);
    expect(vote(m, 'prevote', 2, 0, null)).toEqual([precommitOut(0, null)]);
    expect(vote(m, 'precommit', 1, 0, null)).toEqual([]);
    expect(vote(m, 'precommit', 2, 0, null)).toEqual([timeoutOut('precommit', 0, 500)]);
    // Round 1's proposer is V[2]; the propose timeout grows by deltaMs.
    expect(timeout(m, 'precommit', 0)).toEqual([timeoutOut('propose', 1, 1250)]);
    expect(m.snapshot()).toMatchObject({ round: 1, step: 'propose', lockedRound: -1 });
    expect(timeout(m, 'precommit', 0)).toEqual([]); // stale: another round
  });

  it('arms timeoutPrevote on 2f+1 mixed prevotes and precommits nil when it fires (lines 34-35, 61-64)', () => {
    const m = node(0);
    start(m);
    proposal(m, 0, VAL_V);
    expect(vote(m, 'prevote', 1, 0, VAL_W)).toEqual([]);
    expect(vote(m, 'prevote', 2, 0, null)).toEqual([timeoutOut('prevote', 0, 500)]);
    expect(vote(m, 'prevote', 3, 0, VAL_W)).toEqual([]); // armed once per round
    expect(timeout(m, 'prevote', 0)).toEqual([precommitOut(0, null)]);
  });

  it('prevotes nil for an invalid proposal and ignores proposals from anyone but the round proposer', () => {
    const m = node(0);
    start(m);
    expect(
      m.step({ kind: 'proposal', height: H, round: 0, polRound: -1, valueId: VAL_W, valid: true, proposer: V[2]! }),
    ).toEqual([]);
    expect(proposal(m, 0, VAL_V, -1, false)).toEqual([prevoteOut(0, null)]);
    // 2f+1 prevotes for the invalid value do not lock (line 36 needs valid(v)).
    expect(votes(m, 'prevote', [1, 2, 3], 0, VAL_V)).toEqual([timeoutOut('prevote', 0, 500)]);
    expect(m.snapshot()).toMatchObject({ lockedRound: -1, validRound: -1 });
  });

  it('ignores messages of another height', () => {
    const m = node(0);
    start(m);
    expect(
      m.step({
        kind: 'proposal',
        height: 2,
        round: 0,
        polRound: -1,
        valueId: VAL_V,
        valid: true,
        proposer: SET.proposer(2, 0).address,
      }),
    ).toEqual([]);
    for (const i of [1, 2, 3]) {
      expect(m.step({ kind: 'vote', type: 'prevote', height: 2, round: 5, valueId: VAL_V, validator: V[i]! })).toEqual(
        [],
      );
    }
    expect(m.step({ kind: 'timeout', step: 'propose', height: 2, round: 0 })).toEqual([]);
    expect(m.snapshot()).toMatchObject({ height: H, round: 0, step: 'propose' });
  });

  it('ignores everything before start_height and refuses to start a height twice or go back', () => {
    const m = node(0);
    expect(proposal(m, 0, VAL_V)).toEqual([]);
    expect(m.snapshot().step).toBe('idle');
    start(m);
    for (const height of [H, H - 1]) {
      try {
        m.step({ kind: 'start_height', height, validators: SET.validators });
        expect.unreachable();
      } catch (e) {
        expect(isTributaryError(e) && e.code).toBe('tendermint/bad_start_height');
      }
    }
  });

  it('starts the next height from a clean state (line 53)', () => {
    const m = lockedInRound0();
    const out = m.step({ kind: 'start_height', height: 2, validators: SET.validators });
    // Height 2, round 0: proposer is V[2], so node 0 only arms the propose timeout.
    expect(out).toEqual([{ kind: 'schedule_timeout', step: 'propose', height: 2, round: 0, durationMs: 1000 }]);
    expect(m.snapshot()).toEqual({
      height: 2,
      round: 0,
      step: 'propose',
      lockedValue: null,
      lockedRound: -1,
      validValue: null,
      validRound: -1,
      decision: null,
    });
  });

  it('grows timeouts by deltaMs per round and caps them at maxMs', () => {
    const m = node(0);
    start(m);
    // Skip to round 2 (proposer V[3]) with f+1 votes there: 1000 + 2 * 250.
    vote(m, 'prevote', 1, 2, null);
    expect(vote(m, 'prevote', 2, 2, null)).toEqual([timeoutOut('propose', 2, 1500)]);
    expect(votes(m, 'precommit', [1, 2], 9, null)).toEqual([timeoutOut('propose', 9, 2000)]);
    expect(timeout(m, 'propose', 9)).toEqual([prevoteOut(9, null)]);
    expect(votes(m, 'prevote', [1, 2], 9, null)).toEqual([precommitOut(9, null), timeoutOut('precommit', 9, 2000)]);
  });

  describe('locking and the unlock rule (lines 22-33)', () => {
    it('a node locked on v does not prevote a new value w proposed without a POL', () => {
      const m = lockedInRound0();
      expect(proposal(m, 1, VAL_W, -1)).toEqual([prevoteOut(1, null)]);
      expect(m.snapshot()).toMatchObject({ lockedValue: VAL_V, lockedRound: 0 });
    });

    it('a node locked on v prevotes v again when it is proposed without a POL', () => {
      const m = lockedInRound0();
      expect(proposal(m, 1, VAL_V, -1)).toEqual([prevoteOut(1, VAL_V)]);
    });

    it('a node locked on v in round 0 prevotes w proposed with a POL in round 1 >= lockedRound', () => {
      const m = lockedInRound0();
      // Round 1: we miss its proposal, and the others prevote w (no lock for us: no proposal).
      expect(timeout(m, 'propose', 1)).toEqual([prevoteOut(1, null)]);
      votes(m, 'prevote', [1, 2, 3], 1, VAL_W);
      expect(m.snapshot()).toMatchObject({ lockedValue: VAL_V, lockedRound: 0 });
      timeout(m, 'prevote', 1);
      votes(m, 'precommit', [1, 2], 1, null);
      timeout(m, 'precommit', 1);
      // Round 2: w with POL round 1. The POL is there, so rule 28 unlocks us.
      expect(proposal(m, 2, VAL_W, 1)).toEqual([prevoteOut(2, VAL_W)]);
    });

    it('waits for the POL of a proposal with polRound before prevoting on it', () => {
      const m = lockedInRound0();
      endRoundNil(m, 1, [1, 2, 3]);
      // Round 2: w claims a POL in round 1 that we do not have: nothing yet.
      expect(proposal(m, 2, VAL_W, 1)).toEqual([]);
      expect(m.snapshot().step).toBe('propose');
      expect(timeout(m, 'propose', 2)).toEqual([prevoteOut(2, null)]);
    });

    it('prevotes w with a POL that arrives after the proposal', () => {
      const m = lockedInRound0();
      // Round 1: we prevote nil on timeout, and see only one other prevote.
      timeout(m, 'propose', 1);
      vote(m, 'prevote', 1, 1, VAL_W);
      // Round 2 through f+1 round-2 votes; its proposal claims the round-1 POL.
      votes(m, 'precommit', [1, 2], 2, null);
      expect(m.snapshot().round).toBe(2);
      expect(proposal(m, 2, VAL_W, 1)).toEqual([]);
      expect(vote(m, 'prevote', 2, 1, VAL_W)).toEqual([]);
      expect(vote(m, 'prevote', 3, 1, VAL_W)).toEqual([prevoteOut(2, VAL_W)]);
    });

    it('a node locked in round 1 does not prevote w with a POL from round 0 < lockedRound', () => {
      const m = node(0);
      start(m);
      // Round 0: the others prevote w, we never see w's proposal; the round ends.
      timeout(m, 'propose', 0);
      votes(m, 'prevote', [1, 2, 3], 0, VAL_W);
      timeout(m, 'prevote', 0);
      votes(m, 'precommit', [1, 2], 0, null);
      timeout(m, 'precommit', 0);
      // Round 1: lock on v.
      expect(proposal(m, 1, VAL_V)).toEqual([prevoteOut(1, VAL_V)]);
      expect(votes(m, 'prevote', [1, 2], 1, VAL_V)).toEqual([precommitOut(1, VAL_V)]);
      votes(m, 'precommit', [1, 2], 1, null);
      timeout(m, 'precommit', 1);
      expect(m.snapshot()).toMatchObject({ round: 2, lockedValue: VAL_V, lockedRound: 1 });
      // Round 2: w with its (real) POL of round 0: older than our lock, so nil.
      expect(proposal(m, 2, VAL_W, 0)).toEqual([prevoteOut(2, null)]);
    });

    it('takes the bound of line 29 inclusively: a POL from the lock round itself unlocks', () => {
      // Two polkas in one round need equivocators worth more than 1/3 (V[1] and V[2] vote both v
      // and w here): outside the fault assumption, but it pins lockedRound <= vr, not <.
      const m = node(0);
      start(m);
      proposal(m, 0, VAL_V);
      votes(m, 'prevote', [1, 2], 0, VAL_V);
      votes(m, 'prevote', [1, 2, 3], 0, VAL_W);
      expect(m.snapshot()).toMatchObject({ lockedValue: VAL_V, lockedRound: 0 });
      votes(m, 'precommit', [1, 2], 0, null);
      timeout(m, 'precommit', 0);
      expect(proposal(m, 1, VAL_W, 0)).toEqual([prevoteOut(1, VAL_W)]);
    });

    it('moves the lock to a newer polka seen in prevote step (lines 36-41)', () => {
      const m = lockedInRound0();
      expect(proposal(m, 1, VAL_W, -1)).toEqual([prevoteOut(1, null)]);
      // The others prevote w in round 1 (they were not locked): a newer polka locks us on w.
      // (2f+1 prevotes of any value arm timeoutPrevote on the way, lines 34-35.)
      expect(votes(m, 'prevote', [1, 2, 3], 1, VAL_W)).toEqual([timeoutOut('prevote', 1, 750), precommitOut(1, VAL_W)]);
      expect(m.snapshot()).toMatchObject({ lockedValue: VAL_W, lockedRound: 1, validValue: VAL_W, validRound: 1 });
    });

    it('records a polka seen after precommitting as the valid value, without locking (lines 36-37, 42-43)', () => {
      const m = node(0);
      start(m);
      timeout(m, 'propose', 0);
      votes(m, 'prevote', [1, 2], 0, VAL_V);
      expect(timeout(m, 'prevote', 0)).toEqual([precommitOut(0, null)]);
      // Now the proposal and the third prevote for v: a polka while in precommit step.
      expect(proposal(m, 0, VAL_V)).toEqual([]);
      expect(vote(m, 'prevote', 3, 0, VAL_V)).toEqual([]);
      expect(m.snapshot()).toMatchObject({
        step: 'precommit',
        lockedValue: null,
        lockedRound: -1,
        validValue: VAL_V,
        validRound: 0,
      });
    });

    it('a proposer holding a valid value re-proposes it with its POL round (lines 15-16, 19)', () => {
      // Node 2 proposes in round 1.
      const m = node(2);
      start(m);
      expect(proposal(m, 0, VAL_V)).toEqual([prevoteOut(0, VAL_V)]);
      expect(votes(m, 'prevote', [0, 1], 0, VAL_V)).toEqual([precommitOut(0, VAL_V)]);
      votes(m, 'precommit', [0, 1], 0, null);
      expect(timeout(m, 'precommit', 0)).toEqual([
        { kind: 'broadcast_proposal', height: H, round: 1, polRound: 0, valueId: VAL_V },
        timeoutOut('propose', 1, 1250),
        prevoteOut(1, VAL_V),
      ]);
    });
  });

  it('decides from late precommits of a past round, once the proposal is there too (line 49)', () => {
    const m = node(0);
    start(m);
    // Round 0: we prevote nil on timeout and see 2f+1 mixed prevotes, then precommit nil.
    timeout(m, 'propose', 0);
    vote(m, 'prevote', 1, 0, VAL_V);
    vote(m, 'prevote', 2, 0, null);
    timeout(m, 'prevote', 0);
    // f+1 votes of round 1 take us there.
    votes(m, 'prevote', [2, 3], 1, null);
    expect(m.snapshot()).toMatchObject({ round: 1, step: 'propose' });
    // Late precommits for v in round 0: a quorum, but we lack the proposal of v.
    expect(votes(m, 'precommit', [1, 2, 3], 0, VAL_V)).toEqual([]);
    expect(proposal(m, 0, VAL_V)).toEqual([
      { kind: 'decide', height: H, round: 0, valueId: VAL_V, commit: sorted([1, 2, 3]) },
    ]);
  });

  it('skips to a higher round on f+1 of the power voting there, not on f (line 55)', () => {
    const m = node(0);
    start(m);
    expect(vote(m, 'prevote', 1, 3, null)).toEqual([]);
    expect(vote(m, 'prevote', 1, 3, null)).toEqual([]); // the same validator again counts once
    // Round 3's proposer is V[0]: we get to propose.
    expect(vote(m, 'precommit', 2, 3, VAL_W)).toEqual([
      { kind: 'get_value', height: H, round: 3 },
      timeoutOut('propose', 3, 1750),
    ]);
    expect(m.snapshot().round).toBe(3);
  });

  it('counts power, not validators, for the skip and the quorums', () => {
    // Powers 1, 1, 1, 3 (total 6, quorum 5, f+1 = 3): one heavy validator alone skips a round.
    const set = validatorSet([1, 1, 1, 3]);
    const heavy = set.validators.findIndex((v) => v.power === 3);
    const light = [0, 1, 2, 3].filter((i) => i !== heavy);
    const m = node(light[0]!, set);
    start(m, set);
    expect(votes(m, 'prevote', [light[1]!, light[2]!], 4, null, set)).toEqual([]);
    vote(m, 'prevote', heavy, 5, null, set);
    expect(m.snapshot().round).toBe(5);
    // Our nil prevote and the heavy one's are 4 of 6: no quorum (5) until the light ones join.
    timeout(m, 'propose', 5);
    expect(m.snapshot().step).toBe('prevote');
    votes(m, 'prevote', [light[1]!, light[2]!], 5, null, set);
    expect(m.snapshot().step).toBe('precommit');
  });

  it('uses votes of a future round when it gets there', () => {
    const m = node(0);
    start(m);
    // Round 1 prevotes for v arrive early (one validator: no skip).
    vote(m, 'prevote', 1, 1, VAL_V);
    endRoundNil(m, 0, [2, 3]);
    proposal(m, 1, VAL_V);
    expect(m.snapshot().step).toBe('prevote');
    expect(vote(m, 'prevote', 3, 1, VAL_V)).toEqual([precommitOut(1, VAL_V)]);
  });

  it('reports equivocation once, with both votes, counting each vote for its own value but the voter once in the total', () => {
    const m = node(0);
    start(m);
    expect(vote(m, 'prevote', 1, 0, VAL_V)).toEqual([]);
    expect(vote(m, 'prevote', 1, 0, VAL_W)).toEqual([
      { kind: 'equivocation', validator: V[1], type: 'prevote', height: H, round: 0, first: VAL_V, second: VAL_W },
    ]);
    expect(vote(m, 'prevote', 1, 0, null)).toEqual([]);
    expect(vote(m, 'prevote', 1, 0, VAL_V)).toEqual([]);
    expect(m.votes.power(0, 'prevote', valueKey(VAL_V))).toBe(1);
    expect(m.votes.power(0, 'prevote', valueKey(VAL_W))).toBe(1);
    expect(m.votes.power(0, 'prevote', NIL_KEY)).toBe(1);
    expect(m.votes.powerAny(0, 'prevote')).toBe(1);
    expect(m.votes.roundPower(0)).toBe(1);
    // Another type or round is a separate vote, not equivocation.
    expect(vote(m, 'precommit', 1, 0, VAL_W)).toEqual([]);
    expect(vote(m, 'precommit', 1, 0, null)).toEqual([
      { kind: 'equivocation', validator: V[1], type: 'precommit', height: H, round: 0, first: VAL_W, second: null },
    ]);
  });

  it('sees the POL an equivocator helped make whatever order its two votes arrived in', () => {
    // V[3] prevoted w to us first, then v (which V[1] and V[2] prevoted too): v still has 3 of 4.
    const m = lockedInRound0();
    timeout(m, 'propose', 1);
    vote(m, 'prevote', 3, 1, VAL_W);
    expect(vote(m, 'prevote', 3, 1, VAL_V)[0]).toMatchObject({ kind: 'equivocation', first: VAL_W, second: VAL_V });
    votes(m, 'prevote', [1, 2], 1, VAL_V);
    expect(m.votes.quorumValues(1, 'prevote')).toEqual([valueKey(VAL_V)]);
  });

  it('as a non-validator full node never votes or proposes but decides', () => {
    const outsider = new TendermintMachine({
      height: H,
      validators: SET.validators,
      self: new Uint8Array(20).fill(0x77),
      timeouts: TIMEOUTS,
      proposer: (h, r) => SET.proposer(h, r).address,
    });
    for (const m of [node(null), outsider]) {
      expect(start(m)).toEqual([timeoutOut('propose', 0, 1000)]);
      expect(proposal(m, 0, VAL_V)).toEqual([]);
      expect(m.snapshot().step).toBe('prevote');
      expect(votes(m, 'prevote', [0, 1, 2], 0, VAL_V)).toEqual([]);
      expect(m.snapshot()).toMatchObject({ step: 'precommit', lockedValue: VAL_V });
      expect(votes(m, 'precommit', [0, 1, 2], 0, VAL_V)).toEqual([
        { kind: 'decide', height: H, round: 0, valueId: VAL_V, commit: sorted([0, 1, 2]) },
      ]);
    }
  });

  it('refuses bad timeouts and heights with tendermint/bad_timeouts and tendermint/bad_height', () => {
    const cases: [Partial<{ height: number; deltaMs: number }>, string][] = [
      [{ deltaMs: -1 }, 'tendermint/bad_timeouts'],
      [{ deltaMs: 0.5 }, 'tendermint/bad_timeouts'],
      [{ height: -1 }, 'tendermint/bad_height'],
    ];
    for (const [bad, code] of cases) {
      try {
        new TendermintMachine({
          height: bad.height ?? H,
          validators: SET.validators,
          self: null,
          timeouts: { ...TIMEOUTS, deltaMs: bad.deltaMs ?? TIMEOUTS.deltaMs },
          proposer: () => V[0]!,
        });
        expect.unreachable();
      } catch (e) {
        expect(isTributaryError(e) && e.code).toBe(code);
      }
    }
  });
});
