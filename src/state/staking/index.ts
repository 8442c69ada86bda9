import { viewOf } from '../../codec/view.ts';
import { formatAddress, parseAddress, type Address } from '../../crypto/address.ts';
import { toHex } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { readAccount } from '../bank/keeper.ts';
import { validatorsAt } from '../chainconfig/keeper.ts';
import { parseAmount } from '../math.ts';
import { type JsonSchema, schema as s } from '../json-schema.ts';
import type { GenesisContext, Invariant, Module, QueryContext } from '../module.ts';
import { STAKE_ROLES } from './api.ts';
import { STAKING_EVENTS } from './events.ts';
import { StakeLedger, stakeKeeper } from './keeper.ts';
import { stakingParams } from './params.ts';
import { doubleSignPunisher, isJailed, lastSignedHeight, trackLiveness } from './slashing.ts';
import type { StakeRecord } from './staking.pb.ts';
import {
  SIGNING_PREFIX,
  STAKE_PREFIX,
  STAKING_POOL,
  SigningInfoCodec,
  StakeRecordCodec,
  StakeTotalsCodec,
  emptyTotals,
  parseRole,
  parseStakeKey,
  readSigningInfo,
  readStake,
  readTotals,
  roleIndex,
  stakeKey,
  signingKey,
  stakeValue,
} from './store.ts';
import { bondTx, unbondTx, unjailTx } from './txs.ts';

/*
 * Staking: one record per (account, role), bonded plus unbonding entries, every unit of it in the
 * staking pool account. `stake/unbond` starts an entry that matures `unbondingBlocks` later and is
 * paid back by the end-block hook from the maturity queue (one bucket per height, no scan). Other
 * modules read and slash stake through `STAKE` (api.ts); the evidence module's double-sign records
 * and the liveness window punish validators (slashing.ts).
 */

export type { StakingErrorCode } from './keeper.ts';

function recordView(r: StakeRecord) {
  return {
    bonded: r.bonded.toString(),
    unbonding: r.unbonding.map((e) => ({ amount: e.amount.toString(), maturityHeight: e.maturity_height })),
  };
}

function queryAddress(v: unknown): Address {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return parseAddress(v);
  throw new TributaryError('rpc/invalid_params', 'address expected');
}

const STAKE_RECORD_SCHEMA = s.object({
  bonded: s.amount(),
  unbonding: s.array(s.object({ amount: s.amount(), maturityHeight: s.integer() })),
});

const byRole = (value: JsonSchema): JsonSchema =>
  s.object(Object.fromEntries(STAKE_ROLES.map((role) => [role, value])));

async function stakeView(q: QueryContext, account: Address) {
  const roles: Record<string, ReturnType<typeof recordView>> = {};
  for (const role of STAKE_ROLES) roles[role] = recordView(await readStake(q.state, account, role));
  return { address: formatAddress(account), height: q.height, roles };
}

async function validatorListView(q: QueryContext) {
  // The set signing the next block: what is in force once the latest block is committed.
  const set = await validatorsAt(q.state, q.height + 1);
  const out = [];
  for (const v of set) {
    const info = await readSigningInfo(q.state, v.address);
    out.push({
      address: formatAddress(v.address),
      name: v.name,
      publicKey: '0x' + toHex(v.publicKey),
      power: v.power,
      bond: (await readStake(q.state, v.address, 'validator')).bonded.toString(),
      jailed: isJailed(info),
      tombstoned: info?.tombstoned ?? false,
      jailedUntil: info?.jailed_until ?? 0,
      missedInWindow: info?.missed ?? 0,
      // The latest block's signatures are known only once the next block carries its commit.
      lastSignedHeight: lastSignedHeight(info, q.height - 1) ?? null,
    });
  }
  // Jailed validators are out of the set; list them too so the punishment is visible.
  const jailed = [];
  for await (const [key, value] of q.iterate(SIGNING_PREFIX)) {
    const info = SigningInfoCodec.decode(value);
    if (!isJailed(info)) continue;
    const address = key.slice(SIGNING_PREFIX.length);
    if (set.some((v) => toHex(v.address) === toHex(address))) continue;
    jailed.push({
      address: formatAddress(address),
      publicKey: '0x' + toHex(info.public_key),
      bond: (await readStake(q.state, address, 'validator')).bonded.toString(),
      tombstoned: info.tombstoned,
      jailedUntil: info.jailed_until,
      jailedPower: info.jailed_power,
    });
  }
  return { height: q.height, validators: out, jailed };
}

const stakingInvariants: Invariant[] = [
  {
    name: 'staking pool holds exactly the sum of all stake records, and the totals match',
    async check(q) {
      let sum = 0n;
      const totals = emptyTotals();
      for await (const [key, value] of q.iterate(STAKE_PREFIX)) {
        const r = StakeRecordCodec.decode(value);
        const { role } = parseStakeKey(key);
        if (r.bonded < 0n || r.unbonding.some((e) => e.amount <= 0n))
          return `negative or empty stake under ${toHex(key)}`;
        sum += stakeValue(r);
        totals.bonded[roleIndex(role)]! += r.bonded;
        for (const e of r.unbonding) totals.unbonding += e.amount;
      }
      const pool = (await readAccount(q.state, STAKING_POOL)).balance;
      if (pool !== sum) return `staking pool ${pool} != sum of stake records ${sum}`;
      const stored = await readTotals(q.state);
      const want = StakeTotalsCodec.encode(totals);
      const have = StakeTotalsCodec.encode(stored);
      if (toHex(want) !== toHex(have)) return 'stored stake totals differ from the records';
      return undefined;
    },
  },
];

