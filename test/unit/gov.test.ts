import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Receipt } from '../../src/codec/core.ts';
import { addressFromPublicKey, formatAddress, type Address } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { TREASURY } from '../../src/attribution/store.ts';
import { TX_CLI_SPECS } from '../../src/cli/specs/index.ts';
import type { TxDefinition } from '../../src/state/module.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { depositTx, proposeTx, voteTx } from '../../src/state/gov/txs.ts';
import { ContentKind, GOV_DEPOSITS, VoteOption, type Content } from '../../src/state/gov/records.ts';
import { parseGovParams, DEFAULT_GOV_PARAMS } from '../../src/state/gov/params.ts';
import { parseParams } from '../../src/state/params.ts';
import { UPDATE_DELAY } from '../../src/state/chainconfig/keeper.ts';
import { commitSigners } from '../../src/consensus/block-builder.ts';
import { defaultRegistry } from '../../src/modules.ts';
import { openChain } from '../../src/node.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';
import { TestChain } from '../helpers/test-chain.ts';
import { bondTx } from '../../src/state/staking/txs.ts';

/*
 * Governance end to end on a TestChain (real state tree, real signatures, real blocks): every
 * proposal kind passes and takes effect at the height it states; a rejected and an under-quorum
 * vote change nothing but the deposits, which follow the documented rule to the base unit; an
 * invalid parameter value fails at execution with its coded error. TestChain checks the supply,
 * the gov deposit invariant and every other module invariant after each block.
 */

const FEE = 1000n;
const MIN_DEPOSIT = 1_000n;
const MIN_VALIDATOR_BOND = 5_000n;
// Small periods: deposits for 3 blocks, votes from the block after the minimum is in, for 2
// blocks, executed 1 block after the tally.
const GOV = {
  minDeposit: MIN_DEPOSIT.toString(),
  depositPeriodBlocks: 3,
  votingDelayBlocks: 1,
  votingPeriodBlocks: 2,
  quorumBps: 2_500,
  thresholdBps: 5_000,
  executionDelayBlocks: 1,
};

interface Actors {
  chain: TestChain;
  v0: SigningKey;
  alice: SigningKey;
  bob: SigningKey;
  carol: SigningKey;
  dave: SigningKey;
  candidate: SigningKey;
}

const addr = (k: SigningKey): Address => addressFromPublicKey(k.publicKey);

async function setup(): Promise<Actors> {
  const [v0, alice, bob, carol, dave, candidate] = Array.from({ length: 6 }, () => SigningKey.generate()) as [
    SigningKey,
    SigningKey,
    SigningKey,
    SigningKey,
    SigningKey,
    SigningKey,
  ];
  const chain = await TestChain.create({
    validator: v0,
    signers: [candidate],
    funded: [v0, alice, bob, carol, dave, candidate].map((key) => ({ key, balance: 1_000_000n })),
    params: {
      modules: {
        gov: GOV,
        staking: { minBond: { validator: MIN_VALIDATOR_BOND.toString(), contributor: '1000', curator: '1000' } },
      },
    },
  });
  // Bonded stake: bob 10,000, carol 5,000, dave 1,000 (16,000 in all).
  await chain.block([
    chain.sign(bob, bondTx, { role: 'contributor', amount: 10_000n }),
    chain.sign(carol, bondTx, { role: 'curator', amount: 5_000n }),
    chain.sign(dave, bondTx, { role: 'contributor', amount: 1_000n }),
  ]);
  return { chain, v0, alice, bob, carol, dave, candidate };
}

function content(kind: number, fields: Partial<Content>): Content {
  return {
    kind,
    title: 'a proposal',
    params_json: '',
    public_key: new Uint8Array(0),
    power: 0,
    name: '',
    recipient: new Uint8Array(0),
    amount: 0n,
    ...fields,
  };
}

function attribute(receipt: Receipt, type: string, key: string): string {
  const event = receipt.events.find((e) => e.type === type);
  const value = event?.attributes.find((a) => a.key === key)?.value;
  if (value === undefined) throw new Error(`no ${type}.${key} in the receipt`);
  return value;
}

function expectOk(r: Receipt): Receipt {
  expect(r.error_code).toBe('');
  return r;
}

