import type { Module } from '../../state/module.ts';
import { STAKE } from '../../state/staking/api.ts';
import { AGENT_FLAGS, CONTRIBUTION_DISPUTES, EARNINGS, MODEL_FLAGS, RECORD_FLAGS } from '../expected.ts';
import { aiParams } from '../params.ts';
import { DISPUTE_ESCROW } from '../store.ts';
import { disputeInvariants } from './invariants.ts';
import { disputeHoldsKeeper } from './keepers.ts';
import { disputeQueries, disputeStateKeys } from './queries.ts';
import {
  disputeAnsweredEvent,
  disputeOpenedEvent,
  disputeResolvedEvent,
  disputeVotedEvent,
  openDisputeTx,
  resolveDue,
  respondDisputeTx,
  voteDisputeTx,
} from './txs.ts';

/*
 * Disputes against contributions, model versions, attribution records and agent actions. A
 * challenger opens one
 * with a bond and an evidence hash; the target's owner may answer with a counter-bond; voters
 * decide within `votingBlocks`; the end of block opened + votingBlocks resolves it (rules in
 * txs.ts `resolveDispute`, summary in src/attribution/README.md). Bonds and held rewards sit in the
 * dispute escrow account while the dispute is open.
 */

export const disputeModule: Module = {
  name: 'dispute',
  moduleAccounts: [
    {
      name: 'dispute_escrow',
      address: DISPUTE_ESCROW,
      description: 'dispute bonds and the rewards held from disputed targets, until resolution',
    },
  ],
  keepers: [disputeHoldsKeeper],
  expects: [CONTRIBUTION_DISPUTES, MODEL_FLAGS, RECORD_FLAGS, AGENT_FLAGS, EARNINGS, STAKE],
  txs: [openDisputeTx, respondDisputeTx, voteDisputeTx],
  stateKeys: disputeStateKeys,
  queries: disputeQueries,
  invariants: disputeInvariants,
  events: [disputeOpenedEvent, disputeAnsweredEvent, disputeVotedEvent, disputeResolvedEvent],
  async initGenesis(ctx) {
    aiParams(ctx.params);
  },
  async endBlock(ctx) {
    await resolveDue(ctx);
  },
};
