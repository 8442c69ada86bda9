import { viewOf } from '../../codec/view.ts';
import type { Address } from '../../crypto/address.ts';
import type { QueryDefinition, StateKeyDefinition } from '../../state/module.ts';
import { paramAddress } from '../common.ts';
import { EarningsCodec } from '../store.ts';
import { earningsKey } from './keys.ts';
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
    async handler(q, p) {
      return earningsView(q, paramAddress(p.address));
    },
  },
];
