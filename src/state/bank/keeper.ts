import { readFileSync } from 'node:fs';
import { messageCodec, parseSchema } from '../../codec/canonical.ts';
import { moduleAddress, type Address } from '../../crypto/address.ts';
import { concatBytes, utf8 } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import type { StateReader, WorkingState } from '../working-state.ts';
import type { Account, BankMessages } from './bank.pb.ts';

export type { Account, BankMessages, Supply } from './bank.pb.ts';

export type BankErrorCode = 'bank/insufficient_funds' | 'bank/invalid_amount' | 'bank/invalid_address';

export const bankSchema = parseSchema<BankMessages>(readFileSync(new URL('./bank.proto', import.meta.url), 'utf8'));

export const AccountCodec = messageCodec(bankSchema, 'tributary.bank.Account');
export const SupplyCodec = messageCodec(bankSchema, 'tributary.bank.Supply');

export const ACCOUNT_PREFIX = utf8.encode('bank/acct/');
export const SUPPLY_KEY = utf8.encode('bank/supply');

/** Transaction fees collect here during a block and go to the validators at its end. */
export const FEE_COLLECTOR = moduleAddress('fee_collector');

export function accountKey(address: Address): Uint8Array {
  return concatBytes(ACCOUNT_PREFIX, address);
}

export async function readAccount(state: StateReader, address: Address): Promise<Account> {
  const raw = await state.get(accountKey(address));
  return raw ? AccountCodec.decodeStored(raw) : { balance: 0n, nonce: 0 };
}

export async function readSupply(state: StateReader): Promise<bigint> {
  const raw = await state.get(SUPPLY_KEY);
  return raw ? SupplyCodec.decodeStored(raw).amount : 0n;
}

/**
 * What modules get of the bank: reads and `transfer`. It is a separate object holding only these
 * functions, so no cast reaches `setAccount` or `mintAtGenesis` through it.
 */
export interface BankTransfers {
  account(address: Address): Promise<Account>;
  balance(address: Address): Promise<bigint>;
  transfer(from: Address, to: Address, amount: bigint): Promise<void>;
}

/**
 * Balances and nonces. Only the application holds a BankKeeper (the fee-and-nonce path and
 * genesis); modules get its `transfers` view. Every movement of value goes through `transfer`, which debits and credits
 * the same amount, so supply changes only through `mintAtGenesis`.
 */
export class BankKeeper {
  private readonly state: WorkingState;
  readonly transfers: BankTransfers;

  constructor(state: WorkingState) {
    this.state = state;
    this.transfers = Object.freeze({
      account: (address: Address) => this.account(address),
      balance: (address: Address) => this.balance(address),
      transfer: (from: Address, to: Address, amount: bigint) => this.transfer(from, to, amount),
    });
  }

  account(address: Address): Promise<Account> {
    return readAccount(this.state, address);
  }

  async balance(address: Address): Promise<bigint> {
    return (await this.account(address)).balance;
  }

  setAccount(address: Address, account: Account): void {
    const key = accountKey(address);
    if (account.balance === 0n && account.nonce === 0) this.state.delete(key);
    else this.state.set(key, AccountCodec.encode(account));
  }

  async transfer(from: Address, to: Address, amount: bigint): Promise<void> {
    if (amount < 0n) throw new TributaryError('bank/invalid_amount', 'amount must not be negative');
    if (amount === 0n) return;
    const src = await this.account(from);
    if (src.balance < amount) {
      throw new TributaryError('bank/insufficient_funds', `balance ${src.balance} is less than ${amount}`, {
        balance: src.balance.toString(),
        needed: amount.toString(),
      });
    }
    src.balance -= amount;
    this.setAccount(from, src);
    const dst = await this.account(to);
    dst.balance += amount;
    this.setAccount(to, dst);
  }

  /** Creates value. Only genesis may call this; no transaction path reaches it. */
  async mintAtGenesis(to: Address, amount: bigint): Promise<void> {
    const dst = await this.account(to);
    dst.balance += amount;
    this.setAccount(to, dst);
    const supply = await readSupply(this.state);
    this.state.set(SUPPLY_KEY, SupplyCodec.encode({ amount: supply + amount }));
  }

  supply(): Promise<bigint> {
    return readSupply(this.state);
  }
}
