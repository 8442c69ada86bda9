import { describe, expect, it } from 'vitest';
import type { Event, Receipt } from '../../src/codec/core.ts';
import { addressFromPublicKey, formatAddress, type Address } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { MODULES, MODULE_ORDER } from '../../src/modules.ts';
import { TREASURY } from '../../src/attribution/store.ts';
import { TxRegistry } from '../../src/state/registry.ts';
import { parseParams } from '../../src/state/params.ts';
import { DEFAULT_STAKING_PARAMS, parseStakingParams } from '../../src/state/staking/params.ts';
import { SLASH_TREASURY, STAKING_POOL } from '../../src/state/staking/store.ts';
import { bondTx, unbondTx, unjailTx } from '../../src/state/staking/txs.ts';
import { codeOf, codeOfSync } from '../helpers/codes.ts';
import { slashTx, stakeSlashModule } from '../helpers/stake-slash-module.ts';
import { TestChain } from '../helpers/test-chain.ts';

/*
 * The staking module on the real application (TestChain: real codec, signatures, state tree,
 * block store; every invariant, the staking pool's included, and the supply after every block):
 * bond, unbond and maturity to the base unit, the minimum bond, the entry cap, slashing through
 * the STAKE keeper during unbonding, and every coded error.
 */

const FEE = 1000n;
const addr = (k: SigningKey): Address => addressFromPublicKey(k.publicKey);
const STAKING = { unbondingBlocks: 5, minBond: { validator: '1000', contributor: '100' }, maxUnbondingEntries: 2 };

async function chainWith(keys: SigningKey[], validator?: SigningKey): Promise<TestChain> {
  return TestChain.create({
    funded: keys.map((key) => ({ key, balance: 1_000_000_000n })),
    params: { modules: { staking: STAKING } },
    registry: new TxRegistry([...MODULES, stakeSlashModule], MODULE_ORDER),
    validator,
  });
}

function ok(r: Receipt): Receipt {
  expect(r.error_code).toBe('');
  return r;
}

function attrs(e: Event): Record<string, string> {
  return Object.fromEntries(e.attributes.map((a) => [a.key, a.value]));
}

interface StakeView {
  roles: Record<string, { bonded: string; unbonding: { amount: string; maturityHeight: number }[] }>;
}

async function stakeOf(chain: TestChain, who: Address, role = 'contributor') {
  const view = (await chain.query('stake_get', { address: who })) as unknown as StakeView;
  return view.roles[role]!;
}

