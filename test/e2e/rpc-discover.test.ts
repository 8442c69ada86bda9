import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as metaSchemaPackage from '@open-rpc/meta-schema';
import { Ajv, type ValidateFunction } from 'ajv';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actTx, registerAgentTx } from '../../src/attribution/agent.ts';
import { contributeTx, createDatanetTx, reviewTx } from '../../src/attribution/datanet.ts';
import {
  DisputeReason,
  DisputeTarget,
  openDisputeTx,
  respondDisputeTx,
  voteDisputeTx,
} from '../../src/attribution/dispute.ts';
import { payTx } from '../../src/attribution/inference.ts';
import { publishModelTx, registerModelTx } from '../../src/attribution/model.ts';
import { recordAttributionTx } from '../../src/attribution/record.ts';
import { AttributionMethod, EdgeKind, Relation, TargetKind, agentAccount } from '../../src/attribution/store.ts';
import { VoteCodec } from '../../src/codec/core.ts';
import { VoteType, voteSignBytes } from '../../src/codec/protocol.ts';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { sha256, toHex, utf8 } from '../../src/crypto/hash.ts';
import { initHome } from '../../src/home.ts';
import { loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { startNode, type RunningNode } from '../../src/node.ts';
import { CORE_METHOD_NAMES, RpcClient } from '../../src/rpc/client.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { submitEvidenceTx } from '../../src/state/evidence/module.ts';
import { ContentKind, VoteOption } from '../../src/state/gov/records.ts';
import { proposeTx, voteTx } from '../../src/state/gov/txs.ts';
import type { Content } from '../../src/state/gov/gov.pb.ts';
import type { TxDefinition } from '../../src/state/module.ts';
import { bondTx } from '../../src/state/staking/txs.ts';
import { buildTx } from '../../src/state/tx.ts';
import { tempHome, until } from '../helpers/process.ts';

/*
 * rpc.discover against a real node: the document is valid OpenRPC (checked with the official
 * meta-schema), lists exactly the methods the server dispatches, every method it lists exists,
 * every method publishes a result schema, and those schemas hold for real answers: the test
 * builds a small economy on the node (a stake, proposals, a datanet with an accepted
 * contribution, a lineage of model versions, an attribution record, an agent that acts and pays,
 * payments, disputes, double-sign evidence) so that each module query answers about a present
 * record, and where it can, an absent one.
 */

interface ContentDescriptor {
  name: string;
  required?: boolean;
  schema: Record<string, unknown>;
}
interface MethodObject {
  name: string;
  params: ContentDescriptor[];
  result: ContentDescriptor;
}
interface Document {
  openrpc: string;
  methods: MethodObject[];
  components: { errors: Record<string, { code: number; message: string }> };
}
interface TxAnswer {
  status: string;
  height: number | null;
  receipt: { errorCode: string | null } | null;
}

/** Methods answered only over a WebSocket, with notifications after it (test/e2e/rpc-ws.test.ts covers those). */
const WEBSOCKET_ONLY = ['chain_subscribe', 'chain_unsubscribe'];

const FEE = 100_000n;
const GOV_VOTING_BLOCKS = 20;
const DISPUTE_VOTING_BLOCKS = 20;
const keyOf = (name: string) => new SigningKey(sha256(utf8.encode(`rpc-discover ${name}`)));
const h = (text: string) => sha256(utf8.encode(text));
const none = new Uint8Array(0);

describe('rpc.discover: an OpenRPC document generated from the method table', () => {
  const home = tempHome('tributary-discover-');
  let node: RunningNode;
  let rpc: RpcClient;
  let doc: Document;
  let txHex: string;
  let txHash: string;
  let sender: string;
  let validator: SigningKey;
  const bob = keyOf('bob');
  const carol = keyOf('carol');
  const addressOf = (k: SigningKey) => formatAddress(addressFromPublicKey(k.publicKey));
  const nonces = new Map<SigningKey, number>();
  /** Answers taken while a record was in a passing state (a proposal in its vote, an open dispute). */
  const early: [string, unknown[], unknown][] = [];
  const keep = async (method: string, params: unknown[]) => {
    const result = await rpc.call(method, params);
    early.push([method, params, result]);
    return result;
  };

  function sign<M>(key: SigningKey, def: TxDefinition<M>, m: M): string {
    const nonce = nonces.get(key) ?? 0;
    nonces.set(key, nonce + 1);
    return `0x${toHex(buildTx(key, def, m, { chainId: node.chain.app.chainId, nonce, fee: FEE }))}`;
  }

  /** Submits the transactions (in order) and waits until each is in a block; every one must succeed. */
  async function commitAll(txs: string[]): Promise<string[]> {
    const hashes: string[] = [];
    for (const tx of txs) hashes.push((await rpc.call<{ hash: string }>('tx_submit', [tx])).hash);
    for (const hash of hashes) {
      const done = await until(async () => {
        const t = await rpc.call<TxAnswer | null>('tx_get', [hash]);
        return t?.status === 'committed' || t?.status === 'failed' ? t : undefined;
      });
      expect(done.receipt?.errorCode ?? null, hash).toBeNull();
    }
    return hashes;
  }

  const content = (c: Partial<Content> & Pick<Content, 'kind' | 'title'>): Content => ({
    params_json: '',
    public_key: none,
    power: 0,
    name: '',
    recipient: none,
    amount: 0n,
    ...c,
  });

  /** Two conflicting prevotes of the validator at height 1: evidence the chain records and punishes. */
  function doubleSign(key: SigningKey) {
    const chainId = node.chain.app.chainId;
    const vote = (tag: string) => {
      const v = { chain_id: chainId, type: VoteType.prevote, height: 1, round: 0, block_hash: h(tag) };
      const signature = key.sign(
        voteSignBytes({ chainId, type: v.type, height: 1, round: 0, blockHash: v.block_hash }),
      );
      return { bytes: VoteCodec.encode(v), signature };
    };
    const [a, b] = [vote('a'), vote('b')];
    return {
      validator: addressFromPublicKey(key.publicKey),
      first_vote: a.bytes,
      first_signature: a.signature,
      second_vote: b.bytes,
      second_signature: b.signature,
    };
  }

  async function buildEconomy(): Promise<void> {
    const V = validator;
    type Parents = { kind: number; id: number; share_bps: number }[];
    const publish = (who: SigningKey, family: number, relation: number, parents: Parents, name: string) =>
      sign(who, publishModelTx, {
        family_id: family,
        weights_hash: h(`${name} weights`),
        config_hash: h(`${name} config`),
        recipe_hash: none,
        relation,
        parents,
      });
    const parentsOfV1 = [{ kind: EdgeKind.datanet, id: 1, share_bps: 4_000 }];
    // Each round's transactions need only what earlier rounds committed.
    txHash = (
      await commitAll([
        sign(V, transferTx, { to: addressFromPublicKey(bob.publicKey), amount: 10n ** 21n }),
        sign(V, transferTx, { to: addressFromPublicKey(carol.publicKey), amount: 10n ** 21n }),
        sign(V, bondTx, { role: 'validator', amount: 10n ** 24n }),
        sign(V, createDatanetTx, {
          name: 'D1',
          metadata_hash: h('D1'),
          licence: 'CC0',
          curators: [addressFromPublicKey(carol.publicKey)],
          min_stake: 0n,
          challenge_window: 100_000,
        }),
        sign(V, registerModelTx, { name: 'base family', metadata_hash: h('family 1') }),
        sign(V, proposeTx, {
          content: content({
            kind: ContentKind.paramChange,
            title: 'bigger blocks',
            params_json: '{"maxBlockTxs":12345}',
          }),
          initial_deposit: 1_000n,
        }),
      ])
    )[0]!;
    await commitAll([
      sign(bob, contributeTx, {
        datanet_id: 1,
        content_hash: h('bob data'),
        size: 10,
        uri: 'ipfs://bob',
        stake: 5_000n,
      }),
      sign(bob, registerModelTx, { name: 'bob family', metadata_hash: none }),
      publish(V, 1, Relation.base, parentsOfV1, 'v1'),
      sign(V, voteTx, { proposal_id: 1, option: VoteOption.yes }),
      sign(V, proposeTx, {
        content: content({
          kind: ContentKind.validatorAddition,
          title: 'a second validator',
          public_key: keyOf('second validator').publicKey,
          power: 1,
          name: 'second',
        }),
        initial_deposit: 0n,
      }),
      sign(V, proposeTx, {
        content: content({
          kind: ContentKind.treasurySpend,
          title: 'pay bob',
          recipient: addressFromPublicKey(bob.publicKey),
          amount: 1n,
        }),
        initial_deposit: 500n,
      }),
    ]);
    const voting = (await keep('gov_getProposal', [1])) as { status: string; votes: unknown[]; deposits: unknown[] };
    expect([voting.status, voting.votes.length, voting.deposits.length]).toEqual(['voting', 1, 1]);
    await commitAll([
      sign(V, reviewTx, { contribution_id: 1, accept: true }),
      publish(bob, 2, Relation.finetune, [{ kind: EdgeKind.model, id: 1, share_bps: 3_000 }], 'v2'),
      sign(V, registerAgentTx, {
        name: 'agent',
        controllers: [carol.publicKey],
        model_version_id: 1,
        fee_bps: 1_000,
        spend_limit: 10n ** 9n,
        stake: 0n,
      }),
    ]);
    await commitAll([
      sign(V, recordAttributionTx, {
        model_version_id: 1,
        request_hash: none,
        method: AttributionMethod.declared,
        weights_hash: none,
        index_root: none,
        output_hash: none,
        seed: none,
        weights: [{ kind: TargetKind.contribution, id: 1, bps: 10_000 }],
      }),
      publish(V, 1, Relation.quantize, [{ kind: EdgeKind.model, id: 2, share_bps: 9_000 }], 'v3'),
      sign(V, transferTx, { to: agentAccount(1), amount: 10n ** 9n }),
      sign(carol, openDisputeTx, {
        target_kind: DisputeTarget.modelVersion,
        target_id: 2,
        reason: DisputeReason.falseLineage,
        evidence_hash: h('no such lineage'),
        bond: 2_000n,
        target_seq: 0,
      }),
    ]);
    const payment = (request: string, attribution: number) => ({
      request_hash: h(request),
      response_hash: h(`${request} response`),
      attribution_id: attribution,
    });
    await commitAll([
      sign(V, payTx, { model_version_id: 1, amount: 10_000n, agent_id: 0, ...payment('declared', 1) }),
      sign(V, payTx, { model_version_id: 3, amount: 7_777n, agent_id: 0, ...payment('lineage', 0) }),
      sign(V, actTx, {
        agent_id: 1,
        kind: 'inference',
        model_version_id: 1,
        input_hash: h('act input'),
        output_hash: h('act output'),
        prev_action_hash: none,
        payment: { amount: 5_000n, ...payment('act', 0) },
      }),
      sign(V, voteDisputeTx, { dispute_id: 1, uphold: true }),
      sign(bob, respondDisputeTx, { dispute_id: 1, evidence_hash: h('it is a finetune'), counter_bond: 1_000n }),
    ]);
    const open = (await keep('dispute_get', [1])) as { status: string; answered: boolean };
    expect([open.status, open.answered]).toEqual(['open', true]);
    await keep('dispute_list', [null, null, 'open']);
    await commitAll([
      sign(carol, openDisputeTx, {
        target_kind: DisputeTarget.agentAction,
        target_id: 1,
        reason: DisputeReason.misconduct,
        evidence_hash: h('bad action'),
        bond: 2_000n,
        target_seq: 0,
      }),
    ]);
    // The proposal executes and the lineage dispute is upheld (flagging version 2) at the end of their windows.
    await until(
      async () => {
        const p = await rpc.call<{ status: string }>('gov_getProposal', [1]);
        const d = await rpc.call<{ status: string }>('dispute_get', [1]);
        return p.status === 'executed' && d.status === 'upheld' ? true : undefined;
      },
      60_000,
      200,
    );
    // Last: a sole validator is slashed and tombstoned but stays in the set, so the chain goes on.
    await commitAll([sign(V, submitEvidenceTx, doubleSign(V))]);
  }

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    const genesisPath = homePaths(home).genesis;
    const genesis = JSON.parse(readFileSync(genesisPath, 'utf8'));
    genesis.params.modules = {
      ...genesis.params.modules,
      gov: {
        minDeposit: '1000',
        depositPeriodBlocks: 100_000,
        votingDelayBlocks: 0,
        votingPeriodBlocks: GOV_VOTING_BLOCKS,
        executionDelayBlocks: 2,
      },
      dispute: { votingBlocks: DISPUTE_VOTING_BLOCKS, minBond: '1000' },
    };
    writeFileSync(genesisPath, JSON.stringify(genesis, null, 2));
    validator = loadKey(homePaths(home).keys, 'validator').key;
    const config: NodeConfig = { ...DEFAULT_CONFIG, rpc: { ...DEFAULT_CONFIG.rpc, port: 0 }, blockIntervalMs: 100 };
    node = await startNode(home, config, pino({ level: 'silent' }));
    rpc = new RpcClient(`http://127.0.0.1:${node.rpcAddress.port}`);
    sender = addressOf(validator);
    await buildEconomy();
    txHex = sign(validator, transferTx, { to: addressFromPublicKey(bob.publicKey), amount: 1n });
    doc = await rpc.call<Document>('rpc.discover');
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('is valid against the OpenRPC meta-schema', () => {
    // No formats: the meta-schema's only ones are URIs, which this document does not use.
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    // The package exports the meta-schema as a value its type declarations leave out.
    const { openrpcDocument } = metaSchemaPackage as unknown as { openrpcDocument: Record<string, unknown> };
    const { $schema: _metaOfMeta, ...meta } = openrpcDocument;
    // It points its JSON Schema definitions at meta.json-schema.tools (no fetching in tests): that
    // is draft-07, which ajv ships, plus the `$ref` string the reference object reuses.
    ajv.addSchema({
      $id: 'https://meta.json-schema.tools/',
      allOf: [{ $ref: 'http://json-schema.org/draft-07/schema#' }],
      definitions: { JSONSchemaObject: { properties: { $ref: { type: 'string' } } } },
    });
    ajv.addSchema({ $id: 'https://meta.json-schema.tools', allOf: [{ $ref: 'https://meta.json-schema.tools/' }] });
    const validate = ajv.compile(meta);
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    // The validator does refuse what is not OpenRPC.
    expect(validate({ ...doc, methods: [{ name: 'x' }] })).toBe(false);
    expect(validate({ ...doc, openrpc: '9.9.9' })).toBe(false);
    expect(doc.openrpc).toMatch(/^1\.3\./);
    // Every schema it carries compiles as JSON Schema.
    for (const m of doc.methods) {
      for (const p of m.params) expect(() => ajv.compile(p.schema), `${m.name}.${p.name}`).not.toThrow();
      expect(() => ajv.compile(m.result.schema), `${m.name} result`).not.toThrow();
    }
  });

  it('lists exactly the methods the server dispatches, each with its params', async () => {
    const table = await rpc.call<{ name: string; params: { name: string; optional: boolean }[] }[]>('rpc_methods');
    expect(doc.methods.map((m) => m.name).sort()).toEqual(table.map((m) => m.name).sort());
    for (const m of table) {
      const documented = doc.methods.find((d) => d.name === m.name)!;
      expect(documented.params.map((p) => [p.name, !p.required])).toEqual(m.params.map((p) => [p.name, p.optional]));
    }
    // Module queries are in it without a list of their own (one of each kind of module).
    const names = new Set(doc.methods.map((m) => m.name));
    for (const name of ['account_get', 'bank_supply', 'inference_listPayments', 'chain_getEvents', 'chain_subscribe'])
      expect(names.has(name), name).toBe(true);
    // The finalized tag is documented as BFT finality.
    const tag = doc.methods.find((m) => m.name === 'chain_getHeader')!.params[0]!.schema;
    expect(JSON.stringify(tag)).toContain('the last committed block (BFT finality)');
  });

  it('documents every error number the server uses, each once per code', () => {
    const errors = Object.values(doc.components.errors);
    const byCode = new Map(errors.map((e) => [e.message, e.code]));
    expect(byCode.get('rpc/method_not_found')).toBe(-32601);
    expect(byCode.get('rpc/invalid_cursor')).toBe(-32062);
    expect(byCode.get('rpc/range_too_large')).toBe(-32061);
    expect(byCode.get('tx_rejected')).toBe(-32030);
    expect(byCode.get('query_failed')).toBe(-32040);
    expect(byCode.size).toBe(errors.length);
  });

  it('every documented method exists on the server', async () => {
    for (const m of doc.methods) {
      const outcome = await rpc.call(m.name, []).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
      // Without params a method may refuse them, or want a WebSocket, but it is there.
      expect(outcome, m.name).not.toBe('rpc/method_not_found');
      expect(outcome, m.name).not.toBe('rpc/internal_error');
    }
    expect(await rpc.call('no_such_method').catch((e: { code: string }) => e.code)).toBe('rpc/method_not_found');
  });

  it('every method publishes a result schema', () => {
    for (const m of doc.methods) expect(Object.keys(m.result.schema).length, m.name).toBeGreaterThan(0);
  });

  it('real answers match the published result schemas', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validators = new Map<string, ValidateFunction>(
      doc.methods.map((m) => [m.name, ajv.compile(m.result.schema)]),
    );
    const bobAddress = addressOf(bob);
    const head = (await rpc.call<{ height: number }>('chain_status')).height;
    const firstPayments = await rpc.call<{ next: string }>('inference_listPayments', [
      'payer',
      sender,
      null,
      null,
      null,
      1,
    ]);
    const firstDisputes = await rpc.call<{ nextCursor: string }>('dispute_list', [null, null, null, null, 1]);
    const firstProposals = await rpc.call<{ cursor: string }>('gov_listProposals', [null, 1]);
    /** A method, its params, and optionally what the answer must show (that the record is there). */
    type Call = [string, unknown[], ((result: never) => unknown)?];
    const nonEmpty = (key: string) => (r: Record<string, unknown[]>) => expect(r[key]!.length).toBeGreaterThan(0);
    const calls: Call[] = [
      ['chain_status', []],
      ['chain_params', []],
      ['chain_getBlock', [1]],
      ['chain_getBlock', ['latest', true]],
      ['chain_getBlock', ['finalized']],
      ['chain_getHeader', ['earliest']],
      ['chain_getHeader', [1]],
      ['chain_getCommit', [1]],
      ['chain_getValidators', []],
      ['chain_getBlockResults', [1]],
      ['tx_get', [txHash]],
      ['tx_get', [`0x${'00'.repeat(32)}`]],
      ['tx_simulate', [txHex]],
      ['account_nextNonce', [sender]],
      ['state_keyKinds', []],
      ['state_getProof', [{ kind: 'supply' }]],
      ['chain_getEvents', [{ types: ['transfer'], fromHeight: 1, limit: 1 }]],
      ['tx_listBySender', [sender]],
      ['rpc_methods', []],
      ['rpc.discover', []],
      // Module queries, each about records the economy above made.
      ['chainconfig_getValidators', []],
      ['chainconfig_getParams', [], nonEmpty('schedule')],
      ['account_get', [sender]],
      ['account_get', [bobAddress, 1]],
      ['bank_supply', []],
      [
        'stake_get',
        [sender],
        (r: { roles: { validator: { bonded: string } } }) => expect(r.roles.validator.bonded).not.toBe('0'),
      ],
      ['stake_get', [bobAddress]],
      ['stake_totals', []],
      [
        'validator_list',
        [],
        (r: { validators: { tombstoned: boolean }[] }) => expect(r.validators[0]!.tombstoned).toBe(true),
      ],
      ['evidence_list', [sender], (r: unknown[]) => expect(r.length).toBe(1)],
      ['evidence_list', [bobAddress], (r: unknown[]) => expect(r).toEqual([])],
      ['gov_getProposal', [1], (r: { status: string; tally: unknown }) => expect(r.status).toBe('executed')],
      ['gov_getProposal', [2], (r: { status: string }) => expect(r.status).toBe('deposit')],
      ['gov_getProposal', [3], nonEmpty('deposits')],
      ['gov_listProposals', [], (r: { proposals: unknown[] }) => expect(r.proposals.length).toBe(3)],
      ['gov_listProposals', [null, 1], (r: { cursor: string | null }) => expect(r.cursor).not.toBeNull()],
      ['gov_listProposals', ['deposit', 1, firstProposals.cursor]],
      ['datanet_get', [1], nonEmpty('curators')],
      ['datanet_listContributions', [1], nonEmpty('contributions')],
      ['datanet_getContribution', [1], (r: { status: string }) => expect(r.status).toBe('accepted')],
      ['datanet_getModels', [1], nonEmpty('versions')],
      ['datanet_getModels', [99], (r: { versions: unknown[] }) => expect(r.versions).toEqual([])],
      ['model_get', [2], (r: { flaggedByDispute: number | null }) => expect(r.flaggedByDispute).toBe(1)],
      ['model_get', [3], nonEmpty('flaggedAncestors')],
      ['model_getFamily', [1]],
      ['model_getLineage', [2], nonEmpty('descendants')],
      ['model_getLineage', [3], nonEmpty('ancestors')],
      ['model_getUsage', [1]],
      ['attribution_get', [1]],
      ['agent_get', [1], nonEmpty('controllers')],
      ['agent_getActions', [1], nonEmpty('actions')],
      ['account_getEarnings', [sender]],
      ['account_getEarnings', [bobAddress], nonEmpty('lockedByContribution')],
      ['attribution_trace', [1], nonEmpty('legs')],
      ['inference_getPayment', [1]],
      ['inference_listPayments', ['payer', sender], nonEmpty('payments')],
      ['inference_listPayments', ['payer', sender, null, null, firstPayments.next, 1], nonEmpty('payments')],
      ['inference_listPayments', ['model', 1], nonEmpty('payments')],
      ['inference_listPayments', ['earner', sender], nonEmpty('payments')],
      ['usage_summary', []],
      ['usage_feesDistributed', [1, head], nonEmpty('blocks')],
      ['dispute_get', [1], (r: { status: string }) => expect(r.status).toBe('upheld')],
      ['dispute_get', [2], (r: { target: { seq?: number } }) => expect(r.target.seq).toBe(0)],
      ['dispute_list', [], (r: { disputes: unknown[] }) => expect(r.disputes.length).toBe(2)],
      ['dispute_list', [null, null, null, firstDisputes.nextCursor, 1], nonEmpty('disputes')],
      ['dispute_list', ['model_version', 2, 'upheld'], nonEmpty('disputes')],
      ['tx_submit', [txHex]],
    ];
    const checked = new Set<string>();
    for (const [method, params, result] of early) {
      const validate = validators.get(method)!;
      expect(validate(result) ? [] : validate.errors, `${method}(${JSON.stringify(params)}) while open`).toEqual([]);
    }
    for (const [method, params, shows] of calls) {
      const result = await rpc.call(method, params);
      const validate = validators.get(method)!;
      expect(validate(result) ? [] : validate.errors, `${method}(${JSON.stringify(params)})`).toEqual([]);
      shows?.(result as never);
      checked.add(method);
    }
    // The client's typed methods are all served, each with a published result schema checked above.
    for (const name of CORE_METHOD_NAMES) expect(checked, name).toContain(name);
    // Every method, core or module, was checked against a real answer.
    const unchecked = doc.methods.map((m) => m.name).filter((n) => !checked.has(n) && !WEBSOCKET_ONLY.includes(n));
    expect(unchecked).toEqual([]);
  });

  it('a query about an absent record answers with its coded error, not a shape outside the schema', async () => {
    const absent: [string, unknown[], string][] = [
      ['gov_getProposal', [99], 'gov/not_found'],
      ['datanet_get', [99], 'datanet/not_found'],
      ['datanet_listContributions', [99], 'datanet/not_found'],
      ['datanet_getContribution', [99], 'datanet/contribution_not_found'],
      ['model_get', [99], 'model/not_found'],
      ['model_getFamily', [99], 'model/family_not_found'],
      ['model_getLineage', [99], 'model/not_found'],
      ['model_getUsage', [99], 'model/not_found'],
      ['attribution_get', [99], 'attribution/not_found'],
      ['agent_get', [99], 'agent/not_found'],
      ['agent_getActions', [99], 'agent/not_found'],
      ['attribution_trace', [99], 'inference/not_found'],
      ['inference_getPayment', [99], 'inference/not_found'],
      ['dispute_get', [99], 'dispute/not_found'],
      ['dispute_list', [null, null, null, 'not-a-cursor'], 'rpc/invalid_cursor'],
    ];
    for (const [method, params, code] of absent) {
      const outcome = await rpc.call(method, params).then(
        () => 'answered',
        (e: { code: string }) => e.code,
      );
      expect(outcome, method).toBe(code);
    }
  });
});
