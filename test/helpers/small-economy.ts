import { actTx, registerAgentTx } from '../../src/attribution/agent.ts';
import { contributeTx, createDatanetTx, reviewTx } from '../../src/attribution/datanet.ts';
import { payTx } from '../../src/attribution/inference.ts';
import { publishModelTx, registerModelTx } from '../../src/attribution/model.ts';
import { recordAttributionTx } from '../../src/attribution/record.ts';
import { AttributionMethod, EdgeKind, Relation, TargetKind, agentAccount } from '../../src/attribution/store.ts';
import type { Receipt } from '../../src/codec/core.ts';
import type { JsonValue } from '../../src/codec/json.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { fromHex, sha256, utf8 } from '../../src/crypto/hash.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import type { TxDefinition } from '../../src/state/module.ts';
import type { KvStore } from '../../src/storage/db.ts';
import { TestChain } from './test-chain.ts';

/*
 * A small, fully deterministic AI economy (fixed keys, fixed times) that exercises every query the
 * index serves: payments plain, through an agent, under a declared and a per-request record, agent
 * actions with and without a payment, a lineage with descendants, datanets cited by versions, and
 * contributions still locked in a challenge window. `queryViews` answers those queries as JSON,
 * so two builds (or a chain and its rebuilt index) can be compared byte for byte.
 */

const FEE = 100_000n;
const h = (s: string): Uint8Array => sha256(utf8.encode(s));
export const economyKey = (name: string): SigningKey => new SigningKey(sha256(utf8.encode(`small economy ${name}`)));

function attr(r: Receipt, type: string, key: string): string {
  if (r.error_code !== '') throw new Error(`transaction failed: ${r.error_code} ${r.error_message}`);
  const v = r.events.find((e) => e.type === type)?.attributes.find((a) => a.key === key)?.value;
  if (v === undefined) throw new Error(`no ${type}.${key}`);
  return v;
}

export interface SmallEconomy {
  chain: TestChain;
  payments: number[];
  agentId: number;
  versions: number[];
  datanets: number[];
  people: Record<string, SigningKey>;
}

/**
 * `responseTag` changes the response hash named by every `inference/pay` (not the agent's actions,
 * whose hash chain covers their transaction's hash): data only the receipts and queries hold.
 */
