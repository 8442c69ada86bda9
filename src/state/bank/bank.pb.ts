// generated from bank.proto by `npm run proto`; do not edit

/** State: one record per address, key "bank/acct/" ‖ address. */
export interface Account {
  balance: bigint;
  /** transactions this account has sent (included, failed or not) */
  nonce: number;
}

/** State: key "bank/supply". Equals the sum of all balances, always. */
export interface Supply {
  amount: bigint;
}

/** Transaction "bank/transfer". */
export interface MsgTransfer {
  /** 20-byte address */
  to: Uint8Array;
  amount: bigint;
}

export interface BankMessages {
  'tributary.bank.Account': Account;
  'tributary.bank.Supply': Supply;
  'tributary.bank.MsgTransfer': MsgTransfer;
}
