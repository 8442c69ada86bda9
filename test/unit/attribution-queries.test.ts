import { describe, expect, it } from 'vitest';
import { actTx, registerAgentTx } from '../../src/attribution/agent.ts';
import { contributeTx, createDatanetTx, reviewTx } from '../../src/attribution/datanet.ts';
import { DisputeReason, DisputeTarget, openDisputeTx } from '../../src/attribution/dispute.ts';
import { AI_MODULES } from '../../src/attribution/index.ts';
import { TX_CLI_SPECS } from '../../src/cli/specs/index.ts';
import { payTx } from '../../src/attribution/inference.ts';
import { publishModelTx, registerModelTx } from '../../src/attribution/model.ts';
import { recordAttributionTx } from '../../src/attribution/record.ts';
import {
  ContributionLeafCodec,
  EdgeKind,
  Relation,
  TargetKind,
  AttributionMethod,
} from '../../src/attribution/store.ts';
import type { Receipt } from '../../src/codec/core.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { sha256, toHex, utf8 } from '../../src/crypto/hash.ts';
import { merkleRoot } from '../../src/crypto/merkle.ts';
import type { TxDefinition } from '../../src/state/module.ts';
import { TestChain } from '../helpers/test-chain.ts';

/* Queries, CLI builders and the less travelled transaction paths. */

const FEE = 100_000n;
const h = (s: string): Uint8Array => sha256(utf8.encode(s));
const hex = (s: string): string => toHex(h(s));

function attr(r: Receipt, type: string, key: string): string {
  expect(r.error_code).toBe('');
  const v = r.events.find((e) => e.type === type)?.attributes.find((a) => a.key === key)?.value;
  if (v === undefined) throw new Error(`no ${type}.${key}`);
  return v;
}

describe('CLI specs', () => {
  it('every transaction type declares a CLI command whose output passes validateBasic and round-trips', () => {
    const someone = formatAddress(addressFromPublicKey(SigningKey.generate().publicKey));
    const samples: Record<string, Record<string, string | boolean>> = {
      'datanet/create': {
        name: 'D',
        metadataHash: hex('m'),
        licence: 'CC0',
        curators: someone,
        minStake: '5',
        challengeWindow: '10',
      },
      'datanet/contribute': { datanet: '1', contentHash: hex('c'), size: '10', uri: 'ipfs://x', stake: '5' },
      'datanet/review': { contribution: '1', accept: true },
      'model/register': { name: 'M' },
      'model/publish': { family: '1', weightsHash: hex('w'), relation: 'finetune', parents: 'm:1:3000,d:2:1000' },
      'attribution/record': {
        model: '2',
        method: 'trak',
        weights: 'c:1:6000,d:1:4000',
        weightsHash: hex('tw'),
        seed: hex('s'),
      },
      'inference/pay': { model: '2', amount: '1000', requestHash: hex('r'), agent: '1', attribution: '1' },
      'rewards/claim': {},
      'agent/register': {
        name: 'A',
        model: '1',
        controllers: toHex(SigningKey.generate().publicKey),
        feeBps: '100',
        spendLimit: '1000',
        stake: '0',
      },
      'agent/act': { agent: '1', kind: 'inference', model: '1', inputHash: hex('i'), pay: '10' },
      'dispute/open': {
        target: 'contribution',
        id: '3',
        reason: 'near_duplicate',
        evidenceHash: hex('e'),
        bond: '1000',
      },
      'dispute/respond': { dispute: '1', evidenceHash: hex('a'), counterBond: '1000' },
      'dispute/vote': { dispute: '1', uphold: true },
    };
    const txs = AI_MODULES.flatMap((m) => m.txs);
    expect(txs.map((t) => t.type).sort()).toEqual(Object.keys(samples).sort());
    for (const def of txs as TxDefinition<unknown>[]) {
      expect(TX_CLI_SPECS[def.type], def.type).toBeDefined();
      const m = TX_CLI_SPECS[def.type]!.build(samples[def.type]!);
      def.validateBasic(m);
      expect(def.codec.decode(def.codec.encode(m))).toEqual(m);
      expect(def.view(m)).toBeTypeOf('object');
    }
  });

  it('every query method is "<area>_<verb>" and unique', () => {
    const methods = AI_MODULES.flatMap((m) => (m.queries ?? []).map((q) => q.method));
    expect(new Set(methods).size).toBe(methods.length);
    for (const m of methods) expect(m).toMatch(/^[a-z]+_[a-zA-Z]+$/);
  });
});

