import { describe, expect, it } from 'vitest';
import { contributeTx, createDatanetTx, readContribution, reviewTx } from '../../src/attribution/datanet.ts';
import {
  DisputeReason,
  DisputeTarget,
  openDisputeTx,
  readDispute,
  respondDisputeTx,
  voteDisputeTx,
} from '../../src/attribution/dispute.ts';
import { actTx, registerAgentTx } from '../../src/attribution/agent.ts';
import { payTx } from '../../src/attribution/inference.ts';
import { recordAttributionTx } from '../../src/attribution/record.ts';
import { publishModelTx, registerModelTx } from '../../src/attribution/model.ts';
import { claimTx, readEarnings } from '../../src/attribution/rewards.ts';
import {
  AttributionMethod,
  ContributionStatus,
  DATANET_ESCROW,
  DISPUTE_ESCROW,
  EdgeKind,
  REWARDS_POOL,
  Relation,
  TREASURY,
  TargetKind,
  agentAccount,
} from '../../src/attribution/store.ts';
import type { Receipt } from '../../src/codec/core.ts';
import { addressFromPublicKey, type Address } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { sha256, utf8 } from '../../src/crypto/hash.ts';
import type { TxDefinition } from '../../src/state/module.ts';
import { STAKING_POOL, readStake } from '../../src/state/staking/store.ts';
import { bondTx, unbondTx } from '../../src/state/staking/txs.ts';
import { TestChain } from '../helpers/test-chain.ts';

/*
 * One scenario per dispute kind (contribution, model version, attribution record, agent action), each opened, answered
 * (or left unanswered) and resolved both ways. A ledger in the test follows every account the
 * scenario touches, to the base unit: fees (all paid to the one validator in the same block), bonds,
 * stakes, payments and claims; the escrow, pool and treasury are checked against it too, and
 * TestChain checks supply and every module invariant after each block.
 *
 * Parameters: validators 5 %, treasury 5 %; dispute: minBond 1,000, 20-block voting window, the
 * winner takes 60 % of what the loser forfeits.
 * Lineage: M1 (Pia) keeps 60 %, gives D1 40 %; M2 (Quinn) keeps 70 %, gives M1 30 %.
 * D1 splits by accepted size: Ada 300 bytes, Ben 100 bytes.
 * A payment of 10,000 for M1: validators 500, treasury 500, Pia 5,400, D1 3,600 -> Ada 2,700, Ben 900.
 * A payment of 10,000 for M2: validators 500, treasury 500, Quinn 6,300, M1 2,700 -> Pia 1,620,
 * D1 1,080 -> Ada 810, Ben 270.
 */

const FEE = 10_000n;
const PRICE = 10_000n;
const FUNDS = 10_000_000n;
const h = (s: string): Uint8Array => sha256(utf8.encode(s));
const addr = (k: SigningKey): Address => addressFromPublicKey(k.publicKey);

function attr(r: Receipt, type: string, key: string): string {
  expect(r.error_code).toBe('');
  const value = r.events.find((e) => e.type === type)?.attributes.find((a) => a.key === key)?.value;
  if (value === undefined) throw new Error(`no ${type}.${key}`);
  return value;
}

const NAMES = ['validator', 'dora', 'cur1', 'cur2', 'ada', 'ben', 'chal', 'pia', 'quinn', 'payer'] as const;
type Name = (typeof NAMES)[number];

