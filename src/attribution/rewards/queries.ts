import { viewOf } from '../../codec/view.ts';
import type { Address } from '../../crypto/address.ts';
import type { QueryDefinition, StateKeyDefinition } from '../../state/module.ts';
import { paramAddress } from '../common.ts';
import { EarningsCodec } from '../store.ts';
import { earningsKey } from './keys.ts';
import { schema as s } from '../../state/json-schema.ts';
import { earningsView } from './views.ts';

/* The rewards module: queries and state-key kinds for proofs. */

export const rewardsStateKeys: StateKeyDefinition[] = [
  {
    kind: 'earnings',
    description: 'rewards of an address: claimable, earned by source, claimed, counters',
    id: { name: 'address', kind: 'address' },
    key: (id) => earningsKey(id as Address),
    view: (value) => viewOf(EarningsCodec, EarningsCodec.decode(value)),
  },
];

export const rewardsQueries: QueryDefinition[] = [
  {
    method: 'account_getEarnings',
    description:
      'earnings of an address by source (contributed, refined, executed, curated), claimable, locked and claimed',
    params: [{ name: 'address', kind: 'address' }],
    cli: 'earnings',
    result: s.object({
      address: s.address(),
      total: s.amount('every source together'),
      bySource: s.object({ contributed: s.amount(), refined: s.amount(), executed: s.amount(), curated: s.amount() }),
      claimable: s.amount(),
      locked: s.amount('held on contributions until their windows end'),
      lockedByContribution: s.array(s.object({ contributionId: s.id(), locked: s.amount(), vestHeight: s.integer() })),
      claimed: s.amount(),
      payments: s.integer(),
      contributorPayments: s.integer(),
    }),
    async handler(q, p) {
      return earningsView(q, paramAddress(p.address));
    },
  },
];
