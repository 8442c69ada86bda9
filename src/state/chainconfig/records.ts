import { readFileSync } from 'node:fs';
import { messageCodec, parseSchema } from '../../codec/canonical.ts';
import { canonicalJson } from '../../codec/json.ts';
import { addressFromPublicKey, type Address } from '../../crypto/address.ts';
import { compareBytes, utf8 } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import type { ChainParams } from '../params.ts';
import type { ChainconfigMessages, ParamsRecord, ValidatorSetRecord } from './chainconfig.pb.ts';

export type { ParamsSchedule, ValidatorSchedule } from './chainconfig.pb.ts';

const schema = parseSchema<ChainconfigMessages>(readFileSync(new URL('./chainconfig.proto', import.meta.url), 'utf8'));

export interface Validator {
  name: string;
  publicKey: Uint8Array;
  address: Address;
  power: number;
}

export const ValidatorScheduleCodec = messageCodec(schema, 'tributary.chainconfig.ValidatorSchedule');
export const ParamsScheduleCodec = messageCodec(schema, 'tributary.chainconfig.ParamsSchedule');

export const VALIDATORS_KEY = utf8.encode('chainconfig/validators');
export const PARAMS_KEY = utf8.encode('chainconfig/params');

export function sortValidators(validators: Validator[]): Validator[] {
  return validators.sort((a, b) => compareBytes(a.address, b.address));
}

export function validatorSetToRecord(validators: readonly Validator[]): ValidatorSetRecord {
  return { validators: validators.map((v) => ({ public_key: v.publicKey, power: v.power, name: v.name })) };
}

export function validatorSetFromRecord(record: ValidatorSetRecord | undefined): Validator[] {
  return (record?.validators ?? []).map((v) => ({
    name: v.name,
    publicKey: v.public_key,
    address: addressFromPublicKey(v.public_key),
    power: v.power,
  }));
}

export function paramsToRecord(p: ChainParams): ParamsRecord {
  return {
    min_fee: p.minFee,
    max_tx_bytes: p.maxTxBytes,
    max_block_txs: p.maxBlockTxs,
    max_block_bytes: p.maxBlockBytes,
    block_interval_ms: p.blockIntervalMs,
    max_clock_drift_ms: p.maxClockDriftMs,
    modules_json: canonicalJson(p.modules),
  };
}

export function paramsFromRecord(r: ParamsRecord | undefined): ChainParams {
  if (!r) throw new TributaryError('chainconfig/corrupt', 'a scheduled params entry has no params');
  return {
    minFee: r.min_fee,
    maxTxBytes: r.max_tx_bytes,
    maxBlockTxs: r.max_block_txs,
    maxBlockBytes: r.max_block_bytes,
    blockIntervalMs: r.block_interval_ms,
    maxClockDriftMs: r.max_clock_drift_ms,
    modules: JSON.parse(r.modules_json) as Record<string, unknown>,
  };
}
