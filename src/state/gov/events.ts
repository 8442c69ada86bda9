import { defineEvent } from '../events.ts';

/* The governance module's events: every step of a proposal's life, from its transactions and its end-of-block hook. */

export const proposalSubmittedEvent = defineEvent('gov_proposal_submitted', 'a proposal was submitted', {
  proposal_id: { kind: 'integer', indexed: true },
  proposer: { kind: 'address', indexed: true },
  kind: { kind: 'string' },
  deposit_end_height: { kind: 'integer' },
});

export const depositedEvent = defineEvent('gov_deposited', 'a deposit was added to a proposal (the initial one too)', {
  proposal_id: { kind: 'integer', indexed: true },
  depositor: { kind: 'address', indexed: true },
  amount: { kind: 'amount' },
  total: { kind: 'amount' },
});

export const votingScheduledEvent = defineEvent(
  'gov_voting_scheduled',
  'a proposal reached the minimum deposit: the heights that accept votes',
  {
    proposal_id: { kind: 'integer', indexed: true },
    voting_start_height: { kind: 'integer' },
    voting_end_height: { kind: 'integer' },
  },
);

export const votedEvent = defineEvent('gov_voted', 'a vote was cast (a later one of the same voter replaces it)', {
  proposal_id: { kind: 'integer', indexed: true },
  voter: { kind: 'address', indexed: true },
  option: { kind: 'string' },
});

export const talliedEvent = defineEvent(
  'gov_tallied',
  'end of block: the votes of a proposal counted (weights read now), with its new status',
  {
    proposal_id: { kind: 'integer', indexed: true },
    status: { kind: 'string' },
    yes: { kind: 'amount' },
    no: { kind: 'amount' },
    abstain: { kind: 'amount' },
    eligible: { kind: 'amount' },
  },
);

export const depositSettledEvent = defineEvent(
  'gov_deposit_settled',
  "end of block: one depositor's deposit left the gov account, refunded or sent to the treasury",
  {
    proposal_id: { kind: 'integer', indexed: true },
    depositor: { kind: 'address', indexed: true },
    amount: { kind: 'amount' },
    to: { kind: 'address' },
  },
);

export const executedEvent = defineEvent('gov_executed', 'end of block: a passed proposal was executed', {
  proposal_id: { kind: 'integer', indexed: true },
  kind: { kind: 'string' },
  effective_height: { kind: 'integer' },
});

export const executionFailedEvent = defineEvent(
  'gov_execution_failed',
  'end of block: the execution of a passed proposal raised a coded error and changed nothing',
  {
    proposal_id: { kind: 'integer', indexed: true },
    kind: { kind: 'string' },
    error_code: { kind: 'string' },
    error_message: { kind: 'string' },
  },
);

export const expiredEvent = defineEvent(
  'gov_expired',
  'end of block: the deposit period ended below the minimum deposit',
  {
    proposal_id: { kind: 'integer', indexed: true },
    total: { kind: 'amount' },
  },
);

export const GOV_EVENTS = [
  proposalSubmittedEvent,
  depositedEvent,
  votingScheduledEvent,
  votedEvent,
  talliedEvent,
  depositSettledEvent,
  executedEvent,
  executionFailedEvent,
  expiredEvent,
];
