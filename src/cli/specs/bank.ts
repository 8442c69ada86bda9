import type { MsgTransfer } from '../../state/bank/module.ts';
import { parseAddress } from '../../crypto/address.ts';
import { parseAmount } from '../../state/math.ts';
import { txCliSpec, type TxCliSpecs } from './types.ts';

/** `tributary tx` commands of the bank module, keyed by transaction type. */
export const bankCliSpecs: TxCliSpecs = {
  'bank/transfer': txCliSpec<MsgTransfer>({
    name: 'transfer',
    description: 'send OPEN (base units) to an address',
    options: [
      { flags: '--to <address>', description: 'recipient address (trib1...)', required: true },
      { flags: '--amount <baseUnits>', description: 'amount in base units', required: true },
    ],
    build(o) {
      return { to: parseAddress(String(o.to)), amount: parseAmount(String(o.amount)) };
    },
  }),
};
