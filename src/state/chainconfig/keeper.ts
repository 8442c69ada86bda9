import { addressFromPublicKey, formatAddress } from '../../crypto/address.ts';
import { PUBLIC_KEY_LENGTH } from '../../crypto/ed25519.ts';
import { bytesEqual, toHex } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { paramsToJson, parseParams, type ChainParams, type ChainParamsJson } from '../params.ts';
import type { StateReader, WorkingState } from '../working-state.ts';
import {
  PARAMS_KEY,
  ParamsScheduleCodec,
  VALIDATORS_KEY,
  ValidatorScheduleCodec,
  paramsFromRecord,
  paramsToRecord,
  sortValidators,
  validatorSetFromRecord,
  validatorSetToRecord,
  type ParamsSchedule,
  type Validator,
  type ValidatorSchedule,
} from './records.ts';

/*
 * The validator set and the chain parameters live in state, as schedules: the entry in force and
 * the changes waiting for their height. A change made while executing block H takes effect at
 * H + UPDATE_DELAY, on every node and on replay, because the height is part of the state written
 * in H. Two blocks, as CometBFT does for validator updates: the header of H + 1 already commits to
 * the set that signs H + 2 (`next_validators_hash`), so that set must be known once H is executed.
 * Staking and governance change the set and the parameters only through `ChainConfigKeeper`.
 */

export type ChainConfigErrorCode =
  | 'chainconfig/corrupt'
  | 'chainconfig/empty_validator_set'
  | 'chainconfig/invalid_validator_update'
  | 'chainconfig/unknown_validator';

export const UPDATE_DELAY = 2;

/** A change to one validator: power 0 removes it; a new public key adds it. */
export interface ValidatorUpdate {
  publicKey: Uint8Array;
  power: number;
  name?: string;
}

export interface ScheduledChange<T> {
  height: number;
  value: T;
}

function inForce<E extends { from_height: number }>(entries: readonly E[], height: number, what: string): E {
  let found: E | undefined;
  for (const e of entries) if (e.from_height <= height) found = e;
  if (!found) throw new TributaryError('chainconfig/corrupt', `no ${what} in force at height ${height}`);
  return found;
}

/** The validator set with every scheduled change applied: what the set will be once they are all in force. */
export async function latestScheduledValidators(state: StateReader): Promise<Validator[]> {
  const schedule = await readValidatorSchedule(state);
  return validatorSetFromRecord(schedule.entries[schedule.entries.length - 1]!.set);
}

/** The parameters with every scheduled change applied. */
export async function latestScheduledParams(state: StateReader): Promise<ChainParams> {
  const schedule = await readParamsSchedule(state);
  return paramsFromRecord(schedule.entries[schedule.entries.length - 1]!.params);
}

export async function readValidatorSchedule(state: StateReader): Promise<ValidatorSchedule> {
  const raw = await state.get(VALIDATORS_KEY);
  if (!raw) throw new TributaryError('chainconfig/corrupt', 'state holds no validator set');
  return ValidatorScheduleCodec.decodeStored(raw);
}

export async function readParamsSchedule(state: StateReader): Promise<ParamsSchedule> {
  const raw = await state.get(PARAMS_KEY);
  if (!raw) throw new TributaryError('chainconfig/corrupt', 'state holds no parameters');
  return ParamsScheduleCodec.decodeStored(raw);
}

/** The validator set that signs block `height`, as far as this state knows (up to its height + 2). */
export async function validatorsAt(state: StateReader, height: number): Promise<Validator[]> {
  return validatorSetFromRecord(inForce((await readValidatorSchedule(state)).entries, height, 'validator set').set);
}

/** The parameters block `height` executes with. */
export async function paramsAt(state: StateReader, height: number): Promise<ChainParams> {
  return paramsFromRecord(inForce((await readParamsSchedule(state)).entries, height, 'parameters').params);
}

export function checkValidatorSet(validators: readonly Validator[]): void {
  if (validators.length === 0)
    throw new TributaryError('chainconfig/empty_validator_set', 'the validator set would be empty');
  let total = 0;
  for (let i = 0; i < validators.length; i++) {
    const v = validators[i]!;
    if (v.publicKey.length !== PUBLIC_KEY_LENGTH || !Number.isSafeInteger(v.power) || v.power <= 0) {
      throw new TributaryError(
        'chainconfig/invalid_validator_update',
        `validator ${formatAddress(v.address)} is malformed`,
      );
    }
    if (i > 0 && bytesEqual(validators[i - 1]!.address, v.address)) {
      throw new TributaryError(
        'chainconfig/invalid_validator_update',
        `validator ${formatAddress(v.address)} is listed twice`,
      );
    }
    total += v.power;
  }
  // Quorum arithmetic (2 * total) must stay exact in a double.
  if (total > Number.MAX_SAFE_INTEGER / 4) {
    throw new TributaryError('chainconfig/invalid_validator_update', 'total voting power is too large');
  }
}

