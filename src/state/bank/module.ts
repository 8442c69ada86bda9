import { messageCodec } from '../../codec/canonical.ts';
import { viewOf } from '../../codec/view.ts';
import { ADDRESS_LENGTH, formatAddress, type Address } from '../../crypto/address.ts';
import { TributaryError } from '../../errors.ts';
import { splitLargestRemainder } from '../math.ts';
import { defineEvent } from '../events.ts';
import { schema as s } from '../json-schema.ts';
import type { Module, TxDefinition } from '../module.ts';
import {
  ACCOUNT_PREFIX,
  AccountCodec,
  FEE_COLLECTOR,
  SUPPLY_KEY,
  SupplyCodec,
  accountKey,
  bankSchema,
  readAccount,
  readSupply,
} from './keeper.ts';
import type { MsgTransfer } from './bank.pb.ts';

export type { MsgTransfer } from './bank.pb.ts';

export const transferEvent = defineEvent('transfer', 'a bank/transfer moved `amount` from the sender to `to`', {
  from: { kind: 'address' },
  to: { kind: 'address', indexed: true },
  amount: { kind: 'amount' },
});

export const feesDistributedEvent = defineEvent(
  'fees_distributed',
  'end of block: the fees collected in the block paid to the validators by power',
  {
    height: { kind: 'integer' },
    amount: { kind: 'amount' },
    validators: { kind: 'integer' },
  },
);

export const transferTx: TxDefinition<MsgTransfer> = {
  type: 'bank/transfer',
  codec: messageCodec(bankSchema, 'tributary.bank.MsgTransfer'),
  validateBasic(m) {
    if (m.to.length !== ADDRESS_LENGTH)
      throw new TributaryError('bank/invalid_address', 'recipient must be a 20-byte address');
    if (m.amount <= 0n) throw new TributaryError('bank/invalid_amount', 'amount must be positive');
  },
  async execute(ctx, m) {
    await ctx.bank.transfer(ctx.sender, m.to, m.amount);
    transferEvent.emit(ctx, { from: ctx.sender, to: m.to, amount: m.amount });
  },
  view(m) {
    return viewOf(transferTx.codec, m);
  },
};

export const bankModule: Module = {
  name: 'bank',
  moduleAccounts: [
    {
      name: 'fee_collector',
      address: FEE_COLLECTOR,
      description: "every transaction's fee, and the validators' share of payments; paid to the validators each block",
    },
  ],
  txs: [transferTx],
  events: [transferEvent, feesDistributedEvent],
  queries: [
    {
      method: 'account_get',
      description: 'balance and nonce of an address, at the latest or a given height',
      params: [
        { name: 'address', kind: 'address' },
        { name: 'height', kind: 'blockTag', optional: true },
      ],
      cli: 'account',
      result: s.object({ address: s.address(), balance: s.amount(), nonce: s.integer(), height: s.integer() }),
      async handler(q, p) {
        const address = p.address as Address;
        const account = await readAccount(q.state, address);
        return {
          address: formatAddress(address),
          balance: account.balance.toString(),
          nonce: account.nonce,
          height: q.height,
        };
      },
    },
    {
      method: 'bank_supply',
      description: 'total supply of OPEN in base units',
      params: [{ name: 'height', kind: 'blockTag', optional: true }],
      cli: 'supply',
      result: s.object({ supply: s.amount(), height: s.integer() }),
      async handler(q) {
        return { supply: (await readSupply(q.state)).toString(), height: q.height };
      },
    },
  ],
  stateKeys: [
    {
      kind: 'account',
      description: 'balance and nonce of an address',
      id: { name: 'address', kind: 'address' },
      key: (id) => accountKey(id as Address),
      view: (value) => viewOf(AccountCodec, AccountCodec.decode(value)),
    },
    {
      kind: 'supply',
      description: 'total supply',
      key: () => SUPPLY_KEY,
      view: (value) => viewOf(SupplyCodec, SupplyCodec.decode(value)),
    },
  ],
  /** Fees collected in this block go to the validators in proportion to voting power. */
  async endBlock(ctx) {
    const collected = await ctx.bank.balance(FEE_COLLECTOR);
    if (collected === 0n) return;
    // Validators are listed in address order, which fixes the remainder tie-break.
    const parts = splitLargestRemainder(
      collected,
      ctx.validators.map((v) => BigInt(v.power)),
    );
    for (let i = 0; i < parts.length; i++) {
      await ctx.bank.transfer(FEE_COLLECTOR, ctx.validators[i]!.address, parts[i]!);
    }
    feesDistributedEvent.emit(ctx, { height: ctx.height, amount: collected, validators: parts.length });
  },
  invariants: [
    {
      name: 'supply equals the sum of all balances',
      async check(q) {
        let sum = 0n;
        for await (const [, value] of q.iterate(ACCOUNT_PREFIX)) sum += AccountCodec.decode(value).balance;
        const supply = await readSupply(q.state);
        return sum === supply ? undefined : `sum of balances ${sum} != supply ${supply}`;
      },
    },
  ],
};