async function propose(chain: TestChain, key: SigningKey, c: Content, deposit = MIN_DEPOSIT): Promise<number> {
  const r = expectOk(await chain.run(chain.sign(key, proposeTx, { content: c, initial_deposit: deposit })));
  return Number(attribute(r, 'gov_proposal_submitted', 'proposal_id'));
}

type ProposalJson = {
  status: string;
  votingStartHeight: number;
  votingEndHeight: number;
  executeHeight: number | null;
  effectiveHeight: number | null;
  decidedHeight: number | null;
  totalDeposit: string;
  tally: { yes: string; no: string; abstain: string; eligible: string } | null;
  error: { code: string; message: string } | null;
  deposits: { depositor: string; amount: string }[];
};

async function proposal(chain: TestChain, id: number): Promise<ProposalJson> {
  return (await chain.query('gov_getProposal', { id })) as unknown as ProposalJson;
}

/** Empty blocks until the last committed height is `height`. */
async function advanceTo(chain: TestChain, height: number): Promise<void> {
  expect(chain.app.height).toBeLessThanOrEqual(height);
  while (chain.app.height < height) await chain.block([]);
}

describe('gov: parameters', () => {
  it('defaults are OpenLedger governor shapes in 1-second blocks, 100 OPEN at 18 decimals', () => {
    expect(parseGovParams(parseParams({}))).toEqual(DEFAULT_GOV_PARAMS);
    expect(DEFAULT_GOV_PARAMS.minDeposit).toBe(100_000_000_000_000_000_000n);
    expect(DEFAULT_GOV_PARAMS.votingDelayBlocks).toBe(86_400);
    expect(DEFAULT_GOV_PARAMS.votingPeriodBlocks).toBe(1_209_600);
    expect(DEFAULT_GOV_PARAMS.executionDelayBlocks).toBe(86_400);
    expect(DEFAULT_GOV_PARAMS.quorumBps).toBe(2_500);
    for (const bad of [
      { quorumBps: 0 },
      { thresholdBps: 4_999 },
      { votingPeriodBlocks: 0 },
      { minDeposit: '0' },
      { x: 1 },
    ]) {
      expect(() => parseGovParams(parseParams({ modules: { gov: bad } })), JSON.stringify(bad)).toThrowError(
        expect.objectContaining({ code: 'params/invalid' }),
      );
    }
  });
});