async function world() {
  const keys = Object.fromEntries(NAMES.map((n) => [n, SigningKey.generate()])) as Record<Name, SigningKey>;
  const chain = await TestChain.create({
    funded: NAMES.map((n) => ({ key: keys[n], balance: FUNDS })),
    validator: keys.validator,
    params: {
      modules: {
        inference: { validatorBps: 500, treasuryBps: 500 },
        dispute: { minBond: '1000', votingBlocks: 20, winnerShareBps: 6_000, slashBps: 1_000 },
      },
    },
  });
  // The ledger: what every account should hold, moved by the test as the rules say.
  const expected = new Map<Name, bigint>(NAMES.map((n) => [n, FUNDS]));
  let treasury = await chain.balance(TREASURY);
  const gainTreasury = (amount: bigint) => {
    treasury += amount;
  };
  const move = (name: Name, delta: bigint) => expected.set(name, expected.get(name)! + delta);
  /** Runs one transaction in its own block; its fee goes to the validator (the only one) in that block. */
  const run = async <M>(who: Name, def: TxDefinition<M>, m: M): Promise<Receipt> => {
    move(who, -FEE);
    move('validator', FEE);
    return chain.run(chain.sign(keys[who], def, m, FEE));
  };
  const pay = async (versionId: number, attributionId = 0) => {
    attr(await run('payer', payTx, payment(versionId, attributionId)), 'inference_paid', 'payment_id');
    move('payer', -PRICE);
    move('validator', PRICE / 20n);
    treasury += PRICE / 20n;
  };
  const check = async (escrow: bigint, pool: bigint) => {
    for (const n of NAMES) expect(await chain.balance(addr(keys[n])), n).toBe(expected.get(n));
    expect(await chain.balance(DISPUTE_ESCROW), 'dispute escrow').toBe(escrow);
    expect(await chain.balance(REWARDS_POOL), 'rewards pool').toBe(pool);
    expect(await chain.balance(TREASURY), 'treasury').toBe(treasury);
  };
  const claimable = async (n: Name) => (await readEarnings(state(), addr(keys[n]))).claimable;
  const state = () => chain.app.queryContext(chain.reader).state;
  const stake = async (n: Name) => {
    const r = await readStake(state(), addr(keys[n]), 'contributor');
    return { bonded: r.bonded, unbonding: r.unbonding.reduce((sum, e) => sum + e.amount, 0n) };
  };

  const d1 = Number(
    attr(
      await run('dora', createDatanetTx, {
        name: 'D1',
        metadata_hash: h('D1'),
        licence: 'CC0',
        curators: [addr(keys.cur1), addr(keys.cur2)].sort(Buffer.compare),
        min_stake: 1_000n,
        challenge_window: 40,
      }),
      'datanet_created',
      'datanet_id',
    ),
  );
  const contribution = async (who: Name, data: string, size: number, stake: bigint) => {
    const id = Number(
      attr(
        await run(who, contributeTx, { datanet_id: d1, content_hash: h(data), size, uri: '', stake }),
        'contribution_submitted',
        'contribution_id',
      ),
    );
    move(who, -stake);
    attr(await run('dora', reviewTx, { contribution_id: id, accept: true }), 'contribution_accepted', 'vest_height');
    return id;
  };
  const adaC = await contribution('ada', 'ada essays', 300, 5_000n);
  const benC = await contribution('ben', 'ben letters', 100, 2_000n);
  const publish = async (who: Name, name: string, parents: { kind: number; id: number; share_bps: number }[]) => {
    const family = Number(
      attr(
        await run(who, registerModelTx, { name, metadata_hash: new Uint8Array(0) }),
        'model_registered',
        'family_id',
      ),
    );
    const r = await run(who, publishModelTx, {
      family_id: family,
      weights_hash: h(`${name} weights`),
      config_hash: new Uint8Array(0),
      recipe_hash: new Uint8Array(0),
      relation: parents.some((p) => p.kind === EdgeKind.model) ? Relation.finetune : Relation.base,
      parents,
    });
    return Number(attr(r, 'model_published', 'version_id'));
  };
  const m1 = await publish('pia', 'M1', [{ kind: EdgeKind.datanet, id: d1, share_bps: 4_000 }]);
  const m2 = await publish('quinn', 'M2', [{ kind: EdgeKind.model, id: m1, share_bps: 3_000 }]);
  return {
    chain,
    keys,
    run,
    pay,
    move,
    check,
    gainTreasury,
    claimable,
    state,
    stake,
    d1,
    adaC,
    benC,
    m1,
    m2,
    expected,
  };
}

let requests = 0;
function payment(versionId: number, attributionId = 0) {
  requests += 1;
  return {
    model_version_id: versionId,
    amount: PRICE,
    request_hash: h(`request ${requests}`),
    response_hash: new Uint8Array(0),
    agent_id: 0,
    attribution_id: attributionId,
  };
}

