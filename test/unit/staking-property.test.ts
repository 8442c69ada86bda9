import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { MODULES, MODULE_ORDER } from '../../src/modules.ts';
import { TREASURY } from '../../src/attribution/store.ts';
import { minAmount } from '../../src/state/math.ts';
import { TxRegistry } from '../../src/state/registry.ts';
import { STAKE_ROLES, type StakeRole } from '../../src/state/staking/api.ts';
import { STAKING_POOL, readStake } from '../../src/state/staking/store.ts';
import { bondTx, unbondTx } from '../../src/state/staking/txs.ts';
import { slashTx, stakeSlashModule } from '../helpers/stake-slash-module.ts';
import { TestChain } from '../helpers/test-chain.ts';

/*
 * Random interleavings of bond, unbond, slash (through the STAKE keeper) and block advances,
 * against a plain model of the rules. After every step: every record equals the model's, the
 * pool holds the sum of all records, each account's balance is its start less fees and what it
 * bonded plus what matured, the treasury holds exactly what was slashed, nothing is negative
 * (TestChain also checks every invariant and the supply after each block).
 */

const FEE = 1000n;
const START = 1_000_000n;
const U = 25; // unbondingBlocks: long enough for entries to pile up, short enough for some to mature
const MIN = 50n;
const CAP = 3;

type Action =
  | { kind: 'bond' | 'unbond' | 'slash'; who: number; role: StakeRole; amount: bigint }
  | { kind: 'advance'; blocks: number };

// Mostly one role, so records collect several entries and slashes reach into them.
const role = fc.oneof(
  { weight: 3, arbitrary: fc.constant<StakeRole>('contributor') },
  { weight: 1, arbitrary: fc.constantFrom(...STAKE_ROLES) },
);
const who = fc.integer({ min: 0, max: 2 });

const move = (kind: 'bond' | 'unbond', max: bigint) =>
  fc.record({ kind: fc.constant(kind), who, role, amount: fc.bigInt({ min: 1n, max }) });

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: move('bond', 200n) },
  { weight: 4, arbitrary: move('unbond', 100n) },
  // Often more than is bonded, so the unbonding entries pay too.
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('slash' as const), who, role, amount: fc.bigInt({ min: 1n, max: 600n }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), blocks: fc.integer({ min: 1, max: 12 }) }),
  },
);

interface ModelRecord {
  bonded: bigint;
  entries: { amount: bigint; maturity: number }[];
}

describe('staking property: value is conserved under any interleaving', () => {
  it('bond / unbond / slash / advance', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 20, maxLength: 40 }), async (actions) => {
        const keys = [0, 1, 2].map(() => SigningKey.generate());
        const accounts = keys.map((k) => addressFromPublicKey(k.publicKey));
        const minBond = Object.fromEntries(STAKE_ROLES.map((r) => [r, MIN.toString()]));
        const chain = await TestChain.create({
          funded: keys.map((key) => ({ key, balance: START })),
          params: { modules: { staking: { unbondingBlocks: U, minBond, maxUnbondingEntries: CAP } } },
          registry: new TxRegistry([...MODULES, stakeSlashModule], MODULE_ORDER),
        });
        const model = new Map<string, ModelRecord>();
        const rec = (who: number, role: StakeRole): ModelRecord => {
          const id = `${who}/${role}`;
          let r = model.get(id);
          if (!r) model.set(id, (r = { bonded: 0n, entries: [] }));
          return r;
        };
        const balance = [START, START, START];
        let slashed = 0n;

        const matureAt = (height: number) => {
          for (const [id, r] of model) {
            const who = Number(id.split('/')[0]);
            for (const e of r.entries) if (e.maturity === height) balance[who]! += e.amount;
            r.entries = r.entries.filter((e) => e.maturity !== height);
          }
        };

        for (const a of actions) {
          if (a.kind === 'advance') {
            for (let i = 0; i < a.blocks; i++) {
              const f = await chain.block([]);
              matureAt(f.info.height);
            }
          } else {
            const r = rec(a.who, a.role);
            const key = keys[a.who]!;
            const tx =
              a.kind === 'slash'
                ? chain.sign(key, slashTx, {
                    account: accounts[a.who]!,
                    role: a.role,
                    amount: a.amount,
                    recipient: TREASURY,
                  })
                : chain.sign(key, a.kind === 'bond' ? bondTx : unbondTx, { role: a.role, amount: a.amount });
            const f = await chain.block([tx]);
            const height = f.info.height;
            const failed = f.receipts[0]!.error_code;
            balance[a.who]! -= FEE;
            if (a.kind === 'bond') {
              const okBond = !(r.bonded === 0n && a.amount < MIN);
              expect(failed).toBe(okBond ? '' : 'staking/below_min_bond');
              if (okBond) {
                r.bonded += a.amount;
                balance[a.who]! -= a.amount;
              }
            } else if (a.kind === 'unbond') {
              const maturity = height + U;
              const merge = r.entries.find((e) => e.maturity === maturity);
              const expected =
                a.amount > r.bonded
                  ? 'staking/insufficient_stake'
                  : !merge && r.entries.length >= CAP
                    ? 'staking/too_many_unbonding'
                    : '';
              expect(failed).toBe(expected);
              if (expected === '') {
                r.bonded -= a.amount;
                if (merge) merge.amount += a.amount;
                else r.entries.push({ amount: a.amount, maturity });
              }
            } else {
              expect(failed).toBe('');
              let left = a.amount;
              const fromBonded = minAmount(r.bonded, left);
              r.bonded -= fromBonded;
              left -= fromBonded;
              for (let i = r.entries.length - 1; i >= 0 && left > 0n; i--) {
                const take = minAmount(r.entries[i]!.amount, left);
                r.entries[i]!.amount -= take;
                left -= take;
              }
              r.entries = r.entries.filter((e) => e.amount > 0n);
              slashed += a.amount - left;
            }
            matureAt(height);
          }

          // The chain agrees with the model, record by record.
          const state = chain.app.queryContext(chain.reader).state;
          let staked = 0n;
          for (let who = 0; who < 3; who++) {
            for (const role of STAKE_ROLES) {
              const onChain = await readStake(state, accounts[who]!, role);
              const m = rec(who, role);
              expect(onChain.bonded).toBe(m.bonded);
              expect(onChain.unbonding.map((e) => [e.amount, e.maturity_height])).toEqual(
                m.entries.map((e) => [e.amount, e.maturity]),
              );
              expect(onChain.bonded >= 0n && onChain.unbonding.every((e) => e.amount > 0n)).toBe(true);
              staked += onChain.bonded + onChain.unbonding.reduce((s, e) => s + e.amount, 0n);
            }
            expect(await chain.balance(accounts[who]!)).toBe(balance[who]);
          }
          expect(await chain.balance(STAKING_POOL)).toBe(staked);
          expect(await chain.balance(TREASURY)).toBe(slashed);
        }
      }),
      { numRuns: 20 },
    );
  }, 120_000);
});