describe('queries and secondary paths', () => {
  it('answers the datanet, lineage, record, payment, agent and usage queries', async () => {
    const [owner, alice, bob, pub, payer, agentOwner] = Array.from(
      { length: 6 },
      (_, i) => new SigningKey(sha256(utf8.encode(`q${i}`))),
    ) as SigningKey[] as [SigningKey, SigningKey, SigningKey, SigningKey, SigningKey, SigningKey];
    const chain = await TestChain.create({
      funded: [owner, alice, bob, pub, payer, agentOwner].map((key) => ({ key, balance: 10n ** 20n })),
    });
    const run = <M>(k: SigningKey, def: TxDefinition<M>, m: M) => chain.run(chain.sign(k, def, m, FEE));

    const d1 = Number(
      attr(
        await run(owner, createDatanetTx, {
          name: 'D1',
          metadata_hash: h('D1'),
          licence: 'CC0',
          curators: [],
          min_stake: 0n,
          challenge_window: 0,
        }),
        'datanet_created',
        'datanet_id',
      ),
    );
    const leaves: Uint8Array[] = [];
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const who = i % 2 ? bob : alice;
      const id = Number(
        attr(
          await run(who, contributeTx, {
            datanet_id: d1,
            content_hash: h(`data${i}`),
            size: 10 + i,
            uri: '',
            stake: 0n,
          }),
          'contribution_submitted',
          'contribution_id',
        ),
      );
      ids.push(id);
      if (i !== 2) {
        await run(owner, reviewTx, { contribution_id: id, accept: true });
        leaves.push(
          ContributionLeafCodec.encode({
            datanet_id: d1,
            contribution_id: id,
            content_hash: h(`data${i}`),
            size: 10 + i,
            contributor: addressFromPublicKey(who.publicKey),
          }),
        );
      }
    }
    const d = (await chain.query('datanet_get', { id: d1 })) as {
      version: number;
      contributionsRoot: string;
      acceptedSize: number;
      submitted: number;
    };
    expect(d).toMatchObject({ version: 4, acceptedSize: 10 + 11 + 13 + 14, submitted: 5 });
    expect(d.contributionsRoot).toBe('0x' + toHex(merkleRoot(leaves)));
    const page = (await chain.query('datanet_listContributions', { id: d1, offset: 1, limit: 2 })) as {
      total: number;
      contributions: { id: number; status: string }[];
    };
    expect(page.total).toBe(5);
    expect(page.contributions.map((c) => [c.id, c.status])).toEqual([
      [ids[1], 'accepted'],
      [ids[2], 'pending'],
    ]);

    // A diamond: M1 <- M2, M1 <- M3, M4 merges M2 and M3.
    const fam = Number(
      attr(
        await run(pub, registerModelTx, { name: 'fam', metadata_hash: new Uint8Array(0) }),
        'model_registered',
        'family_id',
      ),
    );
    const publish = async (relation: number, parents: { kind: number; id: number; share_bps: number }[]) =>
      Number(
        attr(
          await run(pub, publishModelTx, {
            family_id: fam,
            weights_hash: h(`w${Math.random()}`),
            config_hash: new Uint8Array(0),
            recipe_hash: new Uint8Array(0),
            relation,
            parents,
          }),
          'model_published',
          'version_id',
        ),
      );
    const m1 = await publish(Relation.base, [{ kind: EdgeKind.datanet, id: d1, share_bps: 2000 }]);
    const m2 = await publish(Relation.adapter, [{ kind: EdgeKind.model, id: m1, share_bps: 3000 }]);
    const m3 = await publish(Relation.quantize, [{ kind: EdgeKind.model, id: m1, share_bps: 9000 }]);
    const m4 = await publish(Relation.merge, [
      { kind: EdgeKind.model, id: m3, share_bps: 1000 },
      { kind: EdgeKind.model, id: m2, share_bps: 1000 },
    ]);
    const lineage = (await chain.query('model_getLineage', { id: m4 })) as {
      ancestors: { id: number }[];
      datanets: { id: number }[];
      descendants: unknown[];
    };
    expect(lineage.ancestors.map((a) => a.id)).toEqual([m3, m2, m1]);
    expect(lineage.datanets.map((x) => x.id)).toEqual([d1]);
    expect(lineage.descendants).toEqual([]);
    const down = (await chain.query('model_getLineage', { id: m1 })) as { descendants: { id: number }[] };
    expect(down.descendants.map((x) => x.id)).toEqual([m2, m3, m4]);
    const m4View = (await chain.query('model_get', { id: m4 })) as {
      parents: { id: number }[];
      ownerShareBps: number;
      relation: string;
    };
    expect(m4View).toMatchObject({ ownerShareBps: 8000, relation: 'merge' });
    expect(m4View.parents.map((p) => p.id)).toEqual([m2, m3]); // stored sorted by (kind, id)

    // A per-request record works once, and only for its request.
    const rec = Number(
      attr(
        await run(pub, recordAttributionTx, {
          model_version_id: m4,
          request_hash: h('req-A'),
          method: AttributionMethod.infiniGram,
          weights_hash: h('w'),
          index_root: h('index'),
          output_hash: h('out'),
          seed: new Uint8Array(0),
          weights: [{ kind: TargetKind.contribution, id: ids[0]!, bps: 10_000 }],
        }),
        'attribution_recorded',
        'attribution_id',
      ),
    );
    const pay = (req: string) => ({
      model_version_id: m4,
      amount: 1_000_000n,
      request_hash: h(req),
      response_hash: new Uint8Array(0),
      agent_id: 0,
      attribution_id: rec,
    });
    expect((await run(payer, payTx, pay('req-B'))).error_code).toBe('attribution/request_mismatch');
    const ok = await run(payer, payTx, pay('req-A'));
    const paymentId = Number(attr(ok, 'inference_paid', 'payment_id'));
    expect((await run(payer, payTx, pay('req-A'))).error_code).toBe('attribution/already_used');
    const recView = (await chain.query('attribution_get', { id: rec })) as { usedByPayment: number; method: string };
    expect(recView).toMatchObject({ usedByPayment: paymentId, method: 'infini-gram' });
    const trace = (await chain.query('attribution_trace', { paymentId })) as {
      legs: { role: string; recipient: string; node: { kind: string; id: number } | null }[];
    };
    const contributed = trace.legs.filter((l) => l.role === 'contributed');
    expect(contributed).toEqual([
      expect.objectContaining({
        recipient: formatAddress(addressFromPublicKey(alice.publicKey)),
        node: { kind: 'contribution', id: ids[0] },
      }),
    ]);
    // The diamond visits M4, M3, M2, M1 once each; the record pays a contribution directly, so D1
    // itself is not walked.
    expect(
      ((await chain.query('inference_getPayment', { id: paymentId })) as { nodesVisited: number }).nodesVisited,
    ).toBe(4);

    // A payment through an agent (not by it): the agent earns its fee.
    const agentId = Number(
      attr(
        await run(agentOwner, registerAgentTx, {
          name: 'helper',
          controllers: [],
          model_version_id: m4,
          fee_bps: 500,
          spend_limit: 0n,
          stake: 0n,
        }),
        'agent_registered',
        'agent_id',
      ),
    );
    attr(
      await run(payer, payTx, {
        model_version_id: m4,
        amount: 1_000n,
        request_hash: h('via agent'),
        response_hash: new Uint8Array(0),
        agent_id: agentId,
        attribution_id: 0,
      }),
      'inference_paid',
      'payment_id',
    );
    const agentView = (await chain.query('agent_get', { id: agentId })) as {
      earnedFees: string;
      paymentsExecuted: number;
      claimable: string;
    };
    expect(agentView).toMatchObject({ earnedFees: '50', paymentsExecuted: 1, claimable: '50' });
    // An action without payment still extends the chain.
    const act = await run(agentOwner, actTx, {
      agent_id: agentId,
      kind: 'plan',
      model_version_id: m4,
      input_hash: h('in'),
      output_hash: new Uint8Array(0),
      prev_action_hash: new Uint8Array(0),
      payment: undefined,
    });
    attr(act, 'agent_acted', 'action_hash');
    const actions = (await chain.query('agent_getActions', { id: agentId })) as {
      total: number;
      actions: { seq: number; paymentId: number | null }[];
    };
    expect(actions).toMatchObject({ total: 1, actions: [{ seq: 0, paymentId: null }] });

    const usage = (await chain.query('model_getUsage', { id: m4 })) as { paidCount: number };
    expect(usage.paidCount).toBe(2);
    // Counted the other way: m1 was never paid for, but both payments for m4 paid its owner through
    // it as a lineage node; the inflow is the sum of those legs as attribution_trace lists them.
    const m1Usage = (await chain.query('model_getUsage', { id: m1 })) as {
      direct: { count: number; amount: string };
      lineage: { count: number; amount: string; truncated: boolean };
    };
    expect(m1Usage.direct).toEqual({ count: 0, amount: '0' });
    const { payments } = (await chain.query('inference_listPayments', { by: 'model', id: m4 })) as {
      payments: { id: number }[];
    };
    let inflow = 0n;
    for (const { id } of payments) {
      const trace = (await chain.query('attribution_trace', { paymentId: id })) as {
        legs: { role: string; amount: string; node: { kind: string; id: number } | null }[];
      };
      for (const leg of trace.legs) if (leg.role === 'refined' && leg.node?.id === m1) inflow += BigInt(leg.amount);
    }
    expect(inflow).toBeGreaterThan(0n);
    expect(m1Usage.lineage).toEqual({ count: 2, amount: inflow.toString(), truncated: false });
    const summary = (await chain.query('usage_summary')) as Record<string, number>;
    expect(summary).toMatchObject({
      payments: 2,
      attributionRecords: 1,
      datanets: 1,
      contributions: 5,
      modelVersions: 4,
      agents: 1,
    });
    const fees = (await chain.query('usage_feesDistributed', { fromHeight: 1, toHeight: chain.app.height })) as {
      total: string;
      blocks: unknown[];
    };
    expect(BigInt(fees.total) > 0n).toBe(true);
    expect(fees.blocks).toHaveLength(chain.app.height);
    const earnings = (await chain.query('account_getEarnings', {
      address: formatAddress(addressFromPublicKey(pub.publicKey)),
    })) as { bySource: { refined: string } };
    expect(BigInt(earnings.bySource.refined) > 0n).toBe(true);

    const opened = await run(alice, openDisputeTx, {
      target_kind: DisputeTarget.modelVersion,
      target_id: m4,
      reason: DisputeReason.falseLineage,
      target_seq: 0,
      evidence_hash: h('evidence'),
      bond: 1_000n,
    });
    const disputeId = Number(attr(opened, 'dispute_opened', 'dispute_id'));

    // Every named state key kind resolves to a stored record and displays it (for state proofs).
    // Payments and agent actions are not state any more: they are receipt events (the index).
    const keyIds: Record<string, unknown> = {
      datanet: d1,
      contribution: ids[0],
      content: h('data0'),
      model_version: m4,
      model_ancestors: m4,
      model_usage: m4,
      attribution: rec,
      earnings: addressFromPublicKey(pub.publicKey),
      agent: agentId,
      dispute: disputeId,
    };
    const kinds = AI_MODULES.flatMap((m) => m.stateKeys ?? []);
    expect(kinds.map((k) => k.kind).sort()).toEqual(Object.keys(keyIds).sort());
    const state = chain.app.queryContext(chain.reader).state;
    for (const k of kinds) {
      const raw = await state.get(k.key(keyIds[k.kind]));
      expect(raw, k.kind).toBeDefined();
      expect(k.view(raw!), k.kind).toBeTypeOf('object');
    }
  });
});
