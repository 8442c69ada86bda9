import { describe, expect, it } from 'vitest';
import { VoteCodec, type Event, type Receipt } from '../../src/codec/core.ts';
import { VoteType, voteSignBytes } from '../../src/codec/protocol.ts';
import { addressFromPublicKey, formatAddress, type Address } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { sha256, utf8 } from '../../src/crypto/hash.ts';
import { TREASURY } from '../../src/attribution/store.ts';
import { submitEvidenceTx, type MsgSubmitEvidence } from '../../src/state/evidence/module.ts';
import { STAKING_POOL } from '../../src/state/staking/store.ts';
import { bondTx, unbondTx, unjailTx } from '../../src/state/staking/txs.ts';
import { TestChain } from '../helpers/test-chain.ts';

/*
 * Validator punishment on the real application. TestChain signs every commit with every
 * validator key it holds (v0 with power 10, v1 with power 1, so v0 alone is a quorum) unless one
 * is marked absent: an absent v1's precommit is missing from the last_commit of the following
 * blocks, which is what the liveness window reads. Double-sign evidence is real: two votes
 * signed with v1's key, submitted as an evidence/submit transaction.
 */

const addr = (k: SigningKey): Address => addressFromPublicKey(k.publicKey);

function ok(r: Receipt): Receipt {
  expect(r.error_code).toBe('');
  return r;
}

function attrs(e: Event): Record<string, string> {
  return Object.fromEntries(e.attributes.map((a) => [a.key, a.value]));
}

interface ValidatorListView {
  validators: {
    address: string;
    power: number;
    bond: string;
    jailed: boolean;
    missedInWindow: number;
    lastSignedHeight: number;
  }[];
  jailed: { address: string; tombstoned: boolean; jailedUntil: number; jailedPower: number }[];
}

async function setup(staking: Record<string, unknown>) {
  const v0 = SigningKey.generate();
  const v1 = SigningKey.generate();
  const alice = SigningKey.generate();
  const chain = await TestChain.create({
    funded: [v0, v1, alice].map((key) => ({ key, balance: 1_000_000_000n })),
    params: { modules: { staking: { minBond: { validator: '1000' }, ...staking } } },
    validator: v0,
    validatorPower: 10,
    extraValidators: [{ key: v1, power: 1 }],
  });
  ok(await chain.run(chain.sign(v1, bondTx, { role: 'validator', amount: 10_000n })));
  return { chain, v0, v1, alice };
}

const list = async (chain: TestChain) => (await chain.query('validator_list')) as unknown as ValidatorListView;
const setAddresses = async (chain: TestChain) =>
  (await chain.app.validatorsAt(chain.app.height + 1)).map((v) => formatAddress(v.address));