function openMsg(kind: number, id: number, reason: number, bond: bigint, seq = 0) {
  return {
    target_kind: kind,
    target_id: id,
    reason,
    evidence_hash: h(`evidence ${kind}/${id}`),
    bond,
    target_seq: seq,
  };
}

describe('disputes against a contribution (voted by the datanet owner and curators)', () => {
  it('upheld: the contribution is struck; its stake, locked rewards and the counter-bond go 60/40 to the challenger and treasury', async () => {
    const w = await world();
    await w.pay(w.m1); // Ada 2,700 and Ben 900 locked (window 40)
    await w.check(0n, 3_600n + 5_400n);
    // Ada also holds 20,000 of contributor stake in the staking module.
    await w.run('ada', bondTx, { role: 'contributor', amount: 20_000n });
    w.move('ada', -20_000n);

    const opened = await w.run(
      'chal',
      openDisputeTx,
      openMsg(DisputeTarget.contribution, w.adaC, DisputeReason.poisoned, 3_000n),
    );
    const id = Number(attr(opened, 'dispute_opened', 'dispute_id'));
    const resolveHeight = Number(attr(opened, 'dispute_opened', 'resolve_height'));
    expect(resolveHeight).toBe(w.chain.app.height + 20);
    w.move('chal', -3_000n);
    await w.check(3_000n, 9_000n);
    expect((await readDispute(w.state(), id))!.stake_at_open).toBe(20_000n);
    // Unbonding after the dispute opened does not escape it: unbonding stake stays slashable.
    attr(await w.run('ada', unbondTx, { role: 'contributor', amount: 20_000n }), 'stake_unbonding', 'amount');
    // One open dispute per target; a bond below the minimum and a wrong reason are refused.
    const again = await w.run(
      'ben',
      openDisputeTx,
      openMsg(DisputeTarget.contribution, w.adaC, DisputeReason.duplicate, 3_000n),
    );
    expect(again.error_code).toBe('dispute/already_open');
    const low = await w.run(
      'chal',
      openDisputeTx,
      openMsg(DisputeTarget.contribution, w.benC, DisputeReason.poisoned, 999n),
    );
    expect(low.error_code).toBe('dispute/bond_too_low');
    expect(() =>
      openDisputeTx.validateBasic(openMsg(DisputeTarget.contribution, w.adaC, DisputeReason.falseLineage, 3_000n)),
    ).toThrowError(expect.objectContaining({ code: 'dispute/invalid' }));

    // While the dispute is open Ada earns into her locked balance, as before.
    await w.pay(w.m1);
    expect((await readContribution(w.state(), w.adaC))!.locked).toBe(5_400n);

    expect(
      (await w.run('ben', respondDisputeTx, { dispute_id: id, evidence_hash: h('x'), counter_bond: 2_000n }))
        .error_code,
    ).toBe('dispute/unauthorized');
    attr(
      await w.run('ada', respondDisputeTx, { dispute_id: id, evidence_hash: h('ada answer'), counter_bond: 2_000n }),
      'dispute_answered',
      'counter_bond',
    );
    w.move('ada', -2_000n);
    // Voters: the datanet's owner and curators, once each; neither party, nobody else.
    expect((await w.run('ben', voteDisputeTx, { dispute_id: id, uphold: true })).error_code).toBe('dispute/not_voter');
    attr(await w.run('cur1', voteDisputeTx, { dispute_id: id, uphold: true }), 'dispute_voted', 'voter');
    expect((await w.run('cur1', voteDisputeTx, { dispute_id: id, uphold: false })).error_code).toBe(
      'dispute/already_voted',
    );
    attr(await w.run('cur2', voteDisputeTx, { dispute_id: id, uphold: true }), 'dispute_voted', 'voter');
    while (w.chain.app.height < resolveHeight - 1) await w.chain.block([]);
    await w.check(5_000n, 18_000n);
    // The last block of the window: Dora's vote against still loses 2 to 1; the end of the block resolves.
    const last = await w.chain.block([
      w.chain.sign(w.keys.dora, voteDisputeTx, { dispute_id: id, uphold: false }, FEE),
    ]);
    w.move('dora', -FEE);
    w.move('validator', FEE);
    expect(w.chain.app.height).toBe(resolveHeight);
    const resolved = last.endBlockEvents.find((e) => e.type === 'dispute_resolved')!;
    expect(Object.fromEntries(resolved.attributes.map((a) => [a.key, a.value]))).toMatchObject({
      status: 'upheld',
      votes_uphold: '2',
      votes_reject: '1',
      slashed: '7000',
      clawed_back: '5400',
      released: '0',
      to_winner: '8640',
      to_treasury: '5760',
    });
    // Forfeited: counter-bond 2,000 + contribution stake 5,000 + locked 5,400 + 10 % of the 20,000
    // contributor stake (taken from the unbonding entry) = 14,400; 60 % = 8,640 to the challenger.
    w.move('chal', 3_000n + 8_640n);
    expect(await w.chain.balance(STAKING_POOL)).toBe(18_000n);
    expect(await w.stake('ada')).toEqual({ bonded: 0n, unbonding: 18_000n });
    const c = (await readContribution(w.state(), w.adaC))!;
    expect(c).toMatchObject({ status: ContributionStatus.struck, locked: 0n, dispute_id: 0, vested: false });
    expect(await w.chain.balance(DATANET_ESCROW)).toBe(2_000n); // Ben's stake only
    expect(await w.claimable('ada')).toBe(0n);
    const d = (await readDispute(w.state(), id))!;
    expect(d).toMatchObject({ slashed: 7_000n, clawed_back: 5_400n, to_winner: 8_640n, to_treasury: 5_760n });
    // Pool: Ben's locked 1,800 + Pia's claimable 10,800.
    w.gainTreasury(5_760n);
    await w.check(0n, 1_800n + 10_800n);

    // From now on D1 pays Ben alone.
    await w.pay(w.m1);
    expect((await readContribution(w.state(), w.benC))!.locked).toBe(1_800n + 3_600n);
    const view = (await w.chain.query('dispute_get', { id })) as { status: string; counterBond: string };
    expect(view).toMatchObject({ status: 'upheld', counterBond: '2000' });
  });

  it('rejected on a tie: the challenger loses the bond; vesting that fell due during the dispute happens at resolution', async () => {
    const w = await world();
    await w.pay(w.m1);
    await w.run('ben', bondTx, { role: 'contributor', amount: 8_000n });
    w.move('ben', -8_000n);
    const benC = (await readContribution(w.state(), w.benC))!;
    // Open 2 blocks before Ben's window ends: the vesting block passes while the dispute is open.
    while (w.chain.app.height < benC.vest_height - 3) await w.chain.block([]);
    const opened = await w.run(
      'chal',
      openDisputeTx,
      openMsg(DisputeTarget.contribution, w.benC, DisputeReason.nearDuplicate, 3_000n),
    );
    const id = Number(attr(opened, 'dispute_opened', 'dispute_id'));
    const resolveHeight = Number(attr(opened, 'dispute_opened', 'resolve_height'));
    expect(resolveHeight).toBeGreaterThan(benC.vest_height);
    w.move('chal', -3_000n);
    attr(
      await w.run('ben', respondDisputeTx, { dispute_id: id, evidence_hash: h('ben answer'), counter_bond: 1_000n }),
      'dispute_answered',
      'counter_bond',
    );
    w.move('ben', -1_000n);
    attr(await w.run('cur1', voteDisputeTx, { dispute_id: id, uphold: true }), 'dispute_voted', 'voter');
    attr(await w.run('cur2', voteDisputeTx, { dispute_id: id, uphold: false }), 'dispute_voted', 'voter');
    while (w.chain.app.height < benC.vest_height + 1) await w.chain.block([]);
    // Ada's contribution vested on time (same window, accepted earlier); Ben's waits.
    expect((await readContribution(w.state(), w.adaC))!.vested).toBe(true);
    w.move('ada', 5_000n);
    expect((await readContribution(w.state(), w.benC))!).toMatchObject({ vested: false, locked: 900n, dispute_id: id });
    expect(await w.claimable('ben')).toBe(0n);
    await w.check(4_000n, 9_000n);
    while (w.chain.app.height < resolveHeight) await w.chain.block([]);
    // A tie keeps the status quo: rejected. Ben gets his counter-bond and 60 % of the 3,000 bond.
    w.move('ben', 1_000n + 1_800n + 2_000n); // counter-bond, winner's share, stake returned by vesting
    expect((await readContribution(w.state(), w.benC))!).toMatchObject({ vested: true, locked: 0n, dispute_id: 0 });
    expect(await w.claimable('ben')).toBe(900n);
    expect(await w.claimable('ada')).toBe(2_700n);
    expect(await w.stake('ben')).toEqual({ bonded: 8_000n, unbonding: 0n });
    expect(await w.chain.balance(STAKING_POOL)).toBe(8_000n);
    expect((await readDispute(w.state(), id))!).toMatchObject({ status: 3, to_winner: 1_800n, to_treasury: 1_200n });
    w.gainTreasury(1_200n);
    await w.check(0n, 9_000n);
    attr(await w.run('ben', claimTx, { agent_id: 0 }), 'rewards_claimed', 'amount');
    w.move('ben', 900n);
    await w.check(0n, 8_100n);
    // Closed: no more answers or votes.
    expect((await w.run('cur1', voteDisputeTx, { dispute_id: id, uphold: true })).error_code).toBe('dispute/closed');
    // A vested contribution is no longer disputable.
    const late = await w.run(
      'chal',
      openDisputeTx,
      openMsg(DisputeTarget.contribution, w.benC, DisputeReason.poisoned, 3_000n),
    );
    expect(late.error_code).toBe('dispute/not_disputable');
  });
});