/**
 * Genesis section `modules.staking`: `{ "bonds": [{ "address", "role", "amount" }] }`, each bonded
 * out of that account's genesis balance (so a devnet's validators start with their stake).
 */
async function initStakingGenesis(ctx: GenesisContext, section: unknown): Promise<void> {
  if (section === undefined) return;
  const bad = (msg: string): never => {
    throw new TributaryError('staking/invalid', `genesis modules.staking: ${msg}`);
  };
  if (typeof section !== 'object' || section === null || Array.isArray(section)) bad('must be an object');
  const { bonds, ...rest } = section as { bonds?: unknown };
  if (Object.keys(rest).length > 0) bad(`unknown fields ${Object.keys(rest).join(', ')}`);
  if (bonds === undefined) return;
  if (!Array.isArray(bonds)) bad('bonds must be a list');
  const params = stakingParams(ctx.params);
  // Genesis events are not recorded anywhere: the genesis file is the record.
  const ledger = new StakeLedger(ctx.store, ctx.bank, { emit: () => undefined });
  for (const [i, b] of (bonds as unknown[]).entries()) {
    const entry = b as { address?: unknown; role?: unknown; amount?: unknown };
    if (typeof entry?.address !== 'string' || typeof entry.role !== 'string' || typeof entry.amount !== 'string')
      bad(`bonds[${i}] needs address, role and amount strings`);
    await ledger.bond(
      parseAddress(entry.address as string),
      parseRole(entry.role as string),
      parseAmount(entry.amount as string, `bonds[${i}].amount`),
      params,
    );
  }
}

export const stakingModule: Module = {
  name: 'staking',
  moduleAccounts: [
    {
      name: 'staking',
      address: STAKING_POOL,
      description: 'every bonded and unbonding stake, of every role, until it matures or is slashed',
    },
  ],
  initGenesis: initStakingGenesis,
  keepers: [stakeKeeper, doubleSignPunisher],
  txs: [bondTx, unbondTx, unjailTx],
  events: STAKING_EVENTS,
  validateParams: (params) => void stakingParams(params),
  async beginBlock(ctx) {
    await trackLiveness(ctx);
  },
  async endBlock(ctx) {
    await new StakeLedger(ctx.store, ctx.bank, ctx).matureAt(ctx.height);
  },
  queries: [
    {
      method: 'stake_get',
      description: "an account's stake in every role: bonded and unbonding entries (amount, maturity height)",
      params: [
        { name: 'address', kind: 'address' },
        { name: 'height', kind: 'blockTag', optional: true },
      ],
      cli: 'stake',
      result: s.object({ address: s.address(), height: s.integer(), roles: byRole(STAKE_RECORD_SCHEMA) }),
      handler: (q, p) => stakeView(q, queryAddress(p.address)),
    },
    {
      method: 'validator_list',
      description:
        'the validator set in force: address, power, validator bond, jailed/tombstoned, blocks missed in the window, last signed height; plus jailed validators out of the set',
      params: [],
      cli: 'validators',
      result: s.object({
        height: s.integer(),
        validators: s.array(
          s.object({
            address: s.address(),
            name: s.string(),
            publicKey: s.publicKey(),
            power: s.positive(),
            bond: s.amount('bonded validator stake'),
            jailed: s.boolean(),
            tombstoned: s.boolean(),
            jailedUntil: s.integer('0 when never jailed for downtime'),
            missedInWindow: s.integer(),
            lastSignedHeight: s.nullable(s.integer()),
          }),
        ),
        jailed: s.array(
          s.object({
            address: s.address(),
            publicKey: s.publicKey(),
            bond: s.amount(),
            tombstoned: s.boolean(),
            jailedUntil: s.integer(),
            jailedPower: s.integer(),
          }),
        ),
      }),
      handler: (q) => validatorListView(q),
    },
    {
      method: 'stake_totals',
      description: 'bonded stake per role and all unbonding stake',
      params: [{ name: 'height', kind: 'blockTag', optional: true }],
      cli: 'stake-totals',
      result: s.object({ height: s.integer(), bonded: byRole(s.amount()), unbonding: s.amount() }),
      async handler(q) {
        const t = await readTotals(q.state);
        return {
          height: q.height,
          bonded: Object.fromEntries(STAKE_ROLES.map((r, i) => [r, t.bonded[i]!.toString()])),
          unbonding: t.unbonding.toString(),
        };
      },
    },
  ],
  stateKeys: [
    {
      kind: 'stake',
      description: 'stake of an account in one role, id "ADDRESS/ROLE"',
      id: { name: 'id', kind: 'string' },
      key: (id) => {
        const [address, role] = String(id).split('/');
        return stakeKey(queryAddress(address), parseRole(role ?? ''));
      },
      view: (value) => recordView(StakeRecordCodec.decode(value)),
    },
    {
      kind: 'signing_info',
      description: "a validator's liveness window and jail state",
      id: { name: 'address', kind: 'address' },
      key: (id) => signingKey(id as Address),
      view: (value) => viewOf(SigningInfoCodec, SigningInfoCodec.decode(value)),
    },
  ],
  invariants: stakingInvariants,
};