describe('downtime: jail and unjail', () => {
  it('a validator missing more than the window allows is slashed, removed at H + 2 and unjails after the delay with its bond', async () => {
    // Window 10, must sign 50%: the 6th miss jails.
    const { chain, v1 } = await setup({
      signedBlocksWindow: 10,
      minSignedBps: 5000,
      downtimeSlashBps: 1000,
      downtimeJailBlocks: 8,
    });
    for (let i = 0; i < 3; i++) await chain.block([]);
    const signing = (await list(chain)).validators.find((v) => v.address === formatAddress(addr(v1)))!;
    expect(signing).toMatchObject({ jailed: false, missedInWindow: 0, bond: '10000' });
    expect(signing.lastSignedHeight).toBe(chain.app.height - 1);

    chain.setAbsent(addr(v1), true);
    const treasury0 = await chain.balance(TREASURY);
    // Block k's commit lacks v1; block k + 1 counts it. So the 6th miss is counted 7 blocks on.
    let jailedAt: { height: number; event: Event } | undefined;
    for (let i = 0; i < 7 && !jailedAt; i++) {
      const f = await chain.block([]);
      const event = f.endBlockEvents.find((e) => e.type === 'validator_jailed');
      if (event) jailedAt = { height: f.info.height, event };
      else if (i < 6)
        expect((await list(chain)).validators.find((v) => v.address === formatAddress(addr(v1)))!.missedInWindow).toBe(
          i,
        );
    }
    expect(jailedAt).toBeDefined();
    const H = jailedAt!.height;
    expect(attrs(jailedAt!.event)).toMatchObject({
      validator: formatAddress(addr(v1)),
      reason: 'downtime',
      power: '1',
      jailed_until: String(H + 8),
      tombstoned: 'false',
      effective_height: String(H + 2),
    });
    // 10% of 10,000 to the treasury, out of the pool.
    expect(await chain.balance(TREASURY)).toBe(treasury0 + 1000n);
    expect(await chain.balance(STAKING_POOL)).toBe(9000n);
    // Still in the set signing H + 1; out from H + 2.
    expect(await setAddresses(chain)).toContain(formatAddress(addr(v1)));
    await chain.block([]);
    expect(await setAddresses(chain)).not.toContain(formatAddress(addr(v1)));
    expect((await list(chain)).jailed).toEqual([
      expect.objectContaining({
        address: formatAddress(addr(v1)),
        tombstoned: false,
        jailedUntil: H + 8,
        jailedPower: 1,
      }),
    ]);

    // Too early.
    expect((await chain.run(chain.sign(v1, unjailTx, {}))).error_code).toBe('staking/jail_not_expired');
    // Out of the set it may unbond below the minimum; then unjail needs the minimum back.
    ok(await chain.run(chain.sign(v1, unbondTx, { role: 'validator', amount: 8500n })));
    while (chain.app.height < H + 7) await chain.block([]);
    expect((await chain.run(chain.sign(v1, unjailTx, {}))).error_code).toBe('staking/below_min_bond');
    ok(await chain.run(chain.sign(v1, bondTx, { role: 'validator', amount: 600n })));
    chain.setAbsent(addr(v1), false);
    const unjailed = ok(await chain.run(chain.sign(v1, unjailTx, {})));
    const u = unjailed.events.find((e) => e.type === 'validator_unjailed')!;
    expect(attrs(u)).toMatchObject({
      validator: formatAddress(addr(v1)),
      power: '1',
      effective_height: String(chain.app.height + 2),
    });
    expect((await list(chain)).jailed).toEqual([]);
    await chain.block([]);
    await chain.block([]);
    expect(await setAddresses(chain)).toContain(formatAddress(addr(v1)));
    // Back in the set and signing: no misses counted.
    for (let i = 0; i < 4; i++) await chain.block([]);
    expect((await list(chain)).validators.find((v) => v.address === formatAddress(addr(v1)))).toMatchObject({
      jailed: false,
      missedInWindow: 0,
      bond: '1100',
    });
    expect((await chain.run(chain.sign(v1, unjailTx, {}))).error_code).toBe('staking/not_jailed');
  });

  it('executing a height twice (a rejected proposal, then the decided block) gives the same state root', async () => {
    // The liveness bitmap is read from committed bytes: changing it in place would change them.
    const { chain, v1 } = await setup({ signedBlocksWindow: 10 });
    chain.setAbsent(addr(v1), true);
    await chain.block([]);
    await chain.block([]);
    const info = {
      chainId: chain.genesis.chainId,
      height: chain.app.height + 1,
      timeMs: 1_800_000_000_000,
      proposer: addr(v1),
      lastCommitSigners: [],
    };
    const first = await chain.app.prepareProposal(info, []);
    const second = await chain.app.prepareProposal(info, []);
    expect(Buffer.from(second.stateRoot).toString('hex')).toBe(Buffer.from(first.stateRoot).toString('hex'));
  });

  it('signing costs no write; a miss leaves the window after signedBlocksWindow blocks', async () => {
    const { chain, v1 } = await setup({ signedBlocksWindow: 4 });
    await chain.block([]);
    const before = await chain.snapshot();
    await chain.block([]);
    await chain.block([]);
    expect(await chain.snapshot()).toEqual(before);
    const missed = async () =>
      (await list(chain)).validators.find((v) => v.address === formatAddress(addr(v1)))!.missedInWindow;
    chain.setAbsent(addr(v1), true);
    await chain.block([]);
    chain.setAbsent(addr(v1), false);
    await chain.block([]); // carries the commit without v1
    expect(await missed()).toBe(1);
    const listed = (await list(chain)).validators.find((v) => v.address === formatAddress(addr(v1)))!;
    expect(listed.lastSignedHeight).toBe(chain.app.height - 2);
    for (let i = 0; i < 3; i++) await chain.block([]);
    expect(await missed()).toBe(1);
    await chain.block([]); // the missed height's bit comes round again, signed
    expect(await missed()).toBe(0);
  });

  it('never removes the last validator of the set', async () => {
    const v0 = SigningKey.generate();
    const chain = await TestChain.create({
      funded: [{ key: v0, balance: 1_000_000_000n }],
      params: { modules: { staking: { signedBlocksWindow: 2, minSignedBps: 10_000 } } },
      validator: v0,
    });
    ok(await chain.run(chain.sign(v0, bondTx, { role: 'validator', amount: 1_000_000n })));
    for (let i = 0; i < 5; i++) {
      const f = await chain.block([]);
      expect(f.endBlockEvents.filter((e) => e.type === 'validator_jailed')).toEqual([]);
    }
    expect(await setAddresses(chain)).toEqual([formatAddress(addr(v0))]);
  });
});