describe('gov: proposals pass and take effect at the stated height', () => {
  it('a parameter change: voted by bonded stake, executed after the timelock, in force two blocks later', async () => {
    const { chain, alice, bob, carol } = await setup();
    const aliceBefore = await chain.balance(addr(alice));
    const id = await propose(
      chain,
      alice,
      content(ContentKind.paramChange, { params_json: JSON.stringify({ maxBlockTxs: 5_000 }) }),
    );
    const submitted = chain.app.height;
    let p = await proposal(chain, id);
    expect(p.status).toBe('voting');
    expect(p.votingStartHeight).toBe(submitted + 1);
    expect(p.votingEndHeight).toBe(submitted + 2);
    expect(await chain.balance(addr(alice))).toBe(aliceBefore - FEE - MIN_DEPOSIT);
    expect(await chain.balance(GOV_DEPOSITS)).toBe(MIN_DEPOSIT);

    expectOk(await chain.run(chain.sign(bob, voteTx, { proposal_id: id, option: VoteOption.yes })));
    expectOk(await chain.run(chain.sign(carol, voteTx, { proposal_id: id, option: VoteOption.no })));
    p = await proposal(chain, id);
    expect(p.status).toBe('passed');
    expect(p.tally).toEqual({ yes: '10000', no: '5000', abstain: '0', eligible: '16000' });
    // Quorum reached: the deposit is back, to the base unit.
    expect(await chain.balance(addr(alice))).toBe(aliceBefore - FEE);
    expect(await chain.balance(GOV_DEPOSITS)).toBe(0n);
    const executeAt = submitted + 3;
    expect(p.executeHeight).toBe(executeAt);

    await advanceTo(chain, executeAt);
    p = await proposal(chain, id);
    expect(p.status).toBe('executed');
    expect(p.effectiveHeight).toBe(executeAt + UPDATE_DELAY);
    expect(chain.app.info().params.maxBlockTxs).toBe(20_000); // in force at executeAt + 1
    await chain.block([]);
    expect(chain.app.info().params.maxBlockTxs).toBe(5_000); // in force at executeAt + 2
  });

  it("a change to one field of a module section keeps the section's other fields", async () => {
    const { chain, alice, bob } = await setup();
    const id = await propose(
      chain,
      alice,
      content(ContentKind.paramChange, { params_json: JSON.stringify({ modules: { gov: { quorumBps: 3_000 } } }) }),
    );
    const executeAt = chain.app.height + 3;
    await chain.block([]);
    expectOk(await chain.run(chain.sign(bob, voteTx, { proposal_id: id, option: VoteOption.yes })));
    await advanceTo(chain, executeAt + UPDATE_DELAY - 1);
    expect((await proposal(chain, id)).status).toBe('executed');
    expect(chain.app.info().params.modules.gov).toEqual({ ...GOV, quorumBps: 3_000 });
  });

  it('a treasury spend: paid from the treasury in the execution block', async () => {
    const { chain, alice, bob, dave } = await setup();
    expectOk(await chain.run(chain.sign(alice, transferTx, { to: TREASURY, amount: 50_000n })));
    const treasuryBefore = await chain.balance(TREASURY);
    const daveBefore = await chain.balance(addr(dave));
    const id = await propose(
      chain,
      alice,
      content(ContentKind.treasurySpend, { recipient: addr(dave), amount: 20_000n }),
    );
    const executeAt = chain.app.height + 3;
    await chain.block([]);
    expectOk(await chain.run(chain.sign(bob, voteTx, { proposal_id: id, option: VoteOption.yes })));
    await advanceTo(chain, executeAt - 1);
    expect(await chain.balance(addr(dave))).toBe(daveBefore);
    await chain.block([]);
    const p = await proposal(chain, id);
    expect(p.status).toBe('executed');
    expect(p.effectiveHeight).toBe(executeAt);
    expect(await chain.balance(addr(dave))).toBe(daveBefore + 20_000n);
    expect(await chain.balance(TREASURY)).toBe(treasuryBefore - 20_000n);
  });

  it('a validator addition and a removal: one vote per validator, the set changes at execution + 2', async () => {
    const { chain, v0, alice, candidate } = await setup();
    expectOk(await chain.run(chain.sign(candidate, bondTx, { role: 'validator', amount: MIN_VALIDATOR_BOND })));
    const add = await propose(
      chain,
      alice,
      content(ContentKind.validatorAddition, { public_key: candidate.publicKey, power: 1, name: 'v1' }),
    );
    const addExecuteAt = chain.app.height + 3;
    // A staker who is not a validator has no vote on the set.
    const outsider = await chain.run(chain.sign(alice, voteTx, { proposal_id: add, option: VoteOption.yes }));
    expect(outsider.error_code).toBe('gov/not_validator');
    expectOk(await chain.run(chain.sign(v0, voteTx, { proposal_id: add, option: VoteOption.yes })));
    expect((await proposal(chain, add)).tally).toEqual({ yes: '1', no: '0', abstain: '0', eligible: '1' });
    await advanceTo(chain, addExecuteAt);
    expect((await proposal(chain, add)).effectiveHeight).toBe(addExecuteAt + UPDATE_DELAY);
    expect((await chain.committed.validatorSet(addExecuteAt + 1)).validators).toHaveLength(1);
    expect((await chain.committed.validatorSet(addExecuteAt + 2)).validators.map((v) => toHex(v.publicKey))).toContain(
      toHex(candidate.publicKey),
    );
    expect(chain.app.info().nextValidators).toHaveLength(2);
    // Blocks from addExecuteAt + 2 need both signatures (TestChain holds the candidate's key).
    await advanceTo(chain, addExecuteAt + 2);

    const remove = await propose(
      chain,
      alice,
      content(ContentKind.validatorRemoval, { public_key: candidate.publicKey }),
    );
    const removeExecuteAt = chain.app.height + 3;
    await chain.block([]);
    await chain.block([
      chain.sign(v0, voteTx, { proposal_id: remove, option: VoteOption.yes }),
      chain.sign(candidate, voteTx, { proposal_id: remove, option: VoteOption.no }),
    ]);
    // 1 yes, 1 no: not more than half of the decided votes, rejected.
    expect((await proposal(chain, remove)).status).toBe('rejected');

    const again = await propose(
      chain,
      alice,
      content(ContentKind.validatorRemoval, { public_key: candidate.publicKey }),
    );
    const againExecuteAt = chain.app.height + 3;
    await chain.block([]);
    await chain.block([
      chain.sign(v0, voteTx, { proposal_id: again, option: VoteOption.yes }),
      chain.sign(candidate, voteTx, { proposal_id: again, option: VoteOption.yes }),
    ]);
    expect(removeExecuteAt).toBeLessThan(againExecuteAt);
    await advanceTo(chain, againExecuteAt);
    const p = await proposal(chain, again);
    expect(p.status).toBe('executed');
    expect((await chain.committed.validatorSet(againExecuteAt + 1)).validators).toHaveLength(2);
    expect(
      (await chain.committed.validatorSet(againExecuteAt + 2)).validators.map((v) => formatAddress(v.address)),
    ).toEqual([formatAddress(addr(v0))]);
    await advanceTo(chain, againExecuteAt + 3);

    // Replayed from its blocks on a second node, the chain reaches the same roots and sets.
    const replica = (await openChain({ db: new MemoryKvStore(), genesis: chain.genesis, registry: defaultRegistry() }))
      .chain;
    for (let h = 1; h <= chain.committed.latestHeight; h++) {
      const stored = (await chain.committed.blocks.getBlock(h))!;
      const header = stored.block.header!;
      const finalized = await replica.app.finalizeBlock(
        {
          chainId: header.chain_id,
          height: h,
          timeMs: header.time_ms,
          proposer: header.proposer,
          lastCommitSigners: commitSigners(stored.block.last_commit),
        },
        stored.block.txs.map((t) => replica.app.decodeTx(t)),
      );
      expect(toHex(finalized.stateRoot)).toBe(toHex(header.state_root));
      await replica.commitBlock(stored.block, (await chain.committed.blocks.getCommit(h))!, finalized);
    }
    expect(replica.app.info().validators.map((v) => formatAddress(v.address))).toEqual([formatAddress(addr(v0))]);
  });
});

