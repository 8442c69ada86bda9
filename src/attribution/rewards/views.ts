import { type Address, formatAddress } from '../../crypto/address.ts';
import type { QueryContext } from '../../state/module.ts';
import { contributionSubmittedEvent } from '../datanet/txs.ts';
import { ContributionCodec, PREFIX, idKey, load } from '../store.ts';
import { readEarnings } from './keys.ts';

/* The rewards module: JSON views of records (where a view adds meaning to the schema). */

export async function earningsView(q: QueryContext, address: Address) {
  const state = q.state;
  const e = await readEarnings(state, address);
  // Locked amounts live on the address's contributions until their windows end; the index knows
  // which contributions are the address's (their `contribution_submitted` events).
  let locked = 0n;
  const lockedByContribution: { contributionId: number; locked: string; vestHeight: number }[] = [];
  const submitted = {
    type: contributionSubmittedEvent.type,
    attribute: { key: 'contributor', value: formatAddress(address) },
  };
  for await (const ev of q.chain.index.events(submitted)) {
    const id = contributionSubmittedEvent.read(ev.event).contribution_id;
    const c = await load(state, ContributionCodec, idKey(PREFIX.contribution, id));
    if (c && c.locked > 0n) {
      locked += c.locked;
      lockedByContribution.push({ contributionId: id, locked: c.locked.toString(), vestHeight: c.vest_height });
    }
  }
  const total = e.contributed + e.refined + e.executed + e.curated;
  return {
    address: formatAddress(address),
    total: total.toString(),
    bySource: {
      contributed: e.contributed.toString(),
      refined: e.refined.toString(),
      executed: e.executed.toString(),
      curated: e.curated.toString(),
    },
    claimable: e.claimable.toString(),
    locked: locked.toString(),
    lockedByContribution,
    claimed: e.claimed.toString(),
    payments: e.payments,
    contributorPayments: e.contributor_payments,
  };
}