function doubleSign(chain: TestChain, key: SigningKey, height: number, round = 0): MsgSubmitEvidence {
  const chainId = chain.genesis.chainId;
  const vote = (tag: string) => {
    const blockHash = sha256(utf8.encode(tag));
    const v = { chain_id: chainId, type: VoteType.prevote, height, round, block_hash: blockHash };
    const signature = key.sign(voteSignBytes({ chainId, type: VoteType.prevote, height, round, blockHash }));
    return { bytes: VoteCodec.encode(v), signature };
  };
  const [a, b] = [vote('a'), vote('b')];
  return {
    validator: addr(key),
    first_vote: a.bytes,
    first_signature: a.signature,
    second_vote: b.bytes,
    second_signature: b.signature,
  };
}

describe('double-sign evidence', () => {
  it('slashes doubleSignSlashBps of the validator stake (bonded and unbonding), removes and tombstones the validator', async () => {
    const { chain, v1, alice } = await setup({ doubleSignSlashBps: 2000, unbondingBlocks: 50 });
    ok(await chain.run(chain.sign(v1, unbondTx, { role: 'validator', amount: 5000n })));
    const height = chain.app.height;
    const treasury0 = await chain.balance(TREASURY);

    // Two double signs (rounds 0 and 1) in one block: the first punishes, the second only records.
    const f = await chain.block([
      chain.sign(alice, submitEvidenceTx, doubleSign(chain, v1, height)),
      chain.sign(alice, submitEvidenceTx, doubleSign(chain, v1, height, 1)),
    ]);
    const [r, again] = f.receipts.map(ok) as [Receipt, Receipt];
    expect(again.events.map((e) => e.type)).toEqual(['double_sign']);
    const types = r.events.map((e) => e.type);
    expect(types).toEqual(['double_sign', 'stake_slashed', 'validator_jailed']);
    expect(attrs(r.events[1]!)).toMatchObject({ role: 'validator', amount: '2000', reason: 'double_sign' });
    expect(attrs(r.events[2]!)).toMatchObject({ reason: 'double_sign', tombstoned: 'true', power: '1' });
    expect(await chain.balance(TREASURY)).toBe(treasury0 + 2000n);
    // Bonded 5,000 pays first; the unbonding 5,000 is untouched.
    const stake = (await chain.query('stake_get', { address: addr(v1) })) as unknown as {
      roles: { validator: { bonded: string; unbonding: { amount: string }[] } };
    };
    expect(stake.roles.validator.bonded).toBe('3000');
    expect(stake.roles.validator.unbonding.map((e) => e.amount)).toEqual(['5000']);

    await chain.block([]);
    expect(await setAddresses(chain)).not.toContain(formatAddress(addr(v1)));
    expect((await list(chain)).jailed).toEqual([
      expect.objectContaining({ address: formatAddress(addr(v1)), tombstoned: true }),
    ]);
    expect((await chain.run(chain.sign(v1, unjailTx, {}))).error_code).toBe('staking/tombstoned');
  });
});
