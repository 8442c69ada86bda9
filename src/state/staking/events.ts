import { defineEvent } from '../events.ts';

/* The staking module's events. */

export const stakeBondedEvent = defineEvent('stake_bonded', '`amount` moved from the balance into `role` stake', {
  account: { kind: 'address', indexed: true },
  role: { kind: 'string', indexed: true },
  amount: { kind: 'amount' },
  bonded: { kind: 'amount' },
});

export const stakeUnbondingEvent = defineEvent(
  'stake_unbonding',
  '`amount` of bonded stake started unbonding; paid back at `maturity_height`, slashable until then',
  {
    account: { kind: 'address', indexed: true },
    role: { kind: 'string', indexed: true },
    amount: { kind: 'amount' },
    maturity_height: { kind: 'integer' },
  },
);

export const stakeMaturedEvent = defineEvent('stake_matured', 'end of block: unbonded stake paid back to the account', {
  account: { kind: 'address', indexed: true },
  role: { kind: 'string' },
  amount: { kind: 'amount' },
});

export const stakeSlashedEvent = defineEvent(
  'stake_slashed',
  '`amount` of stake (bonded first, then unbonding entries newest first) taken to `recipient`',
  {
    account: { kind: 'address', indexed: true },
    role: { kind: 'string', indexed: true },
    amount: { kind: 'amount' },
    recipient: { kind: 'address' },
    reason: { kind: 'string' },
  },
);

export const validatorJailedEvent = defineEvent(
  'validator_jailed',
  'a validator was removed from the set (power 0 from `effective_height`) for downtime or double-signing',
  {
    validator: { kind: 'address', indexed: true },
    reason: { kind: 'string' },
    power: { kind: 'integer' },
    jailed_until: { kind: 'integer' },
    tombstoned: { kind: 'boolean' },
    effective_height: { kind: 'integer' },
  },
);

export const validatorUnjailedEvent = defineEvent(
  'validator_unjailed',
  'a jailed validator got its power back (from `effective_height`)',
  {
    validator: { kind: 'address', indexed: true },
    power: { kind: 'integer' },
    effective_height: { kind: 'integer' },
  },
);

export const STAKING_EVENTS = [
  stakeBondedEvent,
  stakeUnbondingEvent,
  stakeMaturedEvent,
  stakeSlashedEvent,
  validatorJailedEvent,
  validatorUnjailedEvent,
];
