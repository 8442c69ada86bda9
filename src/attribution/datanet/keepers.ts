import { readU64be } from '../../crypto/hash.ts';
import type { KeeperSource } from '../../state/module.ts';
import type { ContributionCredits, LineageDatanets } from '../expected.ts';
import type { AcceptedContribution, LineageDatanet } from '../split.ts';
import { ContributionCodec, DatanetCodec, PREFIX, idKey } from '../store.ts';
import { contributionKey, datanetKey, readContribution, writeContribution } from './keys.ts';

/* The datanet module: what this module offers other modules (bound in src/modules.ts). */

/** The block's payment credits land on contributions through this (inference's end of block). */
export const contributionCreditsKeeper: KeeperSource<ContributionCredits> = {
  module: 'datanet',
  create: ({ store }) => ({
    async credit(contributionId, amount, payments) {
      const c = (await readContribution(store, contributionId))!;
      c.earned += amount;
      c.paid_count += payments;
      // Inside the challenge window the reward is locked on the contribution; vesting releases it.
      if (!c.vested) c.locked += amount;
      writeContribution(store, c);
      return { contributor: c.contributor, vested: c.vested };
    },
  }),
};

/*
 * A datanet as the split sees it: owner and accepted contributions (id, contributor, size), all
 * fixed once accepted. Kept in the datanet store's scratch, so a block of payments builds each
 * list once: only when built from the committed record (no buffered write of it), and only until
 * this module's next write (an acceptance writes the datanet record).
 */
export const lineageDatanetsKeeper: KeeperSource<LineageDatanets> = {
  module: 'datanet',
  create: ({ store }) => ({
    async forSplit(id) {
      const memo = store.scratch('lineage', () => new Map<number, { writes: number; value: LineageDatanet }>());
      const writes = store.writeCount;
      const hit = memo.get(id);
      if (hit && hit.writes === writes) return hit.value;
      const d = (await store.loadCached(datanetKey(id), DatanetCodec.decodeStored))!;
      const accepted: AcceptedContribution[] = [];
      for (let i = 0; i < d.version; i++) {
        const cid = (await store.loadCached(idKey(PREFIX.accepted, d.id, i), (raw) => readU64be(raw)))!;
        const c = (await store.loadCached(contributionKey(cid), ContributionCodec.decodeStored))!;
        accepted.push({ id: c.id, contributor: c.contributor, size: c.size });
      }
      const value = { owner: d.owner, accepted };
      if (!store.hasWrite(datanetKey(id))) memo.set(id, { writes, value });
      return value;
    },
  }),
};