describe('disputes against a model version (voted by the validators)', () => {
  it("rejected: the version's held earnings, from its own payments and its derivative's, are released to its owner", async () => {
    const w = await world();
    const opened = await w.run(
      'chal',
      openDisputeTx,
      openMsg(DisputeTarget.modelVersion, w.m1, DisputeReason.falseLineage, 1_000n),
    );
    const id = Number(attr(opened, 'dispute_opened', 'dispute_id'));
    const resolveHeight = Number(attr(opened, 'dispute_opened', 'resolve_height'));
    w.move('chal', -1_000n);
    await w.pay(w.m1); // Pia's 5,400 held
    await w.pay(w.m2); // what M2 passes to M1: Pia's 1,620 held; Quinn's 6,300 claimable
    expect((await readDispute(w.state(), id))!.held).toBe(7_020n);
    expect(await w.claimable('pia')).toBe(0n);
    expect(await w.claimable('quinn')).toBe(6_300n);
    // Pool: contributions' locked 3,600 + 1,080, Quinn's 6,300.
    await w.check(1_000n + 7_020n, 4_680n + 6_300n);
    // Only validators vote here; the curators do not.
    expect((await w.run('cur1', voteDisputeTx, { dispute_id: id, uphold: true })).error_code).toBe('dispute/not_voter');
    attr(
      await w.run('pia', respondDisputeTx, { dispute_id: id, evidence_hash: h('pia answer'), counter_bond: 4_000n }),
      'dispute_answered',
      'counter_bond',
    );
    w.move('pia', -4_000n);
    attr(await w.run('validator', voteDisputeTx, { dispute_id: id, uphold: false }), 'dispute_voted', 'voter');
    while (w.chain.app.height < resolveHeight) await w.chain.block([]);
    // Pia: counter-bond back, 600 of the 1,000 bond; treasury 400; held 7,020 claimable.
    w.move('pia', 4_000n + 600n);
    expect(await w.claimable('pia')).toBe(7_020n);
    expect((await readEarnings(w.state(), addr(w.keys.pia))).refined).toBe(7_020n);
    w.gainTreasury(400n);
    await w.check(0n, 4_680n + 6_300n + 7_020n);
    const model = (await w.chain.query('model_get', { id: w.m1 })) as { flaggedByDispute: number | null };
    expect(model.flaggedByDispute).toBeNull();
    // The next payment is Pia's again at once.
    await w.pay(w.m1);
    expect(await w.claimable('pia')).toBe(7_020n + 5_400n);
  });

  it('upheld without an answer: the held earnings are clawed back 60/40 and the version is flagged', async () => {
    const w = await world();
    const opened = await w.run(
      'chal',
      openDisputeTx,
      openMsg(DisputeTarget.modelVersion, w.m1, DisputeReason.falseLineage, 2_000n),
    );
    const id = Number(attr(opened, 'dispute_opened', 'dispute_id'));
    const resolveHeight = Number(attr(opened, 'dispute_opened', 'resolve_height'));
    w.move('chal', -2_000n);
    await w.pay(w.m2); // Pia's 1,620 held
    attr(await w.run('validator', voteDisputeTx, { dispute_id: id, uphold: true }), 'dispute_voted', 'voter');
    while (w.chain.app.height < resolveHeight) await w.chain.block([]);
    // Forfeited: no counter-bond, held 1,620 -> challenger 972 + bond back, treasury 648.
    w.move('chal', 2_000n + 972n);
    expect((await readDispute(w.state(), id))!).toMatchObject({
      status: 2,
      clawed_back: 1_620n,
      to_winner: 972n,
      to_treasury: 648n,
    });
    expect(await w.claimable('pia')).toBe(0n);
    w.gainTreasury(648n);
    await w.check(0n, 1_080n + 6_300n);
    const model = (await w.chain.query('model_get', { id: w.m1 })) as { flaggedByDispute: number | null };
    expect(model.flaggedByDispute).toBe(id);
    // Its derivative M2 carries the finding.
    const derivative = (await w.chain.query('model_get', { id: w.m2 })) as { flaggedAncestors: unknown };
    expect(derivative.flaggedAncestors).toEqual([{ versionId: w.m1, disputeId: id }]);
    const again = await w.run(
      'chal',
      openDisputeTx,
      openMsg(DisputeTarget.modelVersion, w.m1, DisputeReason.falseLineage, 2_000n),
    );
    expect(again.error_code).toBe('dispute/not_disputable');
    const list = (await w.chain.query('dispute_list', {
      targetKind: 'model_version',
      targetId: w.m1,
      status: 'upheld',
    })) as {
      disputes: { id: number }[];
      nextCursor: string | null;
    };
    expect(list).toEqual({ disputes: [expect.objectContaining({ id })], nextCursor: null });
  });

  it('refuses an unknown target and a reason that does not fit the kind, moving nothing', async () => {
    const w = await world();
    const r = await w.run(
      'chal',
      openDisputeTx,
      openMsg(DisputeTarget.agentAction, 9, DisputeReason.misconduct, 2_000n),
    );
    expect(r.error_code).toBe('dispute/target_not_found');
    expect(() =>
      openDisputeTx.validateBasic(openMsg(DisputeTarget.agentAction, 1, DisputeReason.poisoned, 2_000n)),
    ).toThrowError(expect.objectContaining({ code: 'dispute/invalid' }));
    expect(() =>
      openDisputeTx.validateBasic(openMsg(DisputeTarget.modelVersion, 1, DisputeReason.falseLineage, 2_000n, 3)),
    ).toThrowError(expect.objectContaining({ code: 'dispute/invalid' }));
    await w.check(0n, 0n);
  });
});