describe('staking: bond, unbond, maturity', () => {
  it('bonds from the balance into the pool and pays unbonded stake back at height + unbondingBlocks, to the base unit', async () => {
    const alice = SigningKey.generate();
    const chain = await chainWith([alice]);
    const start = await chain.balance(addr(alice));

    const bond = ok(await chain.run(chain.sign(alice, bondTx, { role: 'contributor', amount: 500n })));
    expect(attrs(bond.events.find((e) => e.type === 'stake_bonded')!)).toMatchObject({ amount: '500', bonded: '500' });
    expect(await chain.balance(addr(alice))).toBe(start - FEE - 500n);
    expect(await chain.balance(STAKING_POOL)).toBe(500n);

    const f = await chain.block([chain.sign(alice, unbondTx, { role: 'contributor', amount: 200n })]);
    ok(f.receipts[0]!);
    const maturity = f.info.height + 5;
    expect(await stakeOf(chain, addr(alice))).toEqual({
      bonded: '300',
      unbonding: [{ amount: '200', maturityHeight: maturity }],
    });
    const beforeMaturity = start - 2n * FEE - 500n;
    while (chain.app.height < maturity - 1) await chain.block([]);
    expect(await chain.balance(addr(alice))).toBe(beforeMaturity);
    expect((await stakeOf(chain, addr(alice))).unbonding).toHaveLength(1);

    const matured = await chain.block([]);
    expect(matured.info.height).toBe(maturity);
    const event = matured.endBlockEvents.find((e) => e.type === 'stake_matured');
    expect(attrs(event!)).toMatchObject({ role: 'contributor', amount: '200' });
    expect(await chain.balance(addr(alice))).toBe(beforeMaturity + 200n);
    expect(await stakeOf(chain, addr(alice))).toEqual({ bonded: '300', unbonding: [] });
    expect(await chain.balance(STAKING_POOL)).toBe(300n);
    expect(await chain.query('stake_totals')).toMatchObject({ bonded: { contributor: '300' }, unbonding: '0' });
  });

  it('a first bond needs the role minimum; a top-up does not; after a full unbond the minimum applies again', async () => {
    const alice = SigningKey.generate();
    const chain = await chainWith([alice]);
    const low = await chain.run(chain.sign(alice, bondTx, { role: 'contributor', amount: 99n }));
    expect(low.error_code).toBe('staking/below_min_bond');
    expect(await chain.balance(STAKING_POOL)).toBe(0n);
    ok(await chain.run(chain.sign(alice, bondTx, { role: 'contributor', amount: 100n })));
    ok(await chain.run(chain.sign(alice, bondTx, { role: 'contributor', amount: 1n })));
    ok(await chain.run(chain.sign(alice, unbondTx, { role: 'contributor', amount: 101n })));
    const again = await chain.run(chain.sign(alice, bondTx, { role: 'contributor', amount: 50n }));
    expect(again.error_code).toBe('staking/below_min_bond');
    // Another role has its own record and minimum.
    expect((await chain.run(chain.sign(alice, bondTx, { role: 'validator', amount: 999n }))).error_code).toBe(
      'staking/below_min_bond',
    );
  });

  it('caps unbonding entries per record; unbonds maturing at one height share an entry', async () => {
    const alice = SigningKey.generate();
    const chain = await chainWith([alice]);
    ok(await chain.run(chain.sign(alice, bondTx, { role: 'contributor', amount: 1000n })));
    const same = await chain.block([
      chain.sign(alice, unbondTx, { role: 'contributor', amount: 10n }),
      chain.sign(alice, unbondTx, { role: 'contributor', amount: 20n }),
    ]);
    same.receipts.forEach(ok);
    expect((await stakeOf(chain, addr(alice))).unbonding).toEqual([
      { amount: '30', maturityHeight: same.info.height + 5 },
    ]);
    ok(await chain.run(chain.sign(alice, unbondTx, { role: 'contributor', amount: 1n })));
    const third = await chain.run(chain.sign(alice, unbondTx, { role: 'contributor', amount: 1n }));
    expect(third.error_code).toBe('staking/too_many_unbonding');
    expect((await stakeOf(chain, addr(alice))).bonded).toBe('969');
  });

  it('refuses unbonding more than is bonded, bad roles and amounts, unjail when not jailed', async () => {
    const alice = SigningKey.generate();
    const chain = await chainWith([alice]);
    ok(await chain.run(chain.sign(alice, bondTx, { role: 'curator', amount: 10_000n })));
    expect((await chain.run(chain.sign(alice, unbondTx, { role: 'curator', amount: 10_001n }))).error_code).toBe(
      'staking/insufficient_stake',
    );
    expect((await chain.run(chain.sign(alice, unbondTx, { role: 'agent', amount: 1n }))).error_code).toBe(
      'staking/insufficient_stake',
    );
    expect(codeOfSync(() => chain.sign(alice, bondTx, { role: 'miner', amount: 1n }))).toBe('staking/invalid_role');
    expect(codeOfSync(() => chain.sign(alice, unbondTx, { role: 'curator', amount: 0n }))).toBe(
      'staking/invalid_amount',
    );
    expect((await chain.run(chain.sign(alice, unjailTx, {}))).error_code).toBe('staking/not_jailed');
  });

  it('a validator in the set cannot unbond below the minimum; it may unbond down to it', async () => {
    const v0 = SigningKey.generate();
    const chain = await chainWith([v0], v0);
    ok(await chain.run(chain.sign(v0, bondTx, { role: 'validator', amount: 1500n })));
    const below = await chain.run(chain.sign(v0, unbondTx, { role: 'validator', amount: 501n }));
    expect(below.error_code).toBe('staking/validator_in_set');
    ok(await chain.run(chain.sign(v0, unbondTx, { role: 'validator', amount: 500n })));
    // An account that is not in the set unbonds its validator stake freely.
    const other = SigningKey.generate();
    const c2 = await chainWith([other]);
    ok(await c2.run(c2.sign(other, bondTx, { role: 'validator', amount: 1000n })));
    ok(await c2.run(c2.sign(other, unbondTx, { role: 'validator', amount: 1000n })));
  });
});