describe('gov: failures change nothing', () => {
  it('a rejected vote refunds every depositor to the base unit and changes no parameter', async () => {
    const { chain, alice, bob, carol } = await setup();
    const aliceBefore = await chain.balance(addr(alice));
    const carolBefore = await chain.balance(addr(carol));
    const id = await propose(
      chain,
      alice,
      content(ContentKind.paramChange, { params_json: JSON.stringify({ maxBlockTxs: 7 }) }),
      400n,
    );
    expect((await proposal(chain, id)).status).toBe('deposit');
    expectOk(await chain.run(chain.sign(carol, depositTx, { proposal_id: id, amount: 700n })));
    let p = await proposal(chain, id);
    expect(p.status).toBe('voting');
    expect(p.totalDeposit).toBe('1100');
    expect(await chain.balance(GOV_DEPOSITS)).toBe(1_100n);
    const paramsBefore = chain.app.info().params;
    await chain.block([
      chain.sign(bob, voteTx, { proposal_id: id, option: VoteOption.no }),
      chain.sign(carol, voteTx, { proposal_id: id, option: VoteOption.yes }),
    ]);
    await chain.block([]);
    p = await proposal(chain, id);
    expect(p.status).toBe('rejected');
    expect(p.tally).toEqual({ yes: '5000', no: '10000', abstain: '0', eligible: '16000' });
    expect(await chain.balance(addr(alice))).toBe(aliceBefore - FEE);
    expect(await chain.balance(addr(carol))).toBe(carolBefore - 2n * FEE);
    expect(await chain.balance(GOV_DEPOSITS)).toBe(0n);
    await advanceTo(chain, chain.app.height + 3);
    expect(chain.app.info().params).toEqual(paramsBefore);
  });

  it('an under-quorum vote sends the deposits to the treasury and changes nothing else', async () => {
    const { chain, alice, dave } = await setup();
    const treasuryBefore = await chain.balance(TREASURY);
    const aliceBefore = await chain.balance(addr(alice));
    const id = await propose(
      chain,
      alice,
      content(ContentKind.treasurySpend, { recipient: addr(alice), amount: 1n }),
      1_234n,
    );
    await chain.block([]);
    // dave's 1,000 of 16,000 bonded is 6.25 %, under the 25 % quorum.
    expectOk(await chain.run(chain.sign(dave, voteTx, { proposal_id: id, option: VoteOption.yes })));
    const p = await proposal(chain, id);
    expect(p.status).toBe('no_quorum');
    expect(p.tally).toEqual({ yes: '1000', no: '0', abstain: '0', eligible: '16000' });
    expect(p.executeHeight).toBeNull();
    expect(await chain.balance(TREASURY)).toBe(treasuryBefore + 1_234n);
    expect(await chain.balance(addr(alice))).toBe(aliceBefore - FEE - 1_234n);
    expect(await chain.balance(GOV_DEPOSITS)).toBe(0n);
  });

  it('an invalid parameter value fails at execution with its coded error, recorded in state and an event', async () => {
    const { chain, alice, bob } = await setup();
    const aliceBefore = await chain.balance(addr(alice));
    const id = await propose(
      chain,
      alice,
      content(ContentKind.paramChange, {
        params_json: JSON.stringify({ modules: { inference: { treasuryBps: 9_000, validatorBps: 9_000 } } }),
      }),
    );
    const executeAt = chain.app.height + 3;
    await chain.block([]);
    expectOk(await chain.run(chain.sign(bob, voteTx, { proposal_id: id, option: VoteOption.yes })));
    const paramsBefore = chain.app.info().params;
    const before = await chain.snapshot();
    await advanceTo(chain, executeAt - 1);
    const at = await chain.block([]);
    const failed = at.endBlockEvents.find((e) => e.type === 'gov_execution_failed');
    expect(failed?.attributes.find((a) => a.key === 'error_code')?.value).toBe('params/invalid');
    const p = await proposal(chain, id);
    expect(p.status).toBe('failed');
    expect(p.error?.code).toBe('params/invalid');
    expect(p.effectiveHeight).toBeNull();
    // Nothing outside the proposal record changed: no chainconfig or bank key.
    const after = await chain.snapshot();
    const changed = [...after.keys()].filter((k) => before.get(k) !== after.get(k));
    const text = (hex: string) => Buffer.from(hex, 'hex').toString('latin1');
    expect(changed.map(text).filter((k) => k.startsWith('chainconfig/') || k.startsWith('bank/'))).toEqual([]);
    await advanceTo(chain, executeAt + 3);
    expect(chain.app.info().params).toEqual(paramsBefore);
    expect(await chain.balance(addr(alice))).toBe(aliceBefore - FEE);
  });
});

