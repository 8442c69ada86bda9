import { formatAddress } from '../../crypto/address.ts';
import { toHex } from '../../crypto/hash.ts';
import { schema as s } from '../json-schema.ts';
import type { Module } from '../module.ts';
import { CHAIN_PARAMS_SCHEMA, paramsToJson } from '../params.ts';
import { toJson } from '../../codec/json.ts';
import { readParamsSchedule, readValidatorSchedule } from './keeper.ts';
import {
  PARAMS_KEY,
  ParamsScheduleCodec,
  VALIDATORS_KEY,
  ValidatorScheduleCodec,
  paramsFromRecord,
  validatorSetFromRecord,
  type ParamsSchedule,
  type ValidatorSchedule,
} from './records.ts';

function validatorScheduleView(s: ValidatorSchedule) {
  return s.entries.map((e) => ({
    fromHeight: e.from_height,
    validators: validatorSetFromRecord(e.set).map((v) => ({
      name: v.name,
      address: formatAddress(v.address),
      publicKey: '0x' + toHex(v.publicKey),
      power: v.power,
    })),
  }));
}

function paramsScheduleView(s: ParamsSchedule) {
  return s.entries.map((e) => ({
    fromHeight: e.from_height,
    params: toJson(paramsToJson(paramsFromRecord(e.params))),
  }));
}

/**
 * The validator set and every chain parameter, in state. Genesis writes them once; afterwards only
 * `ChainConfigKeeper` (the typed path staking and governance use) schedules changes. It has no
 * transactions of its own.
 */
export const chainConfigModule: Module = {
  name: 'chainconfig',
  txs: [],
  async initGenesis(ctx) {
    ctx.chainConfig.initGenesis([...ctx.validators], ctx.params);
  },
  async beginBlock(ctx) {
    await ctx.chainConfig.beginBlock();
  },
  queries: [
    {
      method: 'chainconfig_getValidators',
      description: 'the validator set in force and any scheduled change, each with the height it takes effect',
      params: [{ name: 'height', kind: 'blockTag', optional: true }],
      cli: 'validator-schedule',
      result: s.object({
        height: s.integer(),
        schedule: s.array(
          s.object({
            fromHeight: s.integer('the first height this set signs'),
            validators: s.array(
              s.object({ name: s.string(), address: s.address(), publicKey: s.publicKey(), power: s.positive() }),
            ),
          }),
        ),
      }),
      async handler(q) {
        return { height: q.height, schedule: validatorScheduleView(await readValidatorSchedule(q.state)) };
      },
    },
    {
      method: 'chainconfig_getParams',
      description: 'the chain parameters in force and any scheduled change, each with the height it takes effect',
      params: [{ name: 'height', kind: 'blockTag', optional: true }],
      cli: 'params-schedule',
      result: s.object({
        height: s.integer(),
        schedule: s.array(
          s.object({ fromHeight: s.integer('the first height these are in force'), params: CHAIN_PARAMS_SCHEMA }),
        ),
      }),
      async handler(q) {
        return { height: q.height, schedule: paramsScheduleView(await readParamsSchedule(q.state)) };
      },
    },
  ],
  stateKeys: [
    {
      kind: 'validators',
      description: 'the validator schedule: the set in force and scheduled changes',
      key: () => VALIDATORS_KEY,
      view: (value) => validatorScheduleView(ValidatorScheduleCodec.decode(value)),
    },
    {
      kind: 'params',
      description: 'the parameter schedule: the parameters in force and scheduled changes',
      key: () => PARAMS_KEY,
      view: (value) => paramsScheduleView(ParamsScheduleCodec.decode(value)),
    },
  ],
};