describe('disputes against an attribution record (voted by the validators)', () => {
  /** Pia's declared record for M1: the datanet share half to Ada's contribution, half to Ben's. */
  async function withRecord() {
    const w = await world();
    const rec = Number(
      attr(
        await w.run('pia', recordAttributionTx, {
          model_version_id: w.m1,
          request_hash: new Uint8Array(0),
          method: AttributionMethod.declared,
          weights_hash: new Uint8Array(0),
          index_root: new Uint8Array(0),
          output_hash: new Uint8Array(0),
          seed: new Uint8Array(0),
          weights: [
            { kind: TargetKind.contribution, id: w.adaC, bps: 5_000 },
            { kind: TargetKind.contribution, id: w.benC, bps: 5_000 },
          ],
        }),
        'attribution_recorded',
        'attribution_id',
      ),
    );
    const opened = await w.run(
      'chal',
      openDisputeTx,
      openMsg(DisputeTarget.attributionRecord, rec, DisputeReason.unsupportedWeights, 2_000n),
    );
    w.move('chal', -2_000n);
    const id = Number(attr(opened, 'dispute_opened', 'dispute_id'));
    const resolveHeight = Number(attr(opened, 'dispute_opened', 'resolve_height'));
    // While disputed its weights steer nothing: a payment naming it is refused (only the fee moves);
    // a payment without it splits by size as usual.
    expect((await w.run('payer', payTx, payment(w.m1, rec))).error_code).toBe('attribution/disputed');
    await w.pay(w.m1);
    await w.check(2_000n, 9_000n);
    attr(
      await w.run('pia', respondDisputeTx, { dispute_id: id, evidence_hash: h('pia weights'), counter_bond: 1_000n }),
      'dispute_answered',
      'counter_bond',
    );
    w.move('pia', -1_000n);
    return { w, rec, id, resolveHeight };
  }

  it('upheld: the record is flagged for good; the counter-bond goes 60/40 to the challenger and treasury', async () => {
    const { w, rec, id, resolveHeight } = await withRecord();
    attr(await w.run('validator', voteDisputeTx, { dispute_id: id, uphold: true }), 'dispute_voted', 'voter');
    while (w.chain.app.height < resolveHeight) await w.chain.block([]);
    w.move('chal', 2_000n + 600n);
    w.gainTreasury(400n);
    await w.check(0n, 9_000n);
    expect((await readDispute(w.state(), id))!).toMatchObject({
      status: 2,
      to_winner: 600n,
      to_treasury: 400n,
      slashed: 0n,
    });
    expect((await w.run('payer', payTx, payment(w.m1, rec))).error_code).toBe('attribution/flagged');
    const view = (await w.chain.query('attribution_get', { id: rec })) as { flaggedByDispute: number | null };
    expect(view.flaggedByDispute).toBe(id);
    await w.check(0n, 9_000n);
  });

  it('rejected without votes: the record steers payments again; the bond goes 60/40 to its author and treasury', async () => {
    const { w, rec, id, resolveHeight } = await withRecord();
    while (w.chain.app.height < resolveHeight) await w.chain.block([]);
    w.move('pia', 1_000n + 1_200n);
    w.gainTreasury(800n);
    await w.check(0n, 9_000n);
    expect((await readDispute(w.state(), id))!).toMatchObject({
      status: 3,
      votes_uphold: 0,
      votes_reject: 0,
      to_winner: 1_200n,
    });
    // M1 10,000: datanet share 3,600 re-split by the record: Ada 1,800, Ben 1,800 (locked, window 40).
    await w.pay(w.m1, rec);
    expect((await readContribution(w.state(), w.adaC))!.locked).toBe(2_700n + 1_800n);
    expect((await readContribution(w.state(), w.benC))!.locked).toBe(900n + 1_800n);
    await w.check(0n, 18_000n);
  });
});

