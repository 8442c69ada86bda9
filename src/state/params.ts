import { TributaryError } from '../errors.ts';
import { type JsonSchema, schema as s } from './json-schema.ts';
import { parseAmount } from './math.ts';

export type ParamsErrorCode = 'params/invalid';

/**
 * Chain parameters, fixed by genesis.json. They are consensus-critical: every node must run with
 * the same values, so they come only from genesis (governance will move them into state).
 */
export interface ChainParams {
  /** Minimum fee per transaction, base units. */
  readonly minFee: bigint;
  /** Largest accepted SignedTx encoding. */
  readonly maxTxBytes: number;
  readonly maxBlockTxs: number;
  readonly maxBlockBytes: number;
  /** Target time between blocks. Not consensus-critical; kept here so all validators agree. */
  readonly blockIntervalMs: number;
  /**
   * How far ahead of a validator's own clock a proposed header's time may be for it to prevote the
   * block (BFT engine): a proposer with a fast clock cannot push header time, which is the only
   * time state sees, into the future.
   */
  readonly maxClockDriftMs: number;
  /** Per-module sections, each parsed and validated by its module. */
  readonly modules: Readonly<Record<string, unknown>>;
}

export const DEFAULT_PARAMS: ChainParams = {
  minFee: 1000n,
  maxTxBytes: 64 * 1024,
  maxBlockTxs: 20_000,
  maxBlockBytes: 16 * 1024 * 1024,
  blockIntervalMs: 1000,
  maxClockDriftMs: 10_000,
  modules: {},
};

export interface ChainParamsJson {
  minFee?: string;
  maxTxBytes?: number;
  maxBlockTxs?: number;
  maxBlockBytes?: number;
  blockIntervalMs?: number;
  maxClockDriftMs?: number;
  modules?: Record<string, unknown>;
}

function positiveInt(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new TributaryError('params/invalid', `params.${name} must be a positive integer`);
  }
  return v;
}

export function parseParams(json: ChainParamsJson | undefined): ChainParams {
  const j = json ?? {};
  return {
    minFee: j.minFee === undefined ? DEFAULT_PARAMS.minFee : parseAmount(j.minFee, 'params.minFee'),
    maxTxBytes: positiveInt(j.maxTxBytes, 'maxTxBytes', DEFAULT_PARAMS.maxTxBytes),
    maxBlockTxs: positiveInt(j.maxBlockTxs, 'maxBlockTxs', DEFAULT_PARAMS.maxBlockTxs),
    maxBlockBytes: positiveInt(j.maxBlockBytes, 'maxBlockBytes', DEFAULT_PARAMS.maxBlockBytes),
    blockIntervalMs: positiveInt(j.blockIntervalMs, 'blockIntervalMs', DEFAULT_PARAMS.blockIntervalMs),
    maxClockDriftMs: positiveInt(j.maxClockDriftMs, 'maxClockDriftMs', DEFAULT_PARAMS.maxClockDriftMs),
    modules: j.modules ?? {},
  };
}

export function paramsToJson(p: ChainParams): ChainParamsJson {
  return {
    minFee: p.minFee.toString(),
    maxTxBytes: p.maxTxBytes,
    maxBlockTxs: p.maxBlockTxs,
    maxBlockBytes: p.maxBlockBytes,
    blockIntervalMs: p.blockIntervalMs,
    maxClockDriftMs: p.maxClockDriftMs,
    modules: { ...p.modules },
  };
}

/** The properties of `paramsToJson`'s answer, for the result schemas that show parameters. */
export const CHAIN_PARAMS_PROPERTIES: Record<string, JsonSchema> = {
  minFee: s.amount('minimum fee per transaction'),
  maxTxBytes: s.positive(),
  maxBlockTxs: s.positive(),
  maxBlockBytes: s.positive(),
  blockIntervalMs: s.positive(),
  maxClockDriftMs: s.positive(),
  modules: s.map({ type: 'object' }),
};
export const CHAIN_PARAMS_SCHEMA: JsonSchema = s.object(CHAIN_PARAMS_PROPERTIES);
