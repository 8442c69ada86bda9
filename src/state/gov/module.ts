import type { Invariant, Module } from '../module.ts';
import { readAccount } from '../bank/keeper.ts';
import { STAKE } from '../staking/api.ts';
import { GOV_EVENTS } from './events.ts';
import { govEndBlock } from './lifecycle.ts';
import { parseGovParams } from './params.ts';
import { govQueries, govStateKeys } from './queries.ts';
import { DEPOSITS_PREFIX, DepositsCodec, GOV_DEPOSITS } from './records.ts';
import { depositTx, proposeTx, voteTx } from './txs.ts';

/*
 * Governance: proposals to change parameters, add or remove validators and spend from the
 * treasury, decided by vote and executed through the typed paths (ChainConfigKeeper, the bank)
 * after a timelock. Voting weight is bonded stake (the staking keeper, bound to STAKE in
 * src/modules.ts) for parameter and treasury proposals and one vote per validator for
 * validator-set proposals: in proof-of-authority the validators choose who joins them, and a seat
 * is not for sale to whoever bonds the most. The lifecycle and the deposit rule: lifecycle.ts.
 */

export const govInvariants: Invariant[] = [
  {
    name: 'gov deposit account holds exactly the deposits not yet settled',
    async check(q) {
      let held = 0n;
      for await (const [, v] of q.iterate(DEPOSITS_PREFIX))
        for (const d of DepositsCodec.decode(v).entries) held += d.amount;
      const balance = (await readAccount(q.state, GOV_DEPOSITS)).balance;
      return balance === held ? undefined : `gov deposit account ${balance} != held deposits ${held}`;
    },
  },
];

export const govModule: Module = {
  name: 'gov',
  moduleAccounts: [
    {
      name: 'gov_deposits',
      address: GOV_DEPOSITS,
      description: 'proposal deposits, held until refunded or sent to the treasury',
    },
  ],
  expects: [STAKE],
  txs: [proposeTx, depositTx, voteTx],
  queries: govQueries,
  stateKeys: govStateKeys,
  events: GOV_EVENTS,
  invariants: govInvariants,
  validateParams(params) {
    parseGovParams(params);
  },
  endBlock: govEndBlock,
};