describe('staking: slashing through the STAKE keeper', () => {
  it('takes bonded stake first, then unbonding entries newest first, and never more than there is', async () => {
    const alice = SigningKey.generate();
    const chain = await chainWith([alice]);
    ok(await chain.run(chain.sign(alice, bondTx, { role: 'contributor', amount: 1000n })));
    const older = await chain.block([chain.sign(alice, unbondTx, { role: 'contributor', amount: 300n })]);
    const newer = await chain.block([chain.sign(alice, unbondTx, { role: 'contributor', amount: 300n })]);
    const treasury0 = await chain.balance(TREASURY);

    const r = ok(
      await chain.run(
        chain.sign(alice, slashTx, { account: addr(alice), role: 'contributor', amount: 600n, recipient: TREASURY }),
      ),
    );
    expect(attrs(r.events.find((e) => e.type === 'stake_slashed')!)).toMatchObject({
      role: 'contributor',
      amount: '600',
      reason: 'test; slash',
    });
    // 400 bonded, then 200 of the newer entry.
    expect(await stakeOf(chain, addr(alice))).toEqual({
      bonded: '0',
      unbonding: [
        { amount: '300', maturityHeight: older.info.height + 5 },
        { amount: '100', maturityHeight: newer.info.height + 5 },
      ],
    });
    expect(await chain.balance(TREASURY)).toBe(treasury0 + 600n);

    // More than is left: takes the 400 and stops.
    ok(
      await chain.run(
        chain.sign(alice, slashTx, { account: addr(alice), role: 'contributor', amount: 10_000n, recipient: TREASURY }),
      ),
    );
    expect(await chain.balance(TREASURY)).toBe(treasury0 + 1000n);
    expect(await stakeOf(chain, addr(alice))).toEqual({ bonded: '0', unbonding: [] });
    const before = await chain.balance(addr(alice));
    while (chain.app.height < newer.info.height + 6) await chain.block([]);
    // Nothing left to mature: the balance is untouched.
    expect(await chain.balance(addr(alice))).toBe(before);
    expect(await chain.balance(STAKING_POOL)).toBe(0n);
  });

  it('a slash in the same block as the unbond reaches the new entry', async () => {
    const alice = SigningKey.generate();
    const chain = await chainWith([alice]);
    ok(await chain.run(chain.sign(alice, bondTx, { role: 'agent', amount: 5000n })));
    const f = await chain.block([
      chain.sign(alice, unbondTx, { role: 'agent', amount: 5000n }),
      chain.sign(alice, slashTx, { account: addr(alice), role: 'agent', amount: 1000n, recipient: TREASURY }),
    ]);
    f.receipts.forEach(ok);
    expect(await stakeOf(chain, addr(alice), 'agent')).toEqual({
      bonded: '0',
      unbonding: [{ amount: '4000', maturityHeight: f.info.height + 5 }],
    });
  });
});

describe('staking params', () => {
  const with_ = (staking: unknown) => parseParams({ modules: { staking } });

  it('defaults when the section is absent; the treasury is the attribution treasury', () => {
    expect(parseStakingParams(parseParams({}))).toEqual(DEFAULT_STAKING_PARAMS);
    expect(SLASH_TREASURY).toEqual(TREASURY);
  });

  it('refuses bad values with params/invalid', async () => {
    for (const bad of [
      'x',
      { unbondingBlocks: 0 },
      { unbondingBlocks: 1.5 },
      { minBond: { validator: 5 } },
      { minBond: { validator: '-1' } },
      { minBond: { miner: '1' } },
      { doubleSignSlashBps: 10_001 },
      { signedBlocksWindow: 0 },
      { minSignedBps: -1 },
      { downtimeJailBlocks: 0 },
      { maxUnbondingEntries: 0 },
      { unbondingBlock: 5 },
    ]) {
      expect(codeOfSync(() => parseStakingParams(with_(bad)))).toBe('params/invalid');
    }
    const key = SigningKey.generate();
    expect(
      await codeOf(
        TestChain.create({ funded: [{ key, balance: 1n }], params: { modules: { staking: { unbondingBlocks: -1 } } } }),
      ),
    ).toBe('params/invalid');
  });
});

describe('staking genesis', () => {
  it('bonds genesis stake out of genesis balances; refuses a malformed section or a bond below the minimum', async () => {
    const alice = SigningKey.generate();
    const bonds = [{ address: formatAddress(addr(alice)), role: 'validator', amount: '5000' }];
    const chain = await TestChain.create({
      funded: [{ key: alice, balance: 1_000_000n }],
      params: { modules: { staking: STAKING } },
      modules: { staking: { bonds } },
    });
    expect(await stakeOf(chain, addr(alice), 'validator')).toEqual({ bonded: '5000', unbonding: [] });
    expect(await chain.balance(addr(alice))).toBe(995_000n);
    expect(await chain.balance(STAKING_POOL)).toBe(5000n);
    await chain.expectInvariants();

    const create = (section: unknown) =>
      codeOf(
        TestChain.create({
          funded: [{ key: alice, balance: 1_000_000n }],
          params: { modules: { staking: STAKING } },
          modules: { staking: section },
        }),
      );
    expect(await create({ bonds: 'x' })).toBe('staking/invalid');
    expect(await create({ bond: [] })).toBe('staking/invalid');
    expect(await create({ bonds: [{ address: formatAddress(addr(alice)), role: 'validator' }] })).toBe(
      'staking/invalid',
    );
    expect(await create({ bonds: [{ ...bonds[0], amount: '999' }] })).toBe('staking/below_min_bond');
    expect(await create({ bonds: [{ ...bonds[0], amount: '2000000' }] })).toBe('bank/insufficient_funds');
  });
});