describe('gov: rules of each step', () => {
  it('a validator addition whose candidate lacks the minimum validator bond fails at execution, the set unchanged', async () => {
    const { chain, v0, alice, candidate } = await setup();
    // Bonded, but in another role: it does not count.
    expectOk(await chain.run(chain.sign(candidate, bondTx, { role: 'contributor', amount: 50_000n })));
    const id = await propose(
      chain,
      alice,
      content(ContentKind.validatorAddition, { public_key: candidate.publicKey, power: 3 }),
    );
    const executeAt = chain.app.height + 3;
    expectOk(await chain.run(chain.sign(v0, voteTx, { proposal_id: id, option: VoteOption.yes })));
    await advanceTo(chain, executeAt + UPDATE_DELAY);
    const p = await proposal(chain, id);
    expect(p.status).toBe('failed');
    expect(p.error?.code).toBe('gov/insufficient_bond');
    expect(chain.app.info().validators.map((v) => formatAddress(v.address))).toEqual([formatAddress(addr(v0))]);
    expect(chain.app.info().nextValidators).toHaveLength(1);
  });

  it('a proposal below the minimum deposit when its deposit period ends expires and every depositor is refunded', async () => {
    const { chain, alice, bob } = await setup();
    const aliceBefore = await chain.balance(addr(alice));
    const bobBefore = await chain.balance(addr(bob));
    const id = await propose(
      chain,
      alice,
      content(ContentKind.treasurySpend, { recipient: addr(bob), amount: 5n }),
      300n,
    );
    const depositEnd = chain.app.height + 2;
    expectOk(await chain.run(chain.sign(bob, depositTx, { proposal_id: id, amount: 699n })));
    expect((await proposal(chain, id)).deposits).toEqual([
      { depositor: formatAddress(addr(alice)), amount: '300' },
      { depositor: formatAddress(addr(bob)), amount: '699' },
    ]);
    // Votes are refused before the vote opens.
    const early = await chain.run(chain.sign(bob, voteTx, { proposal_id: id, option: VoteOption.yes }));
    expect(early.error_code).toBe('gov/not_in_voting_period');
    expect(chain.app.height).toBe(depositEnd);
    const p = await proposal(chain, id);
    expect(p.status).toBe('expired');
    expect(p.decidedHeight).toBe(depositEnd);
    expect(await chain.balance(addr(alice))).toBe(aliceBefore - FEE);
    expect(await chain.balance(addr(bob))).toBe(bobBefore - 2n * FEE);
    expect(await chain.balance(GOV_DEPOSITS)).toBe(0n);
    const late = await chain.run(chain.sign(bob, depositTx, { proposal_id: id, amount: 1_000n }));
    expect(late.error_code).toBe('gov/not_in_deposit_period');
  });

  it('a vote weighs the stake bonded at the tally, a later vote replaces an earlier one, abstentions count for quorum only', async () => {
    const { chain, alice, bob, carol } = await setup();
    const id = await propose(chain, alice, content(ContentKind.paramChange, { params_json: '{"maxTxBytes":32768}' }));
    await chain.block([
      chain.sign(bob, voteTx, { proposal_id: id, option: VoteOption.no }),
      chain.sign(carol, voteTx, { proposal_id: id, option: VoteOption.yes }),
    ]);
    // bob changes his mind to abstain and carol bonds 6,000 more before the tally.
    await chain.block([
      chain.sign(bob, voteTx, { proposal_id: id, option: VoteOption.abstain }),
      chain.sign(carol, bondTx, { role: 'contributor', amount: 6_000n }),
    ]);
    const p = await proposal(chain, id);
    expect(p.tally).toEqual({ yes: '11000', no: '0', abstain: '10000', eligible: '22000' });
    expect(p.status).toBe('passed');
    const noStake = await chain.run(chain.sign(alice, voteTx, { proposal_id: id, option: VoteOption.yes }));
    expect(noStake.error_code).toBe('gov/not_in_voting_period');
  });

  it('refuses malformed proposals and votes with coded errors before they reach a block', async () => {
    const { chain, alice } = await setup();
    const bad: [Partial<Content> & { kind: number }, string][] = [
      [{ kind: 9 }, 'unknown content kind'],
      [{ kind: ContentKind.paramChange, params_json: '{"maxTxBytes": 1}' }, 'canonical'],
      [{ kind: ContentKind.paramChange, params_json: '{"maxTxBytes":1.5}' }, 'canonical'],
      [{ kind: ContentKind.paramChange, params_json: '{"nope":1}' }, 'unknown parameter'],
      [{ kind: ContentKind.paramChange, params_json: '{"modules":{"gov":3}}' }, 'must be an object'],
      [{ kind: ContentKind.paramChange, params_json: '{"maxTxBytes":1}', amount: 5n }, 'not a field'],
      [{ kind: ContentKind.validatorAddition, public_key: new Uint8Array(31), power: 1 }, '32-byte'],
      [{ kind: ContentKind.validatorAddition, public_key: new Uint8Array(32), power: 0 }, 'power'],
      [{ kind: ContentKind.treasurySpend, recipient: addr(alice) }, 'amount'],
      [{ kind: ContentKind.treasurySpend, recipient: new Uint8Array(3), amount: 1n }, 'address'],
    ];
    for (const [fields, message] of bad) {
      expect(() =>
        chain.sign(alice, proposeTx, { content: content(fields.kind, fields), initial_deposit: 0n }),
      ).toThrowError(expect.objectContaining({ code: 'gov/invalid', message: expect.stringContaining(message) }));
    }
    expect(() => chain.sign(alice, voteTx, { proposal_id: 1, option: 4 })).toThrowError(
      expect.objectContaining({ code: 'gov/invalid' }),
    );
    expect(() => chain.sign(alice, depositTx, { proposal_id: 0, amount: 1n })).toThrowError(
      expect.objectContaining({ code: 'gov/invalid' }),
    );
    const missing = await chain.run(chain.sign(alice, voteTx, { proposal_id: 77, option: VoteOption.yes }));
    expect(missing.error_code).toBe('gov/not_found');
    const id = await propose(chain, alice, content(ContentKind.paramChange, { params_json: '{"maxTxBytes":32768}' }));
    const unbonded = await chain.run(chain.sign(alice, voteTx, { proposal_id: id, option: VoteOption.yes }));
    expect(unbonded.error_code).toBe('gov/no_voting_power');
  });

  it('gov_listProposals pages by id with a cursor that is null exactly when nothing is left, filtered by status', async () => {
    const { chain, alice } = await setup();
    for (let i = 0; i < 5; i++) {
      await propose(
        chain,
        alice,
        content(ContentKind.treasurySpend, { recipient: addr(alice), amount: 1n }),
        i % 2 === 0 ? MIN_DEPOSIT : 1n,
      );
    }
    type Page = { proposals: { id: number; status: string }[]; cursor: string | null; head: number };
    const all: number[] = [];
    let cursor: string | null | undefined;
    do {
      const page = (await chain.query('gov_listProposals', {
        limit: 2,
        ...(cursor ? { cursor } : {}),
      })) as unknown as Page;
      expect(page.proposals.length).toBeLessThanOrEqual(2);
      all.push(...page.proposals.map((p) => p.id));
      cursor = page.cursor;
    } while (cursor);
    expect(all).toEqual([1, 2, 3, 4, 5]);
    const deposit = (await chain.query('gov_listProposals', { status: 'deposit' })) as unknown as Page;
    // 2 and 4 were short of the minimum; 2's three-block deposit period is over.
    expect(deposit.proposals.map((p) => p.id)).toEqual([4]);
    expect(deposit.cursor).toBeNull();
    const expired = (await chain.query('gov_listProposals', { status: 'expired', limit: 1 })) as unknown as Page;
    expect(expired.proposals.map((p) => p.id)).toEqual([2]);
    expect(expired.cursor).toBeNull();
    // Nobody voted on 1 and 3, so both were tallied under quorum; 5 is still open.
    const first = (await chain.query('gov_listProposals', { status: 'no_quorum', limit: 1 })) as unknown as Page;
    expect(first.proposals.map((p) => p.id)).toEqual([1]);
    expect(first.cursor).toEqual(expect.any(String));
    const rest = (await chain.query('gov_listProposals', {
      status: 'no_quorum',
      cursor: first.cursor,
    })) as unknown as Page;
    expect(rest.proposals.map((p) => p.id)).toEqual([3]);
    expect(rest.cursor).toBeNull();
    const open = (await chain.query('gov_listProposals', { status: 'voting' })) as unknown as Page;
    expect(open.proposals.map((p) => p.id)).toEqual([5]);
    await expect(chain.query('gov_listProposals', { status: 'maybe' })).rejects.toMatchObject({
      code: 'rpc/invalid_params',
    });
    await expect(chain.query('gov_listProposals', { limit: 0 })).rejects.toMatchObject({ code: 'rpc/range_too_large' });
    // The shared opaque cursor: a bare id, or another list's cursor, is refused.
    await expect(chain.query('gov_listProposals', { cursor: '1' })).rejects.toMatchObject({
      code: 'rpc/invalid_cursor',
    });
    await expect(chain.query('gov_getProposal', { id: 99 })).rejects.toMatchObject({ code: 'gov/not_found' });
  });
});

