import { describe, expect, it } from 'vitest';
import { actTx, registerAgentTx } from '../../src/attribution/agent.ts';
import { contributeTx, createDatanetTx, reviewTx } from '../../src/attribution/datanet.ts';
import { publishModelTx, registerModelTx } from '../../src/attribution/model.ts';
import { recordAttributionTx } from '../../src/attribution/record.ts';
import { claimTx } from '../../src/attribution/rewards.ts';
import {
  AttributionMethod,
  EdgeKind,
  Relation,
  TREASURY,
  TargetKind,
  agentAccount,
} from '../../src/attribution/store.ts';
import type { Receipt } from '../../src/codec/core.ts';
import { addressFromPublicKey, formatAddress, type Address } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { fromHex, sha256, utf8 } from '../../src/crypto/hash.ts';
import { FEE_COLLECTOR } from '../../src/state/bank/keeper.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import type { TxDefinition } from '../../src/state/module.ts';
import { TestChain } from '../helpers/test-chain.ts';

/*
 * The story of one small AI supply chain, every account one role:
 *
 *   Ada and Ben contribute data to datanet D1 (run by Dora); Sam submits a copy of Ben's data and
 *   is turned away. Pia releases base model M1, trained on D1. Quinn fine-tunes M2 from M1 plus
 *   datanet D2 (run by Dino), which holds Cyd's data. Ria's agent runs M2 and pays for 100
 *   inferences of 10,000 units each: 60 plain, 20 under Quinn's declared attribution for M2, and 20
 *   each under its own per-request TRAK record. Then everyone's earnings are checked against the
 *   hand computation below, and the trace of each kind of payment explains every unit.
 *
 * Parameters: validators 5 %, treasury 5 %, agent fee 10 %.
 * Lineage: M2 keeps 50 %, gives M1 30 % and D2 20 %; M1 keeps 60 % and gives D1 40 %.
 * D1 splits by accepted size: Ada 300 bytes, Ben 100 bytes. D2: Cyd alone.
 *
 * One payment of 10,000:
 *   validators 500, treasury 500, agent 1,000, model 8,000
 *   M2 8,000 -> Quinn 4,000, M1 2,400, D2 1,600
 *   M1 2,400 -> Pia 1,440, D1 960
 *   plain:          D1 960 -> Ada 720, Ben 240;   D2 1,600 -> Cyd 1,600
 *   declared (M2):  datanet share 2,560 re-split Ada 50 % / Cyd 50 %   -> Ada 1,280, Cyd 1,280
 *   TRAK (request): datanet share 2,560 re-split Ben 75 % / D2 25 %    -> Ben 1,920, Cyd 640
 */

const PRICE = 10_000n;
const FEE = 10_000n;
const h = (s: string): Uint8Array => sha256(utf8.encode(s));
const addr = (k: SigningKey): Address => addressFromPublicKey(k.publicKey);

function attr(r: Receipt, type: string, key: string): string {
  expect(r.error_code).toBe('');
  const value = r.events.find((e) => e.type === type)?.attributes.find((a) => a.key === key)?.value;
  if (value === undefined) throw new Error(`no ${type}.${key}`);
  return value;
}

