import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { actTx, registerAgentTx } from '../../src/attribution/agent.ts';
import { contributeTx, createDatanetTx, reviewTx } from '../../src/attribution/datanet.ts';
import { payTx } from '../../src/attribution/inference.ts';
import { publishModelTx, registerModelTx } from '../../src/attribution/model.ts';
import { recordAttributionTx } from '../../src/attribution/record.ts';
import { claimTx } from '../../src/attribution/rewards.ts';
import {
  AttributionMethod,
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
import { transferTx } from '../../src/state/bank/module.ts';
import { TestChain } from '../helpers/test-chain.ts';

/*
 * The AI-economy transactions on the real application: bad input for every type (a coded error and
 * nothing changed beyond fee and nonce), and random lineages paid through real blocks with supply
 * and every module invariant checked after each block.
 */

const FEE = 100_000n;
const h = (s: string): Uint8Array => sha256(utf8.encode(s));
const addr = (k: SigningKey): Address => addressFromPublicKey(k.publicKey);

function attr(r: Receipt, type: string, key: string): string {
  expect(r.error_code).toBe('');
  const ev = r.events.find((e) => e.type === type);
  const a = ev?.attributes.find((x) => x.key === key);
  if (!a) throw new Error(`no ${type}.${key} in receipt`);
  return a.value;
}

class World {
  chain!: TestChain;

  static async create(keys: SigningKey[], modules?: Record<string, unknown>): Promise<World> {
    const w = new World();
    w.chain = await TestChain.create({
      funded: keys.map((key) => ({ key, balance: 10n ** 30n })),
      params: modules ? { modules } : undefined,
    });
    return w;
  }

  async datanet(
    owner: SigningKey,
    opts: { curators?: Address[]; minStake?: bigint; window?: number } = {},
  ): Promise<number> {
    const r = await this.chain.run(
      this.chain.sign(
        owner,
        createDatanetTx,
        {
          name: 'd',
          metadata_hash: h('meta'),
          licence: 'CC-BY-4.0',
          curators: opts.curators ?? [],
          min_stake: opts.minStake ?? 0n,
          challenge_window: opts.window ?? 0,
        },
        FEE,
      ),
    );
    return Number(attr(r, 'datanet_created', 'datanet_id'));
  }

  async contribute(who: SigningKey, datanetId: number, content: string, size = 100, stake = 0n): Promise<Receipt> {
    return this.chain.run(
      this.chain.sign(
        who,
        contributeTx,
        { datanet_id: datanetId, content_hash: h(content), size, uri: `ipfs://${content}`, stake },
        FEE,
      ),
    );
  }

  async accepted(
    who: SigningKey,
    reviewer: SigningKey,
    datanetId: number,
    content: string,
    size = 100,
    stake = 0n,
  ): Promise<number> {
    const id = Number(
      attr(await this.contribute(who, datanetId, content, size, stake), 'contribution_submitted', 'contribution_id'),
    );
    const r = await this.chain.run(this.chain.sign(reviewer, reviewTx, { contribution_id: id, accept: true }, FEE));
    attr(r, 'contribution_accepted', 'version');
    return id;
  }

  async family(owner: SigningKey): Promise<number> {
    const r = await this.chain.run(
      this.chain.sign(owner, registerModelTx, { name: 'fam', metadata_hash: new Uint8Array(0) }, FEE),
    );
    return Number(attr(r, 'model_registered', 'family_id'));
  }

  publishMsg(family: number, parents: { kind: number; id: number; share_bps: number }[], relation?: number) {
    const hasModel = parents.some((p) => p.kind === EdgeKind.model);
    return {
      family_id: family,
      weights_hash: h(`w${Math.random()}`),
      config_hash: new Uint8Array(0),
      recipe_hash: new Uint8Array(0),
      relation:
        relation ??
        (parents.filter((p) => p.kind === EdgeKind.model).length > 1
          ? Relation.merge
          : hasModel
            ? Relation.finetune
            : Relation.base),
      parents,
    };
  }

  async publish(
    owner: SigningKey,
    family: number,
    parents: { kind: number; id: number; share_bps: number }[],
  ): Promise<number> {
    const r = await this.chain.run(this.chain.sign(owner, publishModelTx, this.publishMsg(family, parents), FEE));
    return Number(attr(r, 'model_published', 'version_id'));
  }

  payMsg(version: number, amount: bigint, extra: { agent?: number; attribution?: number; request?: string } = {}) {
    return {
      model_version_id: version,
      amount,
      request_hash: h(extra.request ?? `req${Math.random()}`),
      response_hash: new Uint8Array(0),
      agent_id: extra.agent ?? 0,
      attribution_id: extra.attribution ?? 0,
    };
  }
}

/** Runs a tx expected to fail: checks its code and that only the sender's fee and nonce moved. */
async function expectRejected(w: World, key: SigningKey, tx: Uint8Array, code: string): Promise<void> {
  const before = await w.chain.snapshot();
  const balanceBefore = await w.chain.balance(addr(key));
  const r = await w.chain.run(tx);
  expect(r.failed).toBe(true);
  expect(r.error_code).toBe(code);
  expect(await w.chain.balance(addr(key))).toBe(balanceBefore - r.fee);
  const after = await w.chain.snapshot();
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
  // Exactly two accounts may differ: the sender (fee, nonce) and the validator (received the fee).
  const bankAcct = Buffer.from('bank/acct/').toString('hex');
  expect(changed.filter((k) => !k.startsWith(bankAcct)).map((k) => Buffer.from(k, 'hex').toString('latin1'))).toEqual(
    [],
  );
  expect(changed.length).toBeLessThanOrEqual(2);
}

describe('bad input: each a coded error, nothing changed but fee and nonce', () => {
  const [owner, curator, alice, bob, publisher, stranger, agentOwner] = Array.from({ length: 7 }, () =>
    SigningKey.generate(),
  ) as SigningKey[] as [SigningKey, SigningKey, SigningKey, SigningKey, SigningKey, SigningKey, SigningKey];
  let w: World;
  let d1: number, d2: number, cAlice: number, cOther: number, fam: number, m1: number, m2: number, agent: number;

  beforeAll(async () => {
    w = await World.create([owner, curator, alice, bob, publisher, stranger, agentOwner], {
      agent: { epochBlocks: 1000 },
      datanet: { maxCurators: 2 },
    });
    d1 = await w.datanet(owner, { curators: [addr(curator)], minStake: 10n, window: 3 });
    d2 = await w.datanet(owner);
    cAlice = await w.accepted(alice, curator, d1, 'alice-data', 100, 10n);
    cOther = await w.accepted(bob, owner, d2, 'bob-data', 50);
    fam = await w.family(publisher);
    m1 = await w.publish(publisher, fam, [{ kind: EdgeKind.datanet, id: d1, share_bps: 3000 }]);
    m2 = await w.publish(publisher, fam, [{ kind: EdgeKind.model, id: m1, share_bps: 5000 }]);
    const r = await w.chain.run(
      w.chain.sign(
        agentOwner,
        registerAgentTx,
        { name: 'a', controllers: [], model_version_id: m2, fee_bps: 100, spend_limit: 1000n, stake: 0n },
        FEE,
      ),
    );
    agent = Number(attr(r, 'agent_registered', 'agent_id'));
    await w.chain.run(w.chain.sign(agentOwner, transferTx, { to: agentAccount(agent), amount: 1_000_000n }, FEE));
    for (let i = 0; i < 4; i++) await w.chain.block([]); // let alice's challenge window pass
  });

  it('datanet/contribute: duplicate content names the original', async () => {
    const before = await w.chain.snapshot();
    const r = await w.contribute(bob, d2, 'alice-data', 100);
    expect(r.error_code).toBe('datanet/duplicate_content');
    expect(r.error_message).toContain(`contribution ${cAlice}`);
    expect((await w.chain.snapshot()).size).toBe(before.size);
    await expectRejected(
      w,
      bob,
      w.chain.sign(
        bob,
        contributeTx,
        { datanet_id: d1, content_hash: h('alice-data'), size: 1, uri: '', stake: 10n },
        FEE,
      ),
      'datanet/duplicate_content',
    );
  });

  it('datanet/contribute: stake below the minimum, unknown datanet', async () => {
    await expectRejected(
      w,
      bob,
      w.chain.sign(bob, contributeTx, { datanet_id: d1, content_hash: h('x1'), size: 1, uri: '', stake: 9n }, FEE),
      'datanet/stake_too_low',
    );
    await expectRejected(
      w,
      bob,
      w.chain.sign(bob, contributeTx, { datanet_id: 99, content_hash: h('x1'), size: 1, uri: '', stake: 9n }, FEE),
      'datanet/not_found',
    );
  });

  it('datanet/review: unauthorised reviewer, not pending, and a pending copy', async () => {
    const id = Number(
      attr(await w.contribute(bob, d1, 'bob-pending', 10, 10n), 'contribution_submitted', 'contribution_id'),
    );
    await expectRejected(
      w,
      stranger,
      w.chain.sign(stranger, reviewTx, { contribution_id: id, accept: true }, FEE),
      'datanet/unauthorized',
    );
    await expectRejected(
      w,
      curator,
      w.chain.sign(curator, reviewTx, { contribution_id: cAlice, accept: true }, FEE),
      'datanet/not_pending',
    );
    // Two pending copies: the first accepted wins, the second cannot be accepted.
    const a = Number(attr(await w.contribute(alice, d1, 'twin', 10, 10n), 'contribution_submitted', 'contribution_id'));
    const b = Number(attr(await w.contribute(bob, d2, 'twin', 10), 'contribution_submitted', 'contribution_id'));
    expect(
      (await w.chain.run(w.chain.sign(curator, reviewTx, { contribution_id: a, accept: true }, FEE))).error_code,
    ).toBe('');
    await expectRejected(
      w,
      owner,
      w.chain.sign(owner, reviewTx, { contribution_id: b, accept: true }, FEE),
      'datanet/duplicate_content',
    );
    // Rejecting returns the stake.
    const before = await w.chain.balance(addr(bob));
    const r = await w.chain.run(w.chain.sign(curator, reviewTx, { contribution_id: id, accept: false }, FEE));
    expect(r.error_code).toBe('');
    expect(await w.chain.balance(addr(bob))).toBe(before + 10n);
    for (let i = 0; i < 4; i++) await w.chain.block([]); // the twin's window passes
  });

  it('model/publish: unknown parent, cycle attempt, shares over the cap, bad relation, not the owner', async () => {
    await expectRejected(
      w,
      publisher,
      w.chain.sign(
        publisher,
        publishModelTx,
        w.publishMsg(fam, [
          { kind: EdgeKind.model, id: m1, share_bps: 100 },
          { kind: EdgeKind.datanet, id: 77, share_bps: 100 },
        ]),
        FEE,
      ),
      'model/unknown_parent',
    );
    // The version being published would get id m2 + 1; naming it (or anything newer) as a parent is a cycle attempt.
    await expectRejected(
      w,
      publisher,
      w.chain.sign(
        publisher,
        publishModelTx,
        w.publishMsg(fam, [{ kind: EdgeKind.model, id: m2 + 1, share_bps: 100 }]),
        FEE,
      ),
      'model/cycle',
    );
    await expectRejected(
      w,
      publisher,
      w.chain.sign(
        publisher,
        publishModelTx,
        w.publishMsg(fam, [
          { kind: EdgeKind.model, id: m1, share_bps: 6000 },
          { kind: EdgeKind.datanet, id: d2, share_bps: 3001 },
        ]),
        FEE,
      ),
      'model/shares_over_cap',
    );
    await expectRejected(
      w,
      stranger,
      w.chain.sign(
        stranger,
        publishModelTx,
        w.publishMsg(fam, [{ kind: EdgeKind.model, id: m1, share_bps: 100 }]),
        FEE,
      ),
      'model/unauthorized',
    );
    expect(() =>
      w.chain.sign(
        publisher,
        publishModelTx,
        w.publishMsg(fam, [{ kind: EdgeKind.datanet, id: d1, share_bps: 100 }], Relation.finetune),
        FEE,
      ),
    ).toThrowError(expect.objectContaining({ code: 'model/bad_relation' }));
    expect(() =>
      w.chain.sign(
        publisher,
        publishModelTx,
        w.publishMsg(
          fam,
          Array.from({ length: 17 }, (_, i) => ({ kind: EdgeKind.datanet, id: i + 1, share_bps: 1 })),
        ),
        FEE,
      ),
    ).toThrowError(expect.objectContaining({ code: 'model/too_many_parents' }));
  });

  it('attribution/record: weights not summing to 10,000, target outside the closure, not the owner', async () => {
    const msg = (weights: { kind: number; id: number; bps: number }[], version = m2) => ({
      model_version_id: version,
      request_hash: new Uint8Array(0),
      method: AttributionMethod.trak,
      weights_hash: h('trak-weights'),
      index_root: new Uint8Array(0),
      output_hash: new Uint8Array(0),
      seed: h('seed'),
      weights,
    });
    expect(() =>
      w.chain.sign(
        publisher,
        recordAttributionTx,
        msg([{ kind: TargetKind.contribution, id: cAlice, bps: 9999 }]),
        FEE,
      ),
    ).toThrowError(expect.objectContaining({ code: 'attribution/weights_sum' }));
    await expectRejected(
      w,
      publisher,
      w.chain.sign(
        publisher,
        recordAttributionTx,
        msg([{ kind: TargetKind.contribution, id: cOther, bps: 10_000 }]),
        FEE,
      ),
      'attribution/outside_lineage',
    );
    await expectRejected(
      w,
      publisher,
      w.chain.sign(publisher, recordAttributionTx, msg([{ kind: TargetKind.datanet, id: d2, bps: 10_000 }]), FEE),
      'attribution/outside_lineage',
    );
    await expectRejected(
      w,
      stranger,
      w.chain.sign(stranger, recordAttributionTx, msg([{ kind: TargetKind.datanet, id: d1, bps: 10_000 }]), FEE),
      'attribution/unauthorized',
    );
  });

  it('inference/pay: unknown model, record of another model, balance too low, fee not covering the walk', async () => {
    await expectRejected(
      w,
      stranger,
      w.chain.sign(stranger, payTx, w.payMsg(999, 100n), FEE),
      'inference/model_not_found',
    );
    const r = await w.chain.run(
      w.chain.sign(
        publisher,
        recordAttributionTx,
        {
          model_version_id: m1,
          request_hash: new Uint8Array(0),
          method: AttributionMethod.declared,
          weights_hash: new Uint8Array(0),
          index_root: new Uint8Array(0),
          output_hash: new Uint8Array(0),
          seed: new Uint8Array(0),
          weights: [{ kind: TargetKind.datanet, id: d1, bps: 10_000 }],
        },
        FEE,
      ),
    );
    const rec = Number(attr(r, 'attribution_recorded', 'attribution_id'));
    await expectRejected(
      w,
      stranger,
      w.chain.sign(stranger, payTx, w.payMsg(m2, 100n, { attribution: rec }), FEE),
      'attribution/wrong_model',
    );
    await expectRejected(
      w,
      stranger,
      w.chain.sign(stranger, payTx, w.payMsg(m2, 10n ** 31n), FEE),
      'bank/insufficient_funds',
    );
    await expectRejected(w, stranger, w.chain.sign(stranger, payTx, w.payMsg(m2, 100n), 1000n), 'tx/fee_too_low');
  });

  it('agent: over the spend limit, broken chain, unauthorised, fee over the cap', async () => {
    const act = (amount: bigint | undefined, prev = new Uint8Array(0)) => ({
      agent_id: agent,
      kind: 'inference',
      model_version_id: m2,
      input_hash: h(`in${Math.random()}`),
      output_hash: new Uint8Array(0),
      prev_action_hash: prev,
      payment:
        amount === undefined
          ? undefined
          : { amount, request_hash: h(`rq${Math.random()}`), response_hash: new Uint8Array(0), attribution_id: 0 },
    });
    await expectRejected(w, agentOwner, w.chain.sign(agentOwner, actTx, act(1001n), FEE), 'agent/spend_limit');
    const ok = await w.chain.run(w.chain.sign(agentOwner, actTx, act(600n), FEE));
    const first = attr(ok, 'agent_acted', 'action_hash');
    await expectRejected(
      w,
      agentOwner,
      w.chain.sign(agentOwner, actTx, act(401n, Buffer.from(first, 'hex')), FEE),
      'agent/spend_limit',
    );
    await expectRejected(w, agentOwner, w.chain.sign(agentOwner, actTx, act(1n), FEE), 'agent/broken_chain');
    await expectRejected(
      w,
      stranger,
      w.chain.sign(stranger, actTx, act(undefined, Buffer.from(first, 'hex')), FEE),
      'agent/unauthorized',
    );
    await expectRejected(
      w,
      agentOwner,
      w.chain.sign(
        agentOwner,
        registerAgentTx,
        { name: 'b', controllers: [], model_version_id: m2, fee_bps: 2001, spend_limit: 0n, stake: 0n },
        FEE,
      ),
      'agent/fee_over_cap',
    );
    const second = await w.chain.run(w.chain.sign(agentOwner, actTx, act(400n, Buffer.from(first, 'hex')), FEE));
    expect(second.error_code).toBe('');
  });

  it('datanet/create, model/register, agent/register: limits and unknown references', async () => {
    await expectRejected(
      w,
      owner,
      w.chain.sign(
        owner,
        createDatanetTx,
        {
          name: 'big',
          metadata_hash: h('m'),
          licence: 'CC0',
          curators: [addr(alice), addr(bob), addr(curator)],
          min_stake: 0n,
          challenge_window: 0,
        },
        FEE,
      ),
      'datanet/too_many_curators',
    );
    await expectRejected(
      w,
      owner,
      w.chain.sign(
        owner,
        createDatanetTx,
        {
          name: 'slow',
          metadata_hash: h('m'),
          licence: 'CC0',
          curators: [],
          min_stake: 0n,
          challenge_window: 1_000_001,
        },
        FEE,
      ),
      'datanet/window_too_long',
    );
    expect(() =>
      w.chain.sign(
        owner,
        createDatanetTx,
        {
          name: 'x',
          metadata_hash: new Uint8Array(3),
          licence: 'CC0',
          curators: [],
          min_stake: 0n,
          challenge_window: 0,
        },
        FEE,
      ),
    ).toThrowError(expect.objectContaining({ code: 'datanet/invalid' }));
    expect(() =>
      w.chain.sign(publisher, registerModelTx, { name: '', metadata_hash: new Uint8Array(0) }, FEE),
    ).toThrowError(expect.objectContaining({ code: 'model/invalid' }));
    await expectRejected(
      w,
      agentOwner,
      w.chain.sign(
        agentOwner,
        registerAgentTx,
        { name: 'c', controllers: [], model_version_id: 999, fee_bps: 0, spend_limit: 0n, stake: 0n },
        FEE,
      ),
      'agent/model_not_found',
    );
    await expectRejected(
      w,
      agentOwner,
      w.chain.sign(
        agentOwner,
        registerAgentTx,
        { name: 'c', controllers: [], model_version_id: m1, fee_bps: 0, spend_limit: 0n, stake: 10n ** 31n },
        FEE,
      ),
      'bank/insufficient_funds',
    );
    await expectRejected(
      w,
      publisher,
      w.chain.sign(
        publisher,
        recordAttributionTx,
        {
          model_version_id: 999,
          request_hash: new Uint8Array(0),
          method: AttributionMethod.declared,
          weights_hash: new Uint8Array(0),
          index_root: new Uint8Array(0),
          output_hash: new Uint8Array(0),
          seed: new Uint8Array(0),
          weights: [{ kind: TargetKind.datanet, id: d1, bps: 10_000 }],
        },
        FEE,
      ),
      'attribution/not_found',
    );
  });

  it('rewards/claim: nothing to claim, not the agent owner', async () => {
    await expectRejected(
      w,
      stranger,
      w.chain.sign(stranger, claimTx, { agent_id: 0 }, FEE),
      'rewards/nothing_to_claim',
    );
    await expectRejected(
      w,
      stranger,
      w.chain.sign(stranger, claimTx, { agent_id: agent }, FEE),
      'rewards/unauthorized',
    );
  });
});

describe('random lineages through real blocks', () => {
  it('every payment conserves value; supply and invariants hold after every block', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(fc.record({ pick: fc.nat(), datanet: fc.boolean(), share: fc.integer({ min: 1, max: 2500 }) }), {
            maxLength: 3,
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.array(
          fc.oneof(
            fc.constant(1n),
            fc.bigInt({ min: 1n, max: 10n ** 9n }),
            fc.bigInt({ min: 10n ** 29n, max: 10n ** 29n + 1000n }),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        async (versions, amounts) => {
          const keys = Array.from({ length: 4 }, () => SigningKey.generate());
          const [owner, c1, c2, payer] = keys as [SigningKey, SigningKey, SigningKey, SigningKey];
          const w = await World.create(keys);
          const d1 = await w.datanet(owner, { window: 2 });
          const d2 = await w.datanet(owner);
          await w.accepted(c1, owner, d1, `a${Math.random()}`, 7);
          await w.accepted(c2, owner, d1, `b${Math.random()}`, 3);
          const fam = await w.family(owner);
          const ids: number[] = [];
          for (const v of versions) {
            const parents: { kind: number; id: number; share_bps: number }[] = [];
            for (const p of v) {
              const kind = p.datanet || ids.length === 0 ? EdgeKind.datanet : EdgeKind.model;
              const id = kind === EdgeKind.datanet ? (p.pick % 2 ? d1 : d2) : ids[p.pick % ids.length]!;
              if (!parents.some((q) => q.kind === kind && q.id === id)) parents.push({ kind, id, share_bps: p.share });
            }
            ids.push(await w.publish(owner, fam, parents));
          }
          const pool = await w.chain.balance(REWARDS_POOL);
          for (const [i, amount] of amounts.entries()) {
            const before = await w.chain.balance(addr(payer));
            const treasuryBefore = await w.chain.balance(TREASURY);
            const r = await w.chain.run(w.chain.sign(payer, payTx, w.payMsg(ids[i % ids.length]!, amount), FEE));
            expect(r.error_code + ' ' + r.error_message).toBe(' ');
            expect(await w.chain.balance(addr(payer))).toBe(before - amount - FEE);
            const trace = (await w.chain.query('attribution_trace', { paymentId: i + 1 })) as {
              legs: { amount: string; role: string }[];
            };
            const legSum = trace.legs.reduce((s, l) => s + BigInt(l.amount), 0n);
            expect(legSum).toBe(amount);
            const treasuryLeg = trace.legs
              .filter((l) => l.role === 'treasury')
              .reduce((s, l) => s + BigInt(l.amount), 0n);
            expect(await w.chain.balance(TREASURY)).toBe(treasuryBefore + treasuryLeg);
          }
          expect(await w.chain.balance(REWARDS_POOL)).toBeGreaterThanOrEqual(pool);
          // Empty blocks until every window has passed: the invariants still hold after vesting.
          await w.chain.block([]);
          await w.chain.block([]);
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe('caches inside one block', () => {
  it('a payment after an acceptance in the same block pays the new contribution', async () => {
    const [owner, a, b, payer] = Array.from({ length: 4 }, () => SigningKey.generate()) as [
      SigningKey,
      SigningKey,
      SigningKey,
      SigningKey,
    ];
    const w = await World.create([owner, a, b, payer]);
    const d = await w.datanet(owner);
    await w.accepted(a, owner, d, 'first', 100);
    const fam = await w.family(owner);
    const v = await w.publish(owner, fam, [{ kind: EdgeKind.datanet, id: d, share_bps: 5000 }]);
    const pending = Number(attr(await w.contribute(b, d, 'second', 100), 'contribution_submitted', 'contribution_id'));
    const block = await w.chain.block([
      w.chain.sign(payer, payTx, w.payMsg(v, 10_000n), FEE),
      w.chain.sign(owner, reviewTx, { contribution_id: pending, accept: true }, FEE),
      w.chain.sign(payer, payTx, w.payMsg(v, 10_000n), FEE),
    ]);
    expect(block.receipts.map((r) => r.error_code)).toEqual(['', '', '']);
    const contributed = async (id: number) =>
      (
        (await w.chain.query('attribution_trace', { paymentId: id })) as {
          legs: { role: string; node: { id: number } }[];
        }
      ).legs
        .filter((l) => l.role === 'contributed')
        .map((l) => l.node.id);
    expect(await contributed(1)).toEqual([pending - 1]);
    expect(await contributed(2)).toEqual([pending - 1, pending]);
    // Both payments' credits landed at the end of the block: 4,500 each to the datanet, split 1:1 in the second.
    const earned = (await w.chain.query('datanet_getContribution', { id: pending - 1 })) as {
      earned: string;
      paidCount: number;
    };
    expect(earned).toMatchObject({ earned: String(4_500 + 2_250), paidCount: 2 });
  });
});
