import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contributeTx, createDatanetTx, reviewTx } from '../../src/attribution/datanet.ts';
import {
  DisputeReason,
  DisputeTarget,
  openDisputeTx,
  respondDisputeTx,
  voteDisputeTx,
} from '../../src/attribution/dispute.ts';
import { actTx, registerAgentTx } from '../../src/attribution/agent.ts';
import { payTx } from '../../src/attribution/inference.ts';
import { recordAttributionTx } from '../../src/attribution/record.ts';
import { publishModelTx, registerModelTx } from '../../src/attribution/model.ts';
import { claimTx } from '../../src/attribution/rewards.ts';
import {
  AttributionMethod,
  DATANET_ESCROW,
  DISPUTE_ESCROW,
  EdgeKind,
  REWARDS_POOL,
  Relation,
  TREASURY,
  TargetKind,
} from '../../src/attribution/store.ts';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { sha256, utf8 } from '../../src/crypto/hash.ts';
import { FEE_COLLECTOR } from '../../src/state/bank/keeper.ts';
import type { TxDefinition } from '../../src/state/module.ts';
import { STAKING_POOL } from '../../src/state/staking/store.ts';
import { bondTx, unbondTx } from '../../src/state/staking/txs.ts';
import { TestChain } from '../helpers/test-chain.ts';

/*
 * Random interleavings of dispute openings (every kind), answers, votes by
 * anyone, resolutions (the windows are short, so many resolve inside a run), payments for both
 * versions, contributor stake bonded and unbonded (and slashed by upheld disputes) and claims never create or destroy value: TestChain checks supply, the dispute escrow,
 * the rewards pool, the datanet escrow and the staking pool invariants after every block, and the test adds up
 * every account the run can touch against what was funded. Every failure is a coded error.
 */

const FEE = 10_000n;
const FUNDS = 10n ** 12n;
const h = (s: string): Uint8Array => sha256(utf8.encode(s));

const PEOPLE = ['validator', 'dora', 'cur', 'ada', 'ben', 'chal', 'pia', 'quinn', 'payer'] as const;
type Person = (typeof PEOPLE)[number];

const person = fc.constantFrom(...PEOPLE);
const action = fc.oneof(
  fc.record({
    kind: fc.constant('pay' as const),
    viaAgent: fc.boolean(),
    withRecord: fc.boolean(),
    m2: fc.boolean(),
    amount: fc.bigInt({ min: 1n, max: 1_000_000n }),
  }),
  fc.record({
    kind: fc.constant('open' as const),
    who: person,
    target: fc.constantFrom('ada', 'ben', 'm1', 'm2', 'record', 'action'),
    bond: fc.bigInt({ min: 500n, max: 50_000n }),
  }),
  fc.record({
    kind: fc.constant('respond' as const),
    dispute: fc.nat(2),
    who: fc.oneof(fc.constantFrom<Person>('ada', 'ben', 'pia', 'quinn'), person),
    bond: fc.bigInt({ min: 500n, max: 50_000n }),
  }),
  fc.record({
    kind: fc.constant('vote' as const),
    dispute: fc.nat(2),
    // Mostly the accounts that may vote, so that many disputes are decided by votes.
    who: fc.oneof(fc.constantFrom<Person>('cur', 'dora', 'validator'), person),
    uphold: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('claim' as const), who: person }),
  fc.record({
    kind: fc.constantFrom('bond' as const, 'unbond' as const),
    who: fc.constantFrom<Person>('ada', 'ben'),
    amount: fc.bigInt({ min: 1_000n, max: 30_000n }),
  }),
  fc.record({ kind: fc.constant('wait' as const), blocks: fc.integer({ min: 1, max: 4 }) }),
);

