import { messageCodec, parseSchema } from '../../src/codec/canonical.ts';
import type { Module, TxDefinition } from '../../src/state/module.ts';
import type { ChainParamsJson } from '../../src/state/params.ts';

/*
 * A test double for what governance and staking will be: one transaction that asks the config
 * module's typed path for a parameter change and/or a validator update. Registered only in tests.
 */

const schema = parseSchema(`
syntax = "proto3";
package tributary.testconfig;
message MsgChange {
  string params_json = 1;      // a partial ChainParamsJson, or empty
  bytes validator_pubkey = 2;  // empty: no validator update
  uint64 validator_power = 3;  // 0 removes
}`);

export interface MsgChange {
  params_json: string;
  validator_pubkey: Uint8Array;
  validator_power: number;
}

export const changeTx: TxDefinition<MsgChange> = {
  type: 'testconfig/change',
  codec: messageCodec<MsgChange>(schema, 'tributary.testconfig.MsgChange'),
  validateBasic() {},
  async execute(ctx, m) {
    if (m.params_json) {
      const at = await ctx.chainConfig.scheduleParamChange(JSON.parse(m.params_json) as ChainParamsJson);
      ctx.emit('params_scheduled', { height: at });
    }
    if (m.validator_pubkey.length > 0) {
      const at = await ctx.chainConfig.scheduleValidatorUpdates([
        { publicKey: m.validator_pubkey, power: m.validator_power },
      ]);
      ctx.emit('validators_scheduled', { height: at });
    }
  },
  view(m) {
    return { paramsJson: m.params_json, validatorPower: m.validator_power };
  },
};

export const configChangeModule: Module = { name: 'testconfig', txs: [changeTx] };
