import { TributaryError } from '../../errors.ts';
import { parseAmount } from '../math.ts';
import type { ChainParams } from '../params.ts';

/*
 * Governance parameters, `params.modules.gov`; missing fields take the defaults below. The shapes
 * are OpenLedger's documented governor (100 OPEN proposal threshold, 1-day voting delay, 2-week
 * voting period, 25 % quorum, 1-day timelock), in blocks at the genesis block interval of 1,000 ms:
 * 1 day = 86,400,000 ms / 1,000 ms = 86,400 blocks, 2 weeks = 1,209,600 blocks. OPEN has 18
 * decimals (its ERC-20 has; the devnet's 1,000,000,000 OPEN validator balance is 10^27 base units),
 * so 100 OPEN = 10^20 base units. A chain with another block interval sets these in its genesis.
 */

export interface GovParams {
  /** Deposit a proposal needs before it goes to a vote, base units. */
  readonly minDeposit: bigint;
  /** Blocks that accept deposits, the submitting block included. */
  readonly depositPeriodBlocks: number;
  /** Blocks between reaching the minimum deposit and the first block that accepts votes. */
  readonly votingDelayBlocks: number;
  /** Blocks that accept votes. */
  readonly votingPeriodBlocks: number;
  /** Share of the eligible weight that must vote (yes, no or abstain) for the tally to count. */
  readonly quorumBps: number;
  /** A proposal passes when yes > thresholdBps of (yes + no); abstentions count for quorum only. */
  readonly thresholdBps: number;
  /** Blocks between the tally and the execution (the timelock). */
  readonly executionDelayBlocks: number;
}

export const BLOCKS_PER_DAY = 86_400;

export const DEFAULT_GOV_PARAMS: GovParams = {
  minDeposit: 100n * 10n ** 18n,
  depositPeriodBlocks: 2 * BLOCKS_PER_DAY,
  votingDelayBlocks: BLOCKS_PER_DAY,
  votingPeriodBlocks: 14 * BLOCKS_PER_DAY,
  quorumBps: 2_500,
  thresholdBps: 5_000,
  executionDelayBlocks: BLOCKS_PER_DAY,
};

/** Longest period a parameter may set: heights stay far below 2^53 however long a chain runs. */
const MAX_PERIOD_BLOCKS = 100_000_000;

const FIELDS = new Set(Object.keys(DEFAULT_GOV_PARAMS));

function invalid(message: string): never {
  throw new TributaryError('params/invalid', `params.modules.gov.${message}`);
}

function int(s: Record<string, unknown>, field: keyof GovParams, min: number, max: number): number {
  const v = s[field];
  if (v === undefined) return DEFAULT_GOV_PARAMS[field] as number;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    invalid(`${field} must be an integer in [${min}, ${max}]`);
  }
  return v;
}

export function parseGovParams(params: ChainParams): GovParams {
  const raw = params.modules.gov ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid('must be an object');
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s)) if (!FIELDS.has(key)) invalid(`${key} is not a governance parameter`);
  let minDeposit = DEFAULT_GOV_PARAMS.minDeposit;
  if (s.minDeposit !== undefined) {
    if (typeof s.minDeposit !== 'string') invalid('minDeposit must be a decimal string of base units');
    minDeposit = parseAmount(s.minDeposit, 'params.modules.gov.minDeposit');
    if (minDeposit === 0n) invalid('minDeposit must be at least 1');
  }
  return {
    minDeposit,
    depositPeriodBlocks: int(s, 'depositPeriodBlocks', 1, MAX_PERIOD_BLOCKS),
    votingDelayBlocks: int(s, 'votingDelayBlocks', 0, MAX_PERIOD_BLOCKS),
    votingPeriodBlocks: int(s, 'votingPeriodBlocks', 1, MAX_PERIOD_BLOCKS),
    quorumBps: int(s, 'quorumBps', 1, 10_000),
    // At least a majority of the decided votes, and something short of unanimity to stay reachable.
    thresholdBps: int(s, 'thresholdBps', 5_000, 9_999),
    executionDelayBlocks: int(s, 'executionDelayBlocks', 0, MAX_PERIOD_BLOCKS),
  };
}

const cache = new WeakMap<ChainParams, GovParams>();

/** The parsed section, once per parameters object. */
export function govParams(params: ChainParams): GovParams {
  let parsed = cache.get(params);
  if (!parsed) {
    parsed = parseGovParams(params);
    cache.set(params, parsed);
  }
  return parsed;
}
