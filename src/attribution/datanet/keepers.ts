import { readU64be } from '../../crypto/hash.ts';
import type { KeeperSource } from '../../state/module.ts';
import type { Address } from '../../crypto/address.ts';
import { bpsOf } from '../../state/math.ts';
import { STAKE } from '../../state/staking/api.ts';
import {
  type ContributionCredits,
  type ContributionDisputes,
  EARNINGS,
  type EpochCaps,
  type LineageDatanets,
} from '../expected.ts';
import type { AcceptedContribution, LineageDatanet } from '../split.ts';
import {
  ContributionCodec,
  ContributionStatus,
  DATANET_ESCROW,
  DatanetCodec,
  EpochCreditCodec,
  PREFIX,
  REWARDS_POOL,
  bytesKey,
  idKey,
  load,
  save,
} from '../store.ts';
import { contributionKey, datanetKey, readContribution, readDatanet, writeContribution } from './keys.ts';
import { contributionCappedEvent, vest } from './txs.ts';

/* The datanet module: what this module offers other modules (bound in src/modules.ts). */

/** The block's payment credits land on contributions through this (inference's end of block). */
export const contributionCreditsKeeper: KeeperSource<ContributionCredits> = {
  module: 'datanet',
  create: ({ store, keeper, emit }) => {
    /**
     * What may be credited now under the epoch caps, recording it against both. Credits are applied
     * in contribution id order, so under a binding datanet cap earlier contributions are paid first.
     */
    const underCaps = async (datanetId: number, contributor: Address, amount: bigint, caps: EpochCaps) => {
      let credited = amount;
      const sofar = async (key: Uint8Array) => {
        const e = await load(store, EpochCreditCodec, key);
        return e && e.epoch === caps.epoch ? e.credited : 0n;
      };
      // Each cap in force: its record's key and what it already credited this epoch (read once).
      const applied: { key: Uint8Array; used: bigint }[] = [];
      if (caps.datanetEpochCap > 0n) {
        const key = idKey(PREFIX.datanetEpoch, datanetId);
        const used = await sofar(key);
        const room = caps.datanetEpochCap > used ? caps.datanetEpochCap - used : 0n;
        if (credited > room) credited = room;
        applied.push({ key, used });
      }
      if (caps.contributorCapPerStakeBps > 0) {
        const key = bytesKey(PREFIX.contributorEpoch, contributor);
        const stake = await keeper(STAKE).bonded(contributor, 'contributor');
        const cap = bpsOf(stake, caps.contributorCapPerStakeBps);
        const used = await sofar(key);
        const room = cap > used ? cap - used : 0n;
        if (credited > room) credited = room;
        applied.push({ key, used });
      }
      if (credited > 0n) {
        for (const { key, used } of applied)
          save(store, EpochCreditCodec, key, { epoch: caps.epoch, credited: used + credited });
      }
      return credited;
    };
    return {
      async credit(contributionId, amount, payments, caps) {
        const c = (await readContribution(store, contributionId))!;
        if (c.status === ContributionStatus.struck) {
          // Only an attribution record written before the strike can still name it: what it would
          // have earned goes to its datanet's owner, as a datanet without contributions pays.
          const datanet = (await readDatanet(store, c.datanet_id))!;
          return { contributor: datanet.owner, vested: true, credited: amount };
        }
        const credited = await underCaps(c.datanet_id, c.contributor, amount, caps);
        c.earned += credited;
        c.paid_count += payments;
        // Inside the challenge window the reward is locked on the contribution; vesting releases it.
        if (!c.vested) c.locked += credited;
        writeContribution(store, c);
        if (credited < amount)
          contributionCappedEvent.emit({ emit }, { contribution_id: c.id, credited, over_cap: amount - credited });
        return { contributor: c.contributor, vested: c.vested, credited };
      },
    };
  },
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
        // A contribution struck by a dispute keeps its leaf (the root is history) but earns no more.
        if (c.status === ContributionStatus.struck) continue;
        accepted.push({ id: c.id, contributor: c.contributor, size: c.size });
      }
      const value = { owner: d.owner, accepted };
      if (!store.hasWrite(datanetKey(id))) memo.set(id, { writes, value });
      return value;
    },
  }),
};

/*
 * Disputes reach contributions through this (src/attribution/dispute). A disputed contribution is
 * accepted and not vested, so its rewards are already locked on it; the hold makes vesting wait
 * for the resolution (datanet's end of block skips it), so nothing it earns becomes claimable
 * while the dispute is open.
 */
export const contributionDisputesKeeper: KeeperSource<ContributionDisputes> = {
  module: 'datanet',
  create: ({ store, bank, keeper }) => ({
    async hold(contributionId, disputeId) {
      const c = (await readContribution(store, contributionId))!;
      c.dispute_id = disputeId;
      writeContribution(store, c);
    },
    async release(contributionId, height) {
      const c = (await readContribution(store, contributionId))!;
      c.dispute_id = 0;
      if (c.vest_height <= height && !c.vested) {
        // Its vesting block passed while the dispute was open (its queue entry was skipped then).
        const earnings = keeper(EARNINGS).book();
        await vest(store, bank, c, earnings);
        earnings.flush();
      } else {
        writeContribution(store, c);
      }
    },
    async strike(contributionId: number, to: Address) {
      const c = (await readContribution(store, contributionId))!;
      const stake = c.stake;
      const locked = c.locked;
      await bank.transfer(DATANET_ESCROW, to, stake);
      await bank.transfer(REWARDS_POOL, to, locked);
      c.status = ContributionStatus.struck;
      c.dispute_id = 0;
      c.locked = 0n;
      writeContribution(store, c);
      const datanet = (await readDatanet(store, c.datanet_id))!;
      datanet.accepted_size -= c.size;
      save(store, DatanetCodec, datanetKey(datanet.id), datanet);
      return { stake, locked };
    },
  }),
};