describe('gov: CLI', () => {
  it('every gov transaction has a tx command whose message passes validateBasic and round-trips', () => {
    const key = SigningKey.generate();
    const samples: Record<string, Record<string, string>> = {
      'gov/propose': {
        kind: 'param-change',
        title: 'raise the block size',
        params: '{ "maxBlockTxs": 30000 }',
        deposit: '100',
      },
      'gov/deposit': { proposal: '3', amount: '250' },
      'gov/vote': { proposal: '3', option: 'abstain' },
    };
    const proposals: Record<string, Record<string, string>> = {
      validator_addition: { publicKey: toHex(key.publicKey), power: '2', name: 'v9' },
      validator_removal: { publicKey: toHex(key.publicKey) },
      treasury_spend: { recipient: formatAddress(addr(key)), amount: '77' },
    };
    for (const def of [proposeTx, depositTx, voteTx] as TxDefinition<unknown>[]) {
      const spec = TX_CLI_SPECS[def.type];
      expect(spec, def.type).toBeDefined();
      const m = spec!.build(samples[def.type]!);
      def.validateBasic(m);
      expect(def.codec.decode(def.codec.encode(m))).toEqual(m);
    }
    expect(TX_CLI_SPECS['gov/propose']!.build(samples['gov/propose']!).content.params_json).toBe(
      '{"maxBlockTxs":30000}',
    );
    for (const [kind, options] of Object.entries(proposals)) {
      const m = TX_CLI_SPECS['gov/propose']!.build({ kind, title: kind, ...options });
      proposeTx.validateBasic(m);
    }
    expect(() => TX_CLI_SPECS['gov/vote']!.build({ proposal: '1', option: 'maybe' })).toThrowError(
      expect.objectContaining({ code: 'cli/invalid' }),
    );
  });
});

