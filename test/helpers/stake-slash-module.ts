import { messageCodec, parseSchema } from '../../src/codec/canonical.ts';
import type { Address } from '../../src/crypto/address.ts';
import { STAKE_BINDING } from '../../src/modules.ts';
import { STAKE, type StakeRole } from '../../src/state/staking/api.ts';
import { withKeepers, type Module, type TxDefinition } from '../../src/state/module.ts';

/*
 * A test double for what disputes and governance will be: one transaction that slashes stake
 * through the `STAKE` keeper, the way any consuming module does. Registered only in tests.
 */

const schema = parseSchema(`
syntax = "proto3";
package tributary.testslash;
message MsgSlash {
  bytes account = 1 [(address) = true];
  string role = 2;
  bytes amount = 3 [(amount) = true];
  bytes recipient = 4 [(address) = true];
}`);

export interface MsgSlash {
  account: Address;
  role: string;
  amount: bigint;
  recipient: Address;
}

export const slashTx: TxDefinition<MsgSlash> = {
  type: 'testslash/slash',
  codec: messageCodec<MsgSlash>(schema, 'tributary.testslash.MsgSlash'),
  validateBasic() {},
  async execute(ctx, m) {
    await ctx.keeper(STAKE).slash(m.account, m.role as StakeRole, m.amount, m.recipient, 'test, slash');
  },
  view(m) {
    return { role: m.role, amount: m.amount.toString() };
  },
};

export const stakeSlashModule: Module = withKeepers({ name: 'testslash', expects: [STAKE], txs: [slashTx] }, [
  STAKE_BINDING,
]);
