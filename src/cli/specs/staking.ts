import { STAKE_ROLES } from '../../state/staking/api.ts';
import type { MsgBond, MsgUnbond, MsgUnjail } from '../../state/staking/staking.pb.ts';
import { cliAmount, cliString } from './parse.ts';
import { txCliSpec, type TxCliSpecs } from './types.ts';

const roleOption = {
  flags: '--role <role>',
  description: `stake role: ${STAKE_ROLES.join(', ')}`,
  required: true,
};

/** `tributary tx` commands of the staking module, keyed by transaction type. */
export const stakingCliSpecs: TxCliSpecs = {
  'stake/bond': txCliSpec<MsgBond>({
    name: 'stake-bond',
    description: 'bond OPEN from your balance as stake in a role (a first bond needs the role minimum)',
    options: [roleOption, { flags: '--amount <baseUnits>', description: 'amount in base units', required: true }],
    build(o) {
      return { role: cliString(o.role), amount: cliAmount(o.amount, 'amount') };
    },
  }),
  'stake/unbond': txCliSpec<MsgUnbond>({
    name: 'stake-unbond',
    description: 'start unbonding stake: paid back after the unbonding period, slashable until then',
    options: [roleOption, { flags: '--amount <baseUnits>', description: 'amount in base units', required: true }],
    build(o) {
      return { role: cliString(o.role), amount: cliAmount(o.amount, 'amount') };
    },
  }),
  'stake/unjail': txCliSpec<MsgUnjail>({
    name: 'stake-unjail',
    description: 'ask for your validator power back once a downtime jailing has expired',
    options: [],
    build() {
      return {};
    },
  }),
};
