import { viewOf } from '../../codec/view.ts';
import type { TxContext, TxDefinition } from '../module.ts';
import { StakeLedger, positive } from './keeper.ts';
import { stakingParams } from './params.ts';
import { unjail } from './slashing.ts';
import type { MsgBond, MsgUnbond, MsgUnjail } from './staking.pb.ts';
import { MsgBondCodec, MsgUnbondCodec, MsgUnjailCodec, parseRole } from './store.ts';

/* The staking module's transactions. */

export function ledgerOf(ctx: TxContext): StakeLedger {
  return new StakeLedger(ctx.store, ctx.bank, ctx);
}

export const bondTx: TxDefinition<MsgBond> = {
  type: 'stake/bond',
  codec: MsgBondCodec,
  validateBasic(m) {
    parseRole(m.role);
    positive(m.amount);
  },
  async execute(ctx, m) {
    await ledgerOf(ctx).bond(ctx.sender, parseRole(m.role), m.amount, stakingParams(ctx.params));
  },
  view: (m) => viewOf(MsgBondCodec, m),
};

export const unbondTx: TxDefinition<MsgUnbond> = {
  type: 'stake/unbond',
  codec: MsgUnbondCodec,
  validateBasic(m) {
    parseRole(m.role);
    positive(m.amount);
  },
  async execute(ctx, m) {
    await ledgerOf(ctx).unbond(ctx.sender, parseRole(m.role), m.amount, ctx.height, stakingParams(ctx.params));
  },
  view: (m) => viewOf(MsgUnbondCodec, m),
};

export const unjailTx: TxDefinition<MsgUnjail> = {
  type: 'stake/unjail',
  codec: MsgUnjailCodec,
  validateBasic() {},
  async execute(ctx) {
    await unjail(ctx, ledgerOf(ctx), ctx.sender);
  },
  view: (m) => viewOf(MsgUnjailCodec, m),
};