/**
 * The typed write path, bound to the block being executed. Writes go to that block's working
 * state, so a transaction that fails after scheduling a change reverts it with the rest of its
 * writes; what was scheduled in the block is read back from state by the application.
 */
export class ChainConfigKeeper {
  private readonly state: WorkingState;
  private readonly height: number;
  private readonly validateModuleParams: (params: ChainParams) => void;

  constructor(state: WorkingState, height: number, validateModuleParams: (params: ChainParams) => void) {
    this.state = state;
    this.height = height;
    this.validateModuleParams = validateModuleParams;
  }

  /** Genesis: the first set and parameters, in force from height 1. */
  initGenesis(validators: Validator[], params: ChainParams): void {
    const sorted = sortValidators([...validators]);
    checkValidatorSet(sorted);
    this.validateModuleParams(params);
    this.writeValidators({ entries: [{ from_height: 1, set: validatorSetToRecord(sorted) }] });
    this.writeParams({ entries: [{ from_height: 1, params: paramsToRecord(params) }] });
  }

  /** Applies `updates` to the latest scheduled set, effective at this height + UPDATE_DELAY. */
  async scheduleValidatorUpdates(updates: readonly ValidatorUpdate[]): Promise<number> {
    const effective = this.height + UPDATE_DELAY;
    const schedule = await readValidatorSchedule(this.state);
    const base = validatorSetFromRecord(schedule.entries[schedule.entries.length - 1]!.set);
    const byKey = new Map(base.map((v) => [toHex(v.publicKey), v]));
    for (const u of updates) {
      if (u.publicKey.length !== PUBLIC_KEY_LENGTH || !Number.isSafeInteger(u.power) || u.power < 0) {
        throw new TributaryError(
          'chainconfig/invalid_validator_update',
          'an update needs a 32-byte public key and a power >= 0',
        );
      }
      const id = toHex(u.publicKey);
      const known = byKey.get(id);
      if (u.power === 0) {
        if (!known)
          throw new TributaryError('chainconfig/unknown_validator', `no validator with public key ${id} to remove`);
        byKey.delete(id);
        continue;
      }
      const address = addressFromPublicKey(u.publicKey);
      byKey.set(id, {
        name: u.name ?? known?.name ?? formatAddress(address),
        publicKey: u.publicKey,
        address,
        power: u.power,
      });
    }
    const next = sortValidators([...byKey.values()]);
    checkValidatorSet(next);
    this.writeValidators({
      entries: upsert(schedule.entries, effective, { from_height: effective, set: validatorSetToRecord(next) }),
    });
    return effective;
  }

  /**
   * Merges `change` into the latest scheduled parameters, effective at this height + UPDATE_DELAY.
   * The result is parsed and every module checks its section first: an invalid value fails here,
   * with a coded error, and nothing is scheduled.
   */
  async scheduleParamChange(change: ChainParamsJson): Promise<number> {
    const effective = this.height + UPDATE_DELAY;
    const schedule = await readParamsSchedule(this.state);
    const base = paramsToJson(paramsFromRecord(schedule.entries[schedule.entries.length - 1]!.params));
    const merged = parseParams({ ...base, ...change, modules: { ...base.modules, ...change.modules } });
    this.validateModuleParams(merged);
    this.writeParams({
      entries: upsert(schedule.entries, effective, { from_height: effective, params: paramsToRecord(merged) }),
    });
    return effective;
  }

  /** Start of block: drop the entries a newer one has replaced. Writes only when one is dropped. */
  async beginBlock(): Promise<void> {
    const validators = await readValidatorSchedule(this.state);
    const v = dropReplaced(validators.entries, this.height);
    if (v.length !== validators.entries.length) this.writeValidators({ entries: v });
    const params = await readParamsSchedule(this.state);
    const p = dropReplaced(params.entries, this.height);
    if (p.length !== params.entries.length) this.writeParams({ entries: p });
  }

  private writeValidators(s: ValidatorSchedule): void {
    this.state.set(VALIDATORS_KEY, ValidatorScheduleCodec.encode(s));
  }

  private writeParams(s: ParamsSchedule): void {
    this.state.set(PARAMS_KEY, ParamsScheduleCodec.encode(s));
  }
}

/** Entries sorted by height, one per height: a second change in one block replaces the first. */
function upsert<E extends { from_height: number }>(entries: readonly E[], height: number, entry: E): E[] {
  return [...entries.filter((e) => e.from_height !== height), entry].sort((a, b) => a.from_height - b.from_height);
}

function dropReplaced<E extends { from_height: number }>(entries: readonly E[], height: number): E[] {
  let first = 0;
  for (let i = 0; i < entries.length; i++) if (entries[i]!.from_height <= height) first = i;
  return entries.slice(first);
}
