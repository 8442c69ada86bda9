import { TributaryError, isTributaryError } from '../../errors.ts';
import { parseAmount } from '../math.ts';
import type { ChainParams } from '../params.ts';
import { STAKE_ROLES, type StakeRole } from './api.ts';

/*
 * The staking module's parameters, `params.modules.staking` (every field optional; missing ones
 * take the defaults). Defaults suit a 1 s block devnet: ten minutes to unbond; a 600-block
 * liveness window, so five minutes offline jails (long enough that a restart or a chaos pause
 * does not); ten minutes in jail. Parsed once per ChainParams object.
 */

export interface StakingParams {
  /** Blocks an unbonding entry waits before it is paid back (slashable meanwhile). */
  unbondingBlocks: number;
  /** Smallest first bond per role, base units; a validator must keep it while in the set. */
  minBond: Readonly<Record<StakeRole, bigint>>;
  /** Cap on unbonding entries per (account, role) record. */
  maxUnbondingEntries: number;
  /** Share of a double-signer's validator stake taken (to the treasury). */
  doubleSignSlashBps: number;
  /** Blocks in the liveness window. */
  signedBlocksWindow: number;
  /** Share of the window a validator must sign; missing more jails it. */
  minSignedBps: number;
  /** Share of a jailed validator's validator stake taken for downtime. */
  downtimeSlashBps: number;
  /** Blocks a downtime jailing lasts before `stake/unjail` is accepted. */
  downtimeJailBlocks: number;
}

export const DEFAULT_STAKING_PARAMS: StakingParams = {
  unbondingBlocks: 600,
  minBond: { validator: 1_000_000n, contributor: 1_000n, curator: 10_000n, agent: 1_000n },
  maxUnbondingEntries: 7,
  doubleSignSlashBps: 500,
  signedBlocksWindow: 600,
  minSignedBps: 5_000,
  downtimeSlashBps: 10,
  downtimeJailBlocks: 600,
};

function invalid(msg: string): never {
  throw new TributaryError('params/invalid', `params.modules.staking.${msg}`);
}

function int(s: Record<string, unknown>, field: string, fallback: number, min: number, max: number): number {
  const v = s[field];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    invalid(`${field} must be an integer in [${min}, ${max}]`);
  return v;
}

function amount(v: unknown, field: string, fallback: bigint): bigint {
  if (v === undefined) return fallback;
  if (typeof v !== 'string') invalid(`${field} must be a decimal string of base units`);
  try {
    return parseAmount(v, `params.modules.staking.${field}`);
  } catch (e) {
    if (isTributaryError(e)) invalid(`${field}: ${e.message}`);
    throw e;
  }
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(`${what} must be an object`);
  return v as Record<string, unknown>;
}

const FIELDS = new Set([
  'unbondingBlocks',
  'minBond',
  'maxUnbondingEntries',
  'doubleSignSlashBps',
  'signedBlocksWindow',
  'minSignedBps',
  'downtimeSlashBps',
  'downtimeJailBlocks',
]);

export function parseStakingParams(params: ChainParams): StakingParams {
  const raw = params.modules.staking;
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw)))
    throw new TributaryError('params/invalid', 'params.modules.staking must be an object');
  const s = object(raw, 'staking');
  // A misspelt field would silently keep its default: refuse it instead.
  for (const key of Object.keys(s)) if (!FIELDS.has(key)) invalid(`${key} is not a staking parameter`);
  const d = DEFAULT_STAKING_PARAMS;
  const mb = object(s.minBond, 'minBond');
  for (const key of Object.keys(mb))
    if (!(STAKE_ROLES as readonly string[]).includes(key)) invalid(`minBond.${key} is not a role`);
  const minBond = Object.fromEntries(
    STAKE_ROLES.map((r) => [r, amount(mb[r], `minBond.${r}`, d.minBond[r])]),
  ) as Record<StakeRole, bigint>;
  return {
    unbondingBlocks: int(s, 'unbondingBlocks', d.unbondingBlocks, 1, 100_000_000),
    minBond,
    maxUnbondingEntries: int(s, 'maxUnbondingEntries', d.maxUnbondingEntries, 1, 64),
    doubleSignSlashBps: int(s, 'doubleSignSlashBps', d.doubleSignSlashBps, 0, 10_000),
    // The window's bitmap lives in one record: bounded so that record stays small.
    signedBlocksWindow: int(s, 'signedBlocksWindow', d.signedBlocksWindow, 1, 100_000),
    minSignedBps: int(s, 'minSignedBps', d.minSignedBps, 0, 10_000),
    downtimeSlashBps: int(s, 'downtimeSlashBps', d.downtimeSlashBps, 0, 10_000),
    downtimeJailBlocks: int(s, 'downtimeJailBlocks', d.downtimeJailBlocks, 1, 100_000_000),
  };
}

const cache = new WeakMap<ChainParams, StakingParams>();

export function stakingParams(params: ChainParams): StakingParams {
  let parsed = cache.get(params);
  if (!parsed) {
    parsed = parseStakingParams(params);
    cache.set(params, parsed);
  }
  return parsed;
}