describe('disputes against an agent action (voted by the validators)', () => {
  /*
   * Quinn's agent on M2 takes a 10 % fee; Quinn bonds 10,000 of agent stake. A payment of 10,000
   * for M2 naming the agent: validators 500, treasury 500, agent 1,000 (held while disputed),
   * Quinn 5,600, Pia 1,440, Ada 720 and Ben 240 (locked).
   */
  async function withAgent() {
    const w = await world();
    const agent = Number(
      attr(
        await w.run('quinn', registerAgentTx, {
          name: 'q-agent',
          controllers: [],
          model_version_id: w.m2,
          fee_bps: 1_000,
          spend_limit: 0n,
          stake: 0n,
        }),
        'agent_registered',
        'agent_id',
      ),
    );
    await w.run('quinn', bondTx, { role: 'agent', amount: 10_000n });
    w.move('quinn', -10_000n);
    attr(
      await w.run('quinn', actTx, {
        agent_id: agent,
        kind: 'plan',
        model_version_id: w.m2,
        input_hash: h('in'),
        output_hash: new Uint8Array(0),
        prev_action_hash: new Uint8Array(0),
        payment: undefined,
      }),
      'agent_acted',
      'action_hash',
    );
    const missing = await w.run(
      'chal',
      openDisputeTx,
      openMsg(DisputeTarget.agentAction, agent, DisputeReason.misconduct, 2_000n, 1),
    );
    expect(missing.error_code).toBe('dispute/target_not_found');
    const opened = await w.run(
      'chal',
      openDisputeTx,
      openMsg(DisputeTarget.agentAction, agent, DisputeReason.misconduct, 2_000n, 0),
    );
    w.move('chal', -2_000n);
    const id = Number(attr(opened, 'dispute_opened', 'dispute_id'));
    const resolveHeight = Number(attr(opened, 'dispute_opened', 'resolve_height'));
    const paid = await w.run('payer', payTx, { ...payment(w.m2), agent_id: agent });
    attr(paid, 'inference_paid', 'payment_id');
    w.move('payer', -PRICE);
    w.move('validator', PRICE / 20n);
    w.gainTreasury(PRICE / 20n);
    expect((await readDispute(w.state(), id))!).toMatchObject({ held: 1_000n, stake_at_open: 10_000n, target_seq: 0 });
    expect((await readEarnings(w.state(), agentAccount(agent))).claimable).toBe(0n);
    await w.check(2_000n + 1_000n, 8_000n);
    return { w, agent, id, resolveHeight };
  }

  it("upheld: the agent's held fee, its counter-bond and 10 % of its owner's agent stake go 60/40; the agent is flagged", async () => {
    const { w, agent, id, resolveHeight } = await withAgent();
    attr(
      await w.run('quinn', respondDisputeTx, { dispute_id: id, evidence_hash: h('q'), counter_bond: 1_000n }),
      'dispute_answered',
      'counter_bond',
    );
    w.move('quinn', -1_000n);
    attr(await w.run('validator', voteDisputeTx, { dispute_id: id, uphold: true }), 'dispute_voted', 'voter');
    while (w.chain.app.height < resolveHeight) await w.chain.block([]);
    // Forfeited: counter-bond 1,000 + held fee 1,000 + slash 1,000 = 3,000 -> challenger 1,800, treasury 1,200.
    w.move('chal', 2_000n + 1_800n);
    w.gainTreasury(1_200n);
    await w.check(0n, 8_000n);
    expect((await readDispute(w.state(), id))!).toMatchObject({
      status: 2,
      slashed: 1_000n,
      clawed_back: 1_000n,
      to_winner: 1_800n,
    });
    expect(await w.chain.balance(STAKING_POOL)).toBe(9_000n);
    const view = (await w.chain.query('agent_get', { id: agent })) as { flaggedByDispute: number | null };
    expect(view.flaggedByDispute).toBe(id);
    const listed = (await w.chain.query('dispute_get', { id })) as { target: unknown };
    expect(listed.target).toEqual({ kind: 'agent_action', id: agent, seq: 0 });
  });

  it("rejected: the held fee becomes the agent's claimable reward; the owner's stake is untouched", async () => {
    const { w, agent, id, resolveHeight } = await withAgent();
    attr(await w.run('validator', voteDisputeTx, { dispute_id: id, uphold: false }), 'dispute_voted', 'voter');
    while (w.chain.app.height < resolveHeight) await w.chain.block([]);
    // Unanswered and rejected: the owner (the respondent) gets 60 % of the 2,000 bond.
    w.move('quinn', 1_200n);
    w.gainTreasury(800n);
    await w.check(0n, 9_000n);
    expect((await readEarnings(w.state(), agentAccount(agent))).claimable).toBe(1_000n);
    expect(await w.chain.balance(STAKING_POOL)).toBe(10_000n);
    const view = (await w.chain.query('agent_get', { id: agent })) as { flaggedByDispute: number | null };
    expect(view.flaggedByDispute).toBeNull();
  });
});