export async function runSmallEconomy(opts: { db?: KvStore; responseTag?: string } = {}): Promise<SmallEconomy> {
  const names = ['dora', 'ada', 'ben', 'cyd', 'pia', 'quinn', 'ria', 'payer'] as const;
  const people = Object.fromEntries(names.map((n) => [n, economyKey(n)])) as Record<(typeof names)[number], SigningKey>;
  const chain = await TestChain.create({
    funded: names.map((n) => ({ key: people[n], balance: 10n ** 20n })),
    validator: economyKey('validator'),
    params: {
      modules: {
        inference: { validatorBps: 500, treasuryBps: 500 },
        agent: { maxFeeBps: 2000, epochBlocks: 1_000_000 },
      },
    },
    db: opts.db,
  });
  const run = <M>(k: SigningKey, def: TxDefinition<M>, m: M) => chain.run(chain.sign(k, def, m, FEE));
  const tag = opts.responseTag ?? '';

  const d1 = Number(
    attr(
      await run(people.dora, createDatanetTx, {
        name: 'D1',
        metadata_hash: h('D1'),
        licence: 'CC0',
        curators: [],
        min_stake: 0n,
        challenge_window: 500,
      }),
      'datanet_created',
      'datanet_id',
    ),
  );
  const d2 = Number(
    attr(
      await run(people.dora, createDatanetTx, {
        name: 'D2',
        metadata_hash: h('D2'),
        licence: 'CC0',
        curators: [],
        min_stake: 0n,
        challenge_window: 0,
      }),
      'datanet_created',
      'datanet_id',
    ),
  );
  const contributions: number[] = [];
  for (const [who, datanet, size] of [
    ['ada', d1, 300],
    ['ben', d1, 100],
    ['cyd', d2, 50],
    ['ada', d2, 70],
  ] as const) {
    const r = await run(people[who], contributeTx, {
      datanet_id: datanet,
      content_hash: h(`${who}/${datanet}`),
      size,
      uri: `ipfs://${who}`,
      stake: 0n,
    });
    const id = Number(attr(r, 'contribution_submitted', 'contribution_id'));
    contributions.push(id);
    attr(await run(people.dora, reviewTx, { contribution_id: id, accept: true }), 'contribution_accepted', 'version');
  }
  const publish = async (
    who: SigningKey,
    family: number,
    relation: number,
    parents: { kind: number; id: number; share_bps: number }[],
    name: string,
  ) =>
    Number(
      attr(
        await run(who, publishModelTx, {
          family_id: family,
          weights_hash: h(`${name} weights`),
          config_hash: new Uint8Array(0),
          recipe_hash: new Uint8Array(0),
          relation,
          parents,
        }),
        'model_published',
        'version_id',
      ),
    );
  const famP = Number(
    attr(
      await run(people.pia, registerModelTx, { name: 'P', metadata_hash: new Uint8Array(0) }),
      'model_registered',
      'family_id',
    ),
  );
  const famQ = Number(
    attr(
      await run(people.quinn, registerModelTx, { name: 'Q', metadata_hash: new Uint8Array(0) }),
      'model_registered',
      'family_id',
    ),
  );
  const m1 = await publish(
    people.pia,
    famP,
    Relation.base,
    [{ kind: EdgeKind.datanet, id: d1, share_bps: 4_000 }],
    'M1',
  );
  const m2 = await publish(
    people.quinn,
    famQ,
    Relation.finetune,
    [
      { kind: EdgeKind.model, id: m1, share_bps: 3_000 },
      { kind: EdgeKind.datanet, id: d2, share_bps: 2_000 },
    ],
    'M2',
  );
  const m3 = await publish(
    people.pia,
    famP,
    Relation.quantize,
    [{ kind: EdgeKind.model, id: m1, share_bps: 9_000 }],
    'M3',
  );

  const declared = Number(
    attr(
      await run(people.quinn, recordAttributionTx, {
        model_version_id: m2,
        request_hash: new Uint8Array(0),
        method: AttributionMethod.declared,
        weights_hash: new Uint8Array(0),
        index_root: new Uint8Array(0),
        output_hash: new Uint8Array(0),
        seed: new Uint8Array(0),
        weights: [
          { kind: TargetKind.contribution, id: contributions[0]!, bps: 5_000 },
          { kind: TargetKind.contribution, id: contributions[2]!, bps: 5_000 },
        ],
      }),
      'attribution_recorded',
      'attribution_id',
    ),
  );
  const perRequest = Number(
    attr(
      await run(people.quinn, recordAttributionTx, {
        model_version_id: m2,
        request_hash: h('req trak'),
        method: AttributionMethod.trak,
        weights_hash: h('projector'),
        index_root: new Uint8Array(0),
        output_hash: h('out trak'),
        seed: h('seed'),
        weights: [
          { kind: TargetKind.contribution, id: contributions[1]!, bps: 7_500 },
          { kind: TargetKind.datanet, id: d2, bps: 2_500 },
        ],
      }),
      'attribution_recorded',
      'attribution_id',
    ),
  );

  const agentId = Number(
    attr(
      await run(people.ria, registerAgentTx, {
        name: 'ria-agent',
        controllers: [],
        model_version_id: m2,
        fee_bps: 1_000,
        spend_limit: 10_000_000n,
        stake: 0n,
      }),
      'agent_registered',
      'agent_id',
    ),
  );
  await run(people.ria, transferTx, { to: agentAccount(agentId), amount: 1_000_000n });

  const payments: number[] = [];
  const pay = async (model: number, amount: bigint, request: string, agent: number, attribution: number) => {
    const r = await run(people.payer, payTx, {
      model_version_id: model,
      amount,
      request_hash: h(request),
      response_hash: h(`response ${request}${tag}`),
      agent_id: agent,
      attribution_id: attribution,
    });
    payments.push(Number(attr(r, 'inference_paid', 'payment_id')));
  };
  await pay(m2, 10_000n, 'plain', 0, 0);
  await pay(m3, 7_777n, 'quantized', 0, 0);
  await pay(m2, 10_000n, 'via agent', agentId, 0);
  await pay(m2, 10_001n, 'declared', 0, declared);
  await pay(m2, 9_999n, 'req trak', 0, perRequest);

  let prev: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < 3; i++) {
    const payment =
      i === 1
        ? undefined
        : {
            amount: 5_000n + BigInt(i),
            request_hash: h(`act ${i}`),
            response_hash: h(`act out ${i}`),
            attribution_id: 0,
          };
    const r = await run(people.ria, actTx, {
      agent_id: agentId,
      kind: i === 1 ? 'plan' : 'inference',
      model_version_id: m2,
      input_hash: h(`act ${i}`),
      output_hash: h(`act out ${i}`),
      prev_action_hash: prev,
      payment,
    });
    prev = fromHex(attr(r, 'agent_acted', 'action_hash'));
    const paymentId = Number(attr(r, 'agent_acted', 'payment_id'));
    if (paymentId) payments.push(paymentId);
  }
  // Several payments in one block, from two payers.
  const batch: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) {
    const who = i % 2 ? people.payer : people.ada;
    batch.push(
      chain.sign(
        who,
        payTx,
        {
          model_version_id: i % 2 ? m3 : m2,
          amount: 1_000n + BigInt(i),
          request_hash: h(`batch ${i}`),
          response_hash: h(`batch out ${i}${tag}`),
          agent_id: 0,
          attribution_id: 0,
        },
        FEE,
      ),
    );
  }
  const f = await chain.block(batch);
  for (const r of f.receipts) payments.push(Number(attr(r, 'inference_paid', 'payment_id')));
  return { chain, payments, agentId, versions: [m1, m2, m3], datanets: [d1, d2], people };
}

/** Every index-served query of the economy, as JSON. */
export async function queryViews(e: SmallEconomy): Promise<Record<string, JsonValue>> {
  const { chain } = e;
  const out: Record<string, JsonValue> = {};
  for (const id of e.payments) {
    out[`attribution_trace ${id}`] = await chain.query('attribution_trace', { paymentId: id });
    out[`inference_getPayment ${id}`] = await chain.query('inference_getPayment', { id });
  }
  out.agent_getActions = await chain.query('agent_getActions', { id: e.agentId });
  out['agent_getActions page'] = await chain.query('agent_getActions', { id: e.agentId, offset: 1, limit: 1 });
  out.agent_get = await chain.query('agent_get', { id: e.agentId });
  for (const id of e.versions) out[`model_getLineage ${id}`] = await chain.query('model_getLineage', { id });
  for (const id of e.datanets) out[`datanet_getModels ${id}`] = await chain.query('datanet_getModels', { id });
  for (const [name, key] of Object.entries(e.people)) {
    out[`account_getEarnings ${name}`] = await chain.query('account_getEarnings', {
      address: formatAddress(addressFromPublicKey(key.publicKey)),
    });
  }
  out.usage_feesDistributed = await chain.query('usage_feesDistributed', {
    fromHeight: 1,
    toHeight: chain.app.height,
  });
  out['usage_feesDistributed one'] = await chain.query('usage_feesDistributed', { fromHeight: 3 });
  out.usage_summary = await chain.query('usage_summary');
  return out;
}
