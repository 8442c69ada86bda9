import type { Module } from '../../state/module.ts';
import { STAKE } from '../../state/staking/api.ts';
import { EARNINGS } from '../expected.ts';
import { aiParams } from '../params.ts';
import { ContributionStatus, DATANET_ESCROW, IdListCodec, load, remove } from '../store.ts';
import { datanetInvariants } from './invariants.ts';
import { contributionCreditsKeeper, contributionDisputesKeeper, lineageDatanetsKeeper } from './keepers.ts';
import { readContribution, vestingKey } from './keys.ts';
import { datanetQueries, datanetStateKeys } from './queries.ts';
import {
  contributeTx,
  contributionAcceptedEvent,
  contributionCappedEvent,
  contributionRejectedEvent,
  contributionSubmittedEvent,
  contributionVestedEvent,
  createDatanetTx,
  datanetCreatedEvent,
  reviewTx,
  vest,
} from './txs.ts';

/*
 * Datanets: curated collections of contributed data. A contribution escrows a stake (at least the
 * datanet's minimum) in the datanet escrow account. The owner or a curator reviews it:
 *   - rejected: the stake goes straight back;
 *   - accepted: the contribution is appended to the datanet's Merkle accumulator (the datanet's
 *     version is its leaf count) and its content hash is claimed chain-wide, so the same data can
 *     be accepted only once across all datanets. The stake stays escrowed for the challenge window
 *     (a dispute, src/attribution/dispute, can take it there); at the end of block reviewed_height +
 *     window the stake is returned and the rewards the contribution earned meanwhile vest. A
 *     contribution under dispute vests only when the dispute fails; an upheld one is struck.
 * A copy (content hash already accepted) is refused at submission and at review with
 * `datanet/duplicate_content`, naming the original contribution.
 */

export const datanetModule: Module = {
  name: 'datanet',
  moduleAccounts: [
    {
      name: 'datanet_escrow',
      address: DATANET_ESCROW,
      description: 'contribution stakes, held until rejection or the end of the challenge window',
    },
  ],
  keepers: [contributionCreditsKeeper, lineageDatanetsKeeper, contributionDisputesKeeper],
  expects: [EARNINGS, STAKE],
  txs: [createDatanetTx, contributeTx, reviewTx],
  stateKeys: datanetStateKeys,
  queries: datanetQueries,
  invariants: datanetInvariants,
  events: [
    datanetCreatedEvent,
    contributionSubmittedEvent,
    contributionRejectedEvent,
    contributionAcceptedEvent,
    contributionVestedEvent,
    contributionCappedEvent,
  ],
  async initGenesis(ctx) {
    aiParams(ctx.params); // a bad parameter section fails genesis, not the first payment
  },
  /** Contributions whose challenge window ends with this block vest now. */
  async endBlock(ctx) {
    const key = vestingKey(ctx.height);
    const queue = await load(ctx.store, IdListCodec, key);
    if (!queue) return;
    const earnings = ctx.keeper(EARNINGS).book();
    for (const id of queue.ids) {
      const c = (await readContribution(ctx.store, id))!;
      // Under dispute (or struck by one): the resolution vests it or takes its stake and rewards.
      if (c.dispute_id !== 0 || c.status !== ContributionStatus.accepted || c.vested) continue;
      await vest(ctx.store, ctx.bank, c, earnings);
      contributionVestedEvent.emit(ctx, { contribution_id: id, stake_returned: c.stake });
    }
    earnings.flush();
    remove(ctx.store, key);
  },
};