describe('dispute property', () => {
  it('random interleavings of open, respond, vote, resolve, pay and claim never create or destroy value', async () => {
    const outcomes = { upheld: 0, rejected: 0 };
    let slashes = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 8 }),
        fc.array(action, { minLength: 5, maxLength: 30 }),
        async (window, actions) => {
          const keys = Object.fromEntries(
            PEOPLE.map((n) => [n, new SigningKey(sha256(utf8.encode(`dispute property ${n}`)))]),
          ) as Record<Person, SigningKey>;
          const address = (n: Person) => addressFromPublicKey(keys[n].publicKey);
          const chain = await TestChain.create({
            funded: PEOPLE.map((n) => ({ key: keys[n], balance: FUNDS })),
            validator: keys.validator,
            params: {
              modules: {
                inference: { validatorBps: 500, treasuryBps: 500 },
                dispute: { minBond: '1000', votingBlocks: 4, winnerShareBps: 7_000 },
              },
            },
          });
          const codes = new Set<string>();
          const run = async <M>(who: Person, def: TxDefinition<M>, m: M) => {
            const r = await chain.run(chain.sign(keys[who], def, m, FEE));
            codes.add(r.error_code);
            return r;
          };
          const idOf = async <M>(who: Person, def: TxDefinition<M>, m: M, type: string, key: string) => {
            const r = await run(who, def, m);
            expect(r.error_code).toBe('');
            return Number(r.events.find((e) => e.type === type)!.attributes.find((a) => a.key === key)!.value);
          };
          const d1 = await idOf(
            'dora',
            createDatanetTx,
            {
              name: 'D1',
              metadata_hash: h('D1'),
              licence: 'CC0',
              curators: [address('cur')],
              min_stake: 100n,
              challenge_window: window,
            },
            'datanet_created',
            'datanet_id',
          );
          const contributions: Record<string, number> = {};
          for (const [who, size] of [
            ['ada', 300],
            ['ben', 100],
          ] as const) {
            contributions[who] = await idOf(
              who,
              contributeTx,
              { datanet_id: d1, content_hash: h(who), size, uri: '', stake: 1_000n },
              'contribution_submitted',
              'contribution_id',
            );
            await run('dora', reviewTx, { contribution_id: contributions[who]!, accept: true });
          }
          const version = async (who: Person, parents: { kind: number; id: number; share_bps: number }[]) => {
            const family = await idOf(
              who,
              registerModelTx,
              { name: who, metadata_hash: new Uint8Array(0) },
              'model_registered',
              'family_id',
            );
            return idOf(
              who,
              publishModelTx,
              {
                family_id: family,
                weights_hash: h(`${who} weights`),
                config_hash: new Uint8Array(0),
                recipe_hash: new Uint8Array(0),
                relation: parents[0]!.kind === EdgeKind.model ? Relation.finetune : Relation.base,
                parents,
              },
              'model_published',
              'version_id',
            );
          };
          const m1 = await version('pia', [{ kind: EdgeKind.datanet, id: d1, share_bps: 4_000 }]);
          const m2 = await version('quinn', [{ kind: EdgeKind.model, id: m1, share_bps: 3_000 }]);
          // Quinn's agent on M2 (10 % fee, agent stake bonded) with one action to dispute.
          const agent = await idOf(
            'quinn',
            registerAgentTx,
            { name: 'a', controllers: [], model_version_id: m2, fee_bps: 1_000, spend_limit: 0n, stake: 0n },
            'agent_registered',
            'agent_id',
          );
          await run('quinn', bondTx, { role: 'agent', amount: 20_000n });
          await run('quinn', actTx, {
            agent_id: agent,
            kind: 'plan',
            model_version_id: m2,
            input_hash: h('in'),
            output_hash: new Uint8Array(0),
            prev_action_hash: new Uint8Array(0),
            payment: undefined,
          });
          // Pia's declared record for M1, half to each contribution; payments for M1 may name it.
          const record = await idOf(
            'pia',
            recordAttributionTx,
            {
              model_version_id: m1,
              request_hash: new Uint8Array(0),
              method: AttributionMethod.declared,
              weights_hash: new Uint8Array(0),
              index_root: new Uint8Array(0),
              output_hash: new Uint8Array(0),
              seed: new Uint8Array(0),
              weights: [
                { kind: TargetKind.contribution, id: contributions.ada!, bps: 5_000 },
                { kind: TargetKind.contribution, id: contributions.ben!, bps: 5_000 },
              ],
            },
            'attribution_recorded',
            'attribution_id',
          );
          const targets = {
            ada: [DisputeTarget.contribution, contributions.ada!, DisputeReason.duplicate],
            ben: [DisputeTarget.contribution, contributions.ben!, DisputeReason.poisoned],
            m1: [DisputeTarget.modelVersion, m1, DisputeReason.falseLineage],
            m2: [DisputeTarget.modelVersion, m2, DisputeReason.falseLineage],
            record: [DisputeTarget.attributionRecord, record, DisputeReason.unsupportedWeights],
            action: [DisputeTarget.agentAction, agent, DisputeReason.misconduct],
          } as const;
          let requests = 0;
          // Answers and votes go mostly to the latest disputes (ids are sequential), so that many
          // are decided by votes inside their short windows (before any, id 1 does not exist yet).
          let latest = 0;
          const recent = (back: number) => Math.max(1, latest - back);
          for (const a of actions) {
            switch (a.kind) {
              case 'pay':
                requests += 1;
                await run('payer', payTx, {
                  model_version_id: a.m2 ? m2 : m1,
                  amount: a.amount,
                  request_hash: h(`request ${requests}`),
                  response_hash: new Uint8Array(0),
                  agent_id: a.viaAgent ? agent : 0,
                  attribution_id: a.withRecord && !a.m2 ? record : 0,
                });
                break;
              case 'open': {
                const [kind, id, reason] = targets[a.target];
                const opened = await run(a.who, openDisputeTx, {
                  target_kind: kind,
                  target_id: id,
                  reason,
                  target_seq: 0,
                  evidence_hash: h('evidence'),
                  bond: a.bond,
                });
                if (opened.error_code === '') latest += 1;
                break;
              }
              case 'respond':
                await run(a.who, respondDisputeTx, {
                  dispute_id: recent(a.dispute),
                  evidence_hash: h('answer'),
                  counter_bond: a.bond,
                });
                break;
              case 'vote':
                await run(a.who, voteDisputeTx, { dispute_id: recent(a.dispute), uphold: a.uphold });
                break;
              case 'claim':
                await run(a.who, claimTx, { agent_id: 0 });
                break;
              case 'bond':
                await run(a.who, bondTx, { role: 'contributor', amount: a.amount });
                break;
              case 'unbond':
                await run(a.who, unbondTx, { role: 'contributor', amount: a.amount });
                break;
              case 'wait':
                for (let i = 0; i < a.blocks; i++) await chain.block([]);
                break;
            }
          }
          // Let every open dispute resolve and every window end, then add everything up.
          for (let i = 0; i < 12; i++) await chain.block([]);
          let total = 0n;
          for (const n of PEOPLE) total += await chain.balance(address(n));
          for (const account of [DISPUTE_ESCROW, REWARDS_POOL, TREASURY, DATANET_ESCROW, FEE_COLLECTOR, STAKING_POOL])
            total += await chain.balance(account);
          expect(total).toBe(FUNDS * BigInt(PEOPLE.length));
          expect(await chain.balance(DISPUTE_ESCROW)).toBe(0n);
          for (const code of codes) expect(code).toMatch(/^$|^[a-z]+\/[a-z_]+$/);
          for (const status of ['upheld', 'rejected'] as const) {
            const list = (await chain.query('dispute_list', { status, limit: 500 })) as {
              disputes: { slashed: string }[];
            };
            outcomes[status] += list.disputes.length;
            if (status === 'upheld') slashes += list.disputes.filter((d) => d.slashed !== '0').length;
          }
        },
      ),
      // A fixed seed, so that the counts below are the same every run.
      { numRuns: 30, seed: 1312 },
    );
    // The runs decided disputes both ways and slashed stake (not only refusals).
    expect(outcomes.upheld).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(0);
    expect(slashes).toBeGreaterThan(0);
  }, 240_000);
});
