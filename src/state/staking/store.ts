import { readFileSync } from 'node:fs';
import { messageCodec, parseSchema } from '../../codec/canonical.ts';
import { ADDRESS_LENGTH, moduleAddress, type Address } from '../../crypto/address.ts';
import { concatBytes, u64be, utf8 } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import type { StateReader } from '../working-state.ts';
import { STAKE_ROLES, type StakeRole } from './api.ts';
import type { SigningInfo, StakeRecord, StakeTotals, StakingMessages } from './staking.pb.ts';

/* The staking module: codecs, state keys and plain record reads. */

export const stakingSchema = parseSchema<StakingMessages>(
  readFileSync(new URL('./staking.proto', import.meta.url), 'utf8'),
);
export const StakeRecordCodec = messageCodec(stakingSchema, 'tributary.staking.StakeRecord');
export const MaturityBucketCodec = messageCodec(stakingSchema, 'tributary.staking.MaturityBucket');
export const StakeTotalsCodec = messageCodec(stakingSchema, 'tributary.staking.StakeTotals');
export const SigningInfoCodec = messageCodec(stakingSchema, 'tributary.staking.SigningInfo');
export const MsgBondCodec = messageCodec(stakingSchema, 'tributary.staking.MsgBond');
export const MsgUnbondCodec = messageCodec(stakingSchema, 'tributary.staking.MsgUnbond');
export const MsgUnjailCodec = messageCodec(stakingSchema, 'tributary.staking.MsgUnjail');

/** Every unit of stake, bonded or unbonding, sits in this one account. */
export const STAKING_POOL = moduleAddress('staking');

/**
 * Where slashed validator stake goes: the treasury, the same account as `TREASURY` in
 * src/attribution/store.ts (one module name, so state need not import the AI-economy modules).
 */
export const SLASH_TREASURY = moduleAddress('treasury');

export const STAKE_PREFIX = utf8.encode('staking/stake/');
export const MATURITY_PREFIX = utf8.encode('staking/mature/');
export const SIGNING_PREFIX = utf8.encode('staking/signing/');
export const TOTALS_KEY = utf8.encode('staking/totals');

export function roleIndex(role: StakeRole): number {
  return STAKE_ROLES.indexOf(role);
}

export function roleAt(index: number): StakeRole {
  const role = STAKE_ROLES[index];
  if (role === undefined) throw new TributaryError('staking/corrupt', `role index ${index} is unknown`);
  return role;
}

export function parseRole(text: string): StakeRole {
  if (!(STAKE_ROLES as readonly string[]).includes(text))
    throw new TributaryError('staking/invalid_role', `role must be one of ${STAKE_ROLES.join(', ')}`, {
      role: text,
    });
  return text as StakeRole;
}

export function stakeKey(account: Address, role: StakeRole): Uint8Array {
  return concatBytes(STAKE_PREFIX, account, new Uint8Array([roleIndex(role)]));
}

/** The account and role a stake key names. */
export function parseStakeKey(key: Uint8Array): { account: Address; role: StakeRole } {
  const at = STAKE_PREFIX.length;
  if (key.length !== at + ADDRESS_LENGTH + 1) throw new TributaryError('staking/corrupt', 'malformed stake key');
  return { account: key.slice(at, at + ADDRESS_LENGTH), role: roleAt(key[at + ADDRESS_LENGTH]!) };
}

export function maturityKey(height: number): Uint8Array {
  return concatBytes(MATURITY_PREFIX, u64be(height));
}

export function signingKey(validator: Address): Uint8Array {
  return concatBytes(SIGNING_PREFIX, validator);
}

export function emptyStake(): StakeRecord {
  return { bonded: 0n, unbonding: [] };
}

export function emptyTotals(): StakeTotals {
  return { bonded: STAKE_ROLES.map(() => 0n), unbonding: 0n };
}

export function stakeValue(r: StakeRecord): bigint {
  let sum = r.bonded;
  for (const e of r.unbonding) sum += e.amount;
  return sum;
}

export async function readStake(state: StateReader, account: Address, role: StakeRole): Promise<StakeRecord> {
  const raw = await state.get(stakeKey(account, role));
  return raw ? StakeRecordCodec.decodeStored(raw) : emptyStake();
}

export async function readTotals(state: StateReader): Promise<StakeTotals> {
  const raw = await state.get(TOTALS_KEY);
  const t = raw ? StakeTotalsCodec.decodeStored(raw) : emptyTotals();
  // Roles added later read as zero.
  while (t.bonded.length < STAKE_ROLES.length) t.bonded.push(0n);
  return t;
}

export async function readSigningInfo(state: StateReader, validator: Address): Promise<SigningInfo | undefined> {
  const raw = await state.get(signingKey(validator));
  return raw ? SigningInfoCodec.decodeStored(raw) : undefined;
}