describe('scenario: data to models to an agent, and the money flowing back', () => {
  it('pays every contributor, refiner and executor exactly what the hand computation says', async () => {
    const [dora, dino, ada, ben, cyd, sam, pia, quinn, ria] = Array.from({ length: 9 }, () =>
      SigningKey.generate(),
    ) as [SigningKey, SigningKey, SigningKey, SigningKey, SigningKey, SigningKey, SigningKey, SigningKey, SigningKey];
    const chain = await TestChain.create({
      funded: [dora, dino, ada, ben, cyd, sam, pia, quinn, ria].map((key) => ({ key, balance: 10_000_000n })),
      params: {
        modules: {
          inference: { validatorBps: 500, treasuryBps: 500 },
          agent: { maxFeeBps: 2000, epochBlocks: 1_000_000 },
        },
      },
    });
    let txCount = 0;
    const run = async <M>(key: SigningKey, def: TxDefinition<M>, m: M): Promise<Receipt> => {
      txCount++;
      return chain.run(chain.sign(key, def, m, FEE));
    };

    // --- Data. D1 has a 150-block challenge window: its contributors' rewards stay locked meanwhile.
    const d1 = Number(
      attr(
        await run(dora, createDatanetTx, {
          name: 'D1 open prose',
          metadata_hash: h('D1'),
          licence: 'CC-BY-4.0',
          curators: [],
          min_stake: 1_000n,
          challenge_window: 150,
        }),
        'datanet_created',
        'datanet_id',
      ),
    );
    const d2 = Number(
      attr(
        await run(dino, createDatanetTx, {
          name: 'D2 medical QA',
          metadata_hash: h('D2'),
          licence: 'CC-BY-SA-4.0',
          curators: [],
          min_stake: 0n,
          challenge_window: 0,
        }),
        'datanet_created',
        'datanet_id',
      ),
    );
    const contribute = async (who: SigningKey, datanet: number, data: string, size: number, stake: bigint) =>
      run(who, contributeTx, { datanet_id: datanet, content_hash: h(data), size, uri: `ipfs://${data}`, stake });
    const adaC = Number(
      attr(await contribute(ada, d1, 'ada essays', 300, 1_000n), 'contribution_submitted', 'contribution_id'),
    );
    const benC = Number(
      attr(await contribute(ben, d1, 'ben letters', 100, 1_000n), 'contribution_submitted', 'contribution_id'),
    );
    for (const c of [adaC, benC])
      attr(await run(dora, reviewTx, { contribution_id: c, accept: true }), 'contribution_accepted', 'version');

    // Sam's copy of Ben's letters is refused, naming Ben's contribution; Sam keeps the stake.
    const samBefore = await chain.balance(addr(sam));
    const copy = await contribute(sam, d1, 'ben letters', 100, 1_000n);
    expect(copy.error_code).toBe('datanet/duplicate_content');
    expect(copy.error_message).toContain(`contribution ${benC}`);
    expect(await chain.balance(addr(sam))).toBe(samBefore - FEE);

    const cydC = Number(
      attr(await contribute(cyd, d2, 'cyd clinical answers', 50, 0n), 'contribution_submitted', 'contribution_id'),
    );
    attr(await run(dino, reviewTx, { contribution_id: cydC, accept: true }), 'contribution_accepted', 'version');
    const d1View = (await chain.query('datanet_get', { id: d1 })) as { version: number; contributionsRoot: string };
    expect(d1View.version).toBe(2);

    // --- Models.
    const publish = async (
      who: SigningKey,
      name: string,
      relation: number,
      parents: { kind: number; id: number; share_bps: number }[],
    ) => {
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
        config_hash: h(`${name} config`),
        recipe_hash: h(`${name} recipe`),
        relation,
        parents,
      });
      return Number(attr(r, 'model_published', 'version_id'));
    };
    const m1 = await publish(pia, 'M1', Relation.base, [{ kind: EdgeKind.datanet, id: d1, share_bps: 4_000 }]);
    const m2 = await publish(quinn, 'M2', Relation.finetune, [
      { kind: EdgeKind.model, id: m1, share_bps: 3_000 },
      { kind: EdgeKind.datanet, id: d2, share_bps: 2_000 },
    ]);
    const lineage = (await chain.query('model_getLineage', { id: m1 })) as { descendants: { id: number }[] };
    expect(lineage.descendants.map((d) => d.id)).toEqual([m2]);

    // Quinn's declared attribution for M2: the datanet share goes half to Ada, half to Cyd.
    const declared = Number(
      attr(
        await run(quinn, recordAttributionTx, {
          model_version_id: m2,
          request_hash: new Uint8Array(0),
          method: AttributionMethod.declared,
          weights_hash: new Uint8Array(0),
          index_root: new Uint8Array(0),
          output_hash: new Uint8Array(0),
          seed: new Uint8Array(0),
          weights: [
            { kind: TargetKind.contribution, id: adaC, bps: 5_000 },
            { kind: TargetKind.contribution, id: cydC, bps: 5_000 },
          ],
        }),
        'attribution_recorded',
        'attribution_id',
      ),
    );

    // --- The agent: Ria registers it on M2 with a 10 % fee and funds its account.
    const agent = Number(
      attr(
        await run(ria, registerAgentTx, {
          name: 'ria-assistant',
          controllers: [],
          model_version_id: m2,
          fee_bps: 1_000,
          spend_limit: 1_000_000n,
          stake: 5_000n,
        }),
        'agent_registered',
        'agent_id',
      ),
    );
    await run(ria, transferTx, { to: agentAccount(agent), amount: 1_000_000n });

    let prev: Uint8Array = new Uint8Array(0);
    const payments: { kind: 'plain' | 'declared' | 'trak'; id: number }[] = [];
    for (let i = 0; i < 100; i++) {
      const kind = i < 60 ? 'plain' : i < 80 ? 'declared' : 'trak';
      const request = h(`request ${i}`);
      let attribution = 0;
      if (kind === 'declared') attribution = declared;
      if (kind === 'trak') {
        // A per-request record: TRAK finds Ben's letters behind 75 % of this answer, D2 behind the rest.
        const r = await run(quinn, recordAttributionTx, {
          model_version_id: m2,
          request_hash: request,
          method: AttributionMethod.trak,
          weights_hash: h('trak projector'),
          index_root: new Uint8Array(0),
          output_hash: h(`response ${i}`),
          seed: h(`seed ${i}`),
          weights: [
            { kind: TargetKind.contribution, id: benC, bps: 7_500 },
            { kind: TargetKind.datanet, id: d2, bps: 2_500 },
          ],
        });
        attribution = Number(attr(r, 'attribution_recorded', 'attribution_id'));
      }
      const r = await run(ria, actTx, {
        agent_id: agent,
        kind: 'inference',
        model_version_id: m2,
        input_hash: request,
        output_hash: h(`response ${i}`),
        prev_action_hash: prev,
        payment: {
          amount: PRICE,
          request_hash: request,
          response_hash: h(`response ${i}`),
          attribution_id: attribution,
        },
      });
      prev = fromHex(attr(r, 'agent_acted', 'action_hash'));
      payments.push({ kind, id: Number(attr(r, 'agent_acted', 'payment_id')) });
      if (i === 50) {
        // Mid-way, Ada's D1 rewards are still inside the challenge window: earned but locked.
        const e = (await chain.query('account_getEarnings', { address: formatAddress(addr(ada)) })) as {
          locked: string;
          claimable: string;
        };
        expect(BigInt(e.locked)).toBe(720n * 51n);
        expect(e.claimable).toBe('0');
      }
    }

    // --- Earnings, by hand (see the header).
    const expected: [SigningKey | Address, Record<string, bigint>][] = [
      [ada, { contributed: 720n * 60n + 1_280n * 20n }],
      [ben, { contributed: 240n * 60n + 1_920n * 20n }],
      [cyd, { contributed: 1_600n * 60n + 1_280n * 20n + 640n * 20n }],
      [pia, { refined: 1_440n * 100n }],
      [quinn, { refined: 4_000n * 100n }],
      [agentAccount(agent), { executed: 1_000n * 100n }],
      [sam, {}],
      [dora, {}],
      [dino, {}],
      [ria, {}],
    ];
    for (const [who, bySource] of expected) {
      const address = who instanceof SigningKey ? addr(who) : who;
      const e = (await chain.query('account_getEarnings', { address: formatAddress(address) })) as {
        bySource: Record<string, string>;
        total: string;
      };
      const want = { contributed: 0n, refined: 0n, executed: 0n, curated: 0n, ...bySource };
      expect(Object.fromEntries(Object.entries(e.bySource).map(([k, v]) => [k, BigInt(v)]))).toEqual(want);
    }
    expect(await chain.balance(TREASURY)).toBe(500n * 100n);
    // The validator earned every transaction fee plus 5 % of every payment.
    expect(await chain.balance(addressFromPublicKey(chain.validator.publicKey))).toBe(
      FEE * BigInt(txCount) + 500n * 100n,
    );
    const usage = (await chain.query('model_getUsage', { id: m2 })) as { paidCount: number; paidAmount: string };
    expect(usage).toMatchObject({ paidCount: 100, paidAmount: (PRICE * 100n).toString() });
    const agentView = (await chain.query('agent_get', { id: agent })) as {
      actions: number;
      balance: string;
      spentInEpoch: string;
    };
    expect(agentView).toMatchObject({ actions: 100, balance: '0', spentInEpoch: '1000000' });

    // --- The traces explain each kind of payment, leg by leg.
    const legsOf = async (paymentId: number) => {
      const t = (await chain.query('attribution_trace', { paymentId })) as {
        legs: { role: string; recipient: string; amount: string }[];
      };
      return t.legs.map((l) => [l.role, l.recipient, l.amount]);
    };
    const A = (k: SigningKey) => formatAddress(addr(k));
    const common = [
      ['validated', formatAddress(FEE_COLLECTOR), '500'],
      ['treasury', formatAddress(TREASURY), '500'],
      ['executed', formatAddress(agentAccount(agent)), '1000'],
      ['refined', A(quinn), '4000'],
      ['refined', A(pia), '1440'],
    ];
    expect(await legsOf(payments.find((p) => p.kind === 'plain')!.id)).toEqual([
      ...common,
      ['contributed', A(ada), '720'],
      ['contributed', A(ben), '240'],
      ['contributed', A(cyd), '1600'],
    ]);
    expect(await legsOf(payments.find((p) => p.kind === 'declared')!.id)).toEqual([
      ...common,
      ['contributed', A(ada), '1280'],
      ['contributed', A(cyd), '1280'],
    ]);
    expect(await legsOf(payments.find((p) => p.kind === 'trak')!.id)).toEqual([
      ...common,
      ['contributed', A(ben), '1920'],
      ['contributed', A(cyd), '640'],
    ]);

    // --- Vesting and claims. Cyd's D2 has no window: claimable at once.
    const claim = async (who: SigningKey, agentId = 0) => {
      const target = agentId ? agentAccount(agentId) : addr(who);
      const before = await chain.balance(target);
      const r = await run(who, claimTx, { agent_id: agentId });
      return { r, gained: (await chain.balance(target)) - before + (agentId ? 0n : FEE) };
    };
    expect((await claim(cyd)).gained).toBe(134_400n);
    // Ada's rewards are locked until D1's window ends (150 blocks after her acceptance).
    expect((await claim(ada)).r.error_code).toBe('rewards/nothing_to_claim');
    const adaContribution = (await chain.query('datanet_getContribution', { id: adaC })) as { vestHeight: number };
    while (chain.app.height < adaContribution.vestHeight) await chain.block([]);
    expect((await claim(ada)).gained).toBe(68_800n);
    expect((await claim(ben)).gained).toBe(52_800n);
    expect((await claim(ria, agent)).gained).toBe(100_000n);
    expect(((await chain.query('agent_get', { id: agent })) as { balance: string }).balance).toBe('100000');
    const adaE = (await chain.query('account_getEarnings', { address: A(ada) })) as { claimed: string; locked: string };
    expect(adaE).toMatchObject({ claimed: '68800', locked: '0' });

    // The agent's history is a hash chain ending at its last action.
    const actions = (await chain.query('agent_getActions', { id: agent, offset: 98, limit: 10 })) as {
      actions: { actionHash: string; prevActionHash: string }[];
    };
    expect(actions.actions).toHaveLength(2);
    expect(actions.actions[1]!.prevActionHash).toBe(actions.actions[0]!.actionHash);
    expect(actions.actions[1]!.actionHash).toBe('0x' + Buffer.from(prev).toString('hex'));
  });
});