describe('gov: property', () => {
  type Step =
    | { t: 'propose'; who: number; kind: 'spend' | 'param' | 'bad'; deposit: bigint; amount: bigint }
    | { t: 'deposit'; who: number; back: number; amount: bigint }
    | { t: 'vote'; back: number; options: number[] }
    | { t: 'empty' };
  const who = fc.integer({ min: 0, max: 3 });
  /** Which proposal a step targets: 0 the latest submitted, 1 the one before, ... */
  const back = fc.integer({ min: 0, max: 2 });
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      t: fc.constant('propose' as const),
      who,
      kind: fc.constantFrom('spend' as const, 'param' as const, 'bad' as const),
      deposit: fc.oneof(fc.constant(MIN_DEPOSIT), fc.bigInt({ min: 0n, max: 2_000n })),
      amount: fc.bigInt({ min: 1n, max: 6_000n }),
    }),
    fc.record({ t: fc.constant('deposit' as const), who, back, amount: fc.bigInt({ min: 1n, max: 800n }) }),
    {
      // One block of votes on a proposal: alice, bob, carol, dave each skip (0) or vote 1..3.
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('vote' as const),
        back,
        options: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
      }),
    },
    fc.record({ t: fc.constant('empty' as const) }),
  );

  it('random proposals, deposits and votes: every proposal settles, the gov account empties, the treasury moves by exactly the rule', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 6, maxLength: 16 }), async (steps) => {
        const { chain, alice, bob, carol, dave } = await setup();
        const people = [alice, bob, carol, dave];
        expectOk(await chain.run(chain.sign(alice, transferTx, { to: TREASURY, amount: 8_000n })));
        const treasuryBefore = await chain.balance(TREASURY);
        let submitted = 0;
        const target = (back: number) => Math.max(1, submitted - back);
        for (const s of steps) {
          if (s.t === 'empty' || (s.t !== 'propose' && submitted === 0)) {
            await chain.block([]);
            continue;
          }
          if (s.t === 'propose') {
            const key = people[s.who]!;
            const c =
              s.kind === 'spend'
                ? content(ContentKind.treasurySpend, { recipient: addr(dave), amount: s.amount })
                : content(ContentKind.paramChange, {
                    params_json:
                      s.kind === 'param'
                        ? '{"maxTxBytes":60000}'
                        : '{"modules":{"inference":{"treasuryBps":9000,"validatorBps":9000}}}',
                  });
            const f = await chain.block([chain.sign(key, proposeTx, { content: c, initial_deposit: s.deposit })]);
            if (!f.receipts[0]!.failed) submitted++;
          } else if (s.t === 'deposit') {
            await chain.block([
              chain.sign(people[s.who]!, depositTx, { proposal_id: target(s.back), amount: s.amount }),
            ]);
          } else {
            const votes = people.flatMap((k, i) =>
              s.options[i] ? [chain.sign(k, voteTx, { proposal_id: target(s.back), option: s.options[i]! })] : [],
            );
            const f = await chain.block(votes);
            expect(f.receipts.map((r) => r.error_code)).not.toContain('gov/not_found');
          }
        }
        // Long enough for every proposal to go through deposit, vote and execution.
        await advanceTo(chain, chain.app.height + 10);
        const page = (await chain.query('gov_listProposals', {})) as unknown as {
          proposals: { status: string; totalDeposit: string; content: { kind: string; amount?: string } }[];
        };
        let toTreasury = 0n;
        let spent = 0n;
        for (const p of page.proposals) {
          expect(['executed', 'failed', 'rejected', 'no_quorum', 'expired']).toContain(p.status);
          if (p.status === 'no_quorum') toTreasury += BigInt(p.totalDeposit);
          if (p.status === 'executed' && p.content.kind === 'treasury_spend') spent += BigInt(p.content.amount!);
        }
        expect(await chain.balance(GOV_DEPOSITS)).toBe(0n);
        expect(await chain.balance(TREASURY)).toBe(treasuryBefore + toTreasury - spent);
      }),
      { numRuns: 25 },
    );
  });
});
