import type { JsonValue } from '../codec/json.ts';
import { viewOf } from '../codec/view.ts';
import { formatAddress, type Address } from '../crypto/address.ts';
import { bytesEqual, readU64be, toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import { readAccount } from '../state/bank/keeper.ts';
import { defineEvent } from '../state/events.ts';
import type { BankTransfers } from '../state/bank/keeper.ts';
import type { KeeperSource, Module, QueryContext, TxDefinition } from '../state/module.ts';
import type { ModuleStore } from '../state/module-store.ts';
import type { StateReader } from '../state/working-state.ts';
import { EARNINGS, type ContributionCredits, type EarningsLedger, type LineageDatanets } from './expected.ts';
import type { AcceptedContribution, LineageDatanet } from './split.ts';
import { appendLeaf, frontierRoot } from './accumulator.ts';
import {
  PAGE_PARAMS,
  hexOrNull,
  page,
  paramId,
  requireAddress,
  requireHash,
  requireId,
  requireText,
  sortedUniqueBytes,
} from './common.ts';
import { aiParams } from './params.ts';
import {
  CONTRIBUTION_STATUS_NAMES,
  ContributionCodec,
  ContributionLeafCodec,
  ContributionStatus,
  DATANET_ESCROW,
  DatanetCodec,
  IdListCodec,
  PREFIX,
  codec,
  bytesKey,
  idKey,
  load,
  nextId,
  put,
  remove,
  readId,
  save,
  writeId,
  type Contribution,
  type Datanet,
} from './store.ts';
import { EMPTY_LIST_ROOT } from '../crypto/merkle.ts';
import type { MsgCreateDatanet, MsgContribute, MsgReview } from './attribution.pb.ts';
export type { MsgCreateDatanet, MsgContribute, MsgReview } from './attribution.pb.ts';

/*
 * Datanets: curated collections of contributed data. A contribution escrows a stake (at least the
 * datanet's minimum) in the datanet escrow account. The owner or a curator reviews it:
 *   - rejected: the stake goes straight back;
 *   - accepted: the contribution is appended to the datanet's Merkle accumulator (the datanet's
 *     version is its leaf count) and its content hash is claimed chain-wide, so the same data can
 *     be accepted only once across all datanets. The stake stays escrowed for the challenge window
 *     (disputes, a later issue, will slash it there); at the end of block reviewed_height + window
 *     the stake is returned and the rewards the contribution earned meanwhile vest.
 * A copy (content hash already accepted) is refused at submission and at review with
 * `datanet/duplicate_content`, naming the original contribution.
 */

export type DatanetErrorCode =
  | 'datanet/invalid'
  | 'datanet/not_found'
  | 'datanet/contribution_not_found'
  | 'datanet/duplicate_content'
  | 'datanet/unauthorized'
  | 'datanet/stake_too_low'
  | 'datanet/not_pending'
  | 'datanet/too_many_curators'
  | 'datanet/window_too_long';

export function datanetKey(id: number): Uint8Array {
  return idKey(PREFIX.datanet, id);
}
export function contributionKey(id: number): Uint8Array {
  return idKey(PREFIX.contribution, id);
}

export async function readDatanet(state: StateReader, id: number): Promise<Datanet | undefined> {
  return load(state, DatanetCodec, datanetKey(id));
}
export async function readContribution(state: StateReader, id: number): Promise<Contribution | undefined> {
  return load(state, ContributionCodec, contributionKey(id));
}
export function writeContribution(state: ModuleStore, c: Contribution): void {
  save(state, ContributionCodec, contributionKey(c.id), c);
}

function isCuratorOrOwner(datanet: Datanet, who: Address): boolean {
  return bytesEqual(datanet.owner, who) || datanet.curators.some((c) => bytesEqual(c, who));
}

// ------------------------------------------------------------------ datanet/create

export const datanetCreatedEvent = defineEvent('datanet_created', 'a datanet was created', {
  datanet_id: { kind: 'integer' },
  owner: { kind: 'address', indexed: true },
  name: { kind: 'string' },
});

export const contributionSubmittedEvent = defineEvent('contribution_submitted', 'a contribution was submitted with its stake, pending review', {
  contribution_id: { kind: 'integer' },
  datanet_id: { kind: 'integer', indexed: true },
  contributor: { kind: 'address', indexed: true },
  content_hash: { kind: 'hash' },
  stake: { kind: 'amount' },
});

export const contributionRejectedEvent = defineEvent('contribution_rejected', 'a contribution was rejected and its stake returned', {
  contribution_id: { kind: 'integer' },
  datanet_id: { kind: 'integer' },
  stake_returned: { kind: 'amount' },
});

export const contributionAcceptedEvent = defineEvent('contribution_accepted', 'a contribution entered its datanet\'s Merkle root', {
  contribution_id: { kind: 'integer' },
  datanet_id: { kind: 'integer' },
  leaf_index: { kind: 'integer' },
  version: { kind: 'integer' },
  root: { kind: 'hash' },
  vest_height: { kind: 'integer' },
});

export const contributionVestedEvent = defineEvent('contribution_vested', 'end of block: a contribution\'s challenge window ended, its stake returned and its locked rewards released', {
  contribution_id: { kind: 'integer' },
  stake_returned: { kind: 'amount' },
});

export const createDatanetTx: TxDefinition<MsgCreateDatanet> = {
  type: 'datanet/create',
  codec: codec('MsgCreateDatanet'),
  validateBasic(m) {
    requireText('datanet/invalid', m.name, 'name', 128, true);
    requireHash('datanet/invalid', m.metadata_hash, 'metadata_hash');
    requireText('datanet/invalid', m.licence, 'licence', 128, true);
    for (const c of m.curators) requireAddress('datanet/invalid', c, 'curators');
    sortedUniqueBytes('datanet/invalid', m.curators, 'curators');
    if (!Number.isSafeInteger(m.challenge_window) || m.challenge_window < 0) throw new TributaryError('datanet/invalid', 'challenge_window');
  },
  async execute(ctx, m) {
    const params = aiParams(ctx.params).datanet;
    if (m.curators.length > params.maxCurators) {
      throw new TributaryError('datanet/too_many_curators', `at most ${params.maxCurators} curators`, { max: params.maxCurators });
    }
    if (m.challenge_window > params.maxChallengeWindow) {
      throw new TributaryError('datanet/window_too_long', `challenge window above ${params.maxChallengeWindow} blocks`);
    }
    const id = await nextId(ctx.store, PREFIX.datanetSeq);
    const datanet: Datanet = {
      id,
      owner: ctx.sender,
      name: m.name,
      metadata_hash: m.metadata_hash,
      licence: m.licence,
      curators: sortedUniqueBytes('datanet/invalid', m.curators, 'curators'),
      min_stake: m.min_stake,
      challenge_window: m.challenge_window,
      version: 0,
      contributions_root: EMPTY_LIST_ROOT,
      frontier: [],
      accepted_size: 0,
      submitted: 0,
      created_height: ctx.height,
    };
    save(ctx.store, DatanetCodec, datanetKey(id), datanet);
    datanetCreatedEvent.emit(ctx, { datanet_id: id, owner: ctx.sender, name: m.name });
  },
  view(m) {
    return viewOf(createDatanetTx.codec, m);
  },
};

// ------------------------------------------------------------------ datanet/contribute

async function acceptedOriginal(state: StateReader, contentHash: Uint8Array): Promise<number | undefined> {
  return readId(state, bytesKey(PREFIX.content, contentHash));
}

function duplicate(contentHash: Uint8Array, originalId: number): never {
  throw new TributaryError('datanet/duplicate_content', `content ${toHex(contentHash)} was already accepted as contribution ${originalId}`, {
    originalContributionId: originalId,
  });
}

export const contributeTx: TxDefinition<MsgContribute> = {
  type: 'datanet/contribute',
  codec: codec('MsgContribute'),
  validateBasic(m) {
    requireId('datanet/invalid', m.datanet_id, 'datanet_id');
    requireHash('datanet/invalid', m.content_hash, 'content_hash');
    if (!Number.isSafeInteger(m.size) || m.size < 1) throw new TributaryError('datanet/invalid', 'size must be at least 1 byte');
    requireText('datanet/invalid', m.uri, 'uri', 512);
  },
  async execute(ctx, m) {
    const datanet = await readDatanet(ctx.store, m.datanet_id);
    if (!datanet) throw new TributaryError('datanet/not_found', `datanet ${m.datanet_id} does not exist`, { datanetId: m.datanet_id });
    const original = await acceptedOriginal(ctx.store, m.content_hash);
    if (original !== undefined) duplicate(m.content_hash, original);
    if (m.stake < datanet.min_stake) {
      throw new TributaryError('datanet/stake_too_low', `stake ${m.stake} is below the minimum ${datanet.min_stake}`, {
        minStake: datanet.min_stake.toString(),
      });
    }
    await ctx.bank.transfer(ctx.sender, DATANET_ESCROW, m.stake);
    const id = await nextId(ctx.store, PREFIX.contributionSeq);
    writeContribution(ctx.store, {
      id,
      datanet_id: datanet.id,
      contributor: ctx.sender,
      content_hash: m.content_hash,
      size: m.size,
      uri: m.uri,
      stake: m.stake,
      status: ContributionStatus.pending,
      submitted_height: ctx.height,
      reviewed_height: 0,
      reviewer: new Uint8Array(0),
      leaf_index: 0,
      vest_height: 0,
      vested: false,
      earned: 0n,
      locked: 0n,
      paid_count: 0,
    });
    writeId(ctx.store, idKey(PREFIX.submitted, datanet.id, datanet.submitted), id);
    datanet.submitted += 1;
    save(ctx.store, DatanetCodec, datanetKey(datanet.id), datanet);
    contributionSubmittedEvent.emit(ctx, {
      contribution_id: id,
      datanet_id: datanet.id,
      contributor: ctx.sender,
      content_hash: m.content_hash,
      stake: m.stake,
    });
  },
  view(m) {
    return viewOf(contributeTx.codec, m);
  },
};

// ------------------------------------------------------------------ datanet/review

function vestingKey(height: number): Uint8Array {
  return idKey(PREFIX.vesting, height);
}

/** Returns the stake and releases locked rewards; the contribution's challenge window is over. */
async function vest(state: ModuleStore, bank: BankTransfers, c: Contribution, earnings: EarningsLedger): Promise<void> {
  await bank.transfer(DATANET_ESCROW, c.contributor, c.stake);
  if (c.locked > 0n) await earnings.release(c.contributor, c.locked);
  c.locked = 0n;
  c.vested = true;
  writeContribution(state, c);
}

export const reviewTx: TxDefinition<MsgReview> = {
  type: 'datanet/review',
  codec: codec('MsgReview'),
  validateBasic(m) {
    requireId('datanet/invalid', m.contribution_id, 'contribution_id');
  },
  async execute(ctx, m) {
    const c = await readContribution(ctx.store, m.contribution_id);
    if (!c) throw new TributaryError('datanet/contribution_not_found', `contribution ${m.contribution_id} does not exist`);
    const datanet = (await readDatanet(ctx.store, c.datanet_id))!;
    if (!isCuratorOrOwner(datanet, ctx.sender)) {
      throw new TributaryError('datanet/unauthorized', 'only the datanet owner or a curator reviews contributions');
    }
    if (c.status !== ContributionStatus.pending) {
      throw new TributaryError('datanet/not_pending', `contribution ${c.id} is ${CONTRIBUTION_STATUS_NAMES[c.status]}`);
    }
    c.reviewed_height = ctx.height;
    c.reviewer = ctx.sender;
    if (!m.accept) {
      c.status = ContributionStatus.rejected;
      await ctx.bank.transfer(DATANET_ESCROW, c.contributor, c.stake);
      writeContribution(ctx.store, c);
      contributionRejectedEvent.emit(ctx, { contribution_id: c.id, datanet_id: datanet.id, stake_returned: c.stake });
      return;
    }
    const original = await acceptedOriginal(ctx.store, c.content_hash);
    if (original !== undefined) duplicate(c.content_hash, original);
    put(ctx.store, bytesKey(PREFIX.content, c.content_hash), idKey(new Uint8Array(0), c.id));
    c.status = ContributionStatus.accepted;
    c.leaf_index = datanet.version;
    c.vest_height = ctx.height + datanet.challenge_window;
    const leaf = ContributionLeafCodec.encode({
      datanet_id: datanet.id,
      contribution_id: c.id,
      content_hash: c.content_hash,
      size: c.size,
      contributor: c.contributor,
    });
    datanet.frontier = appendLeaf(datanet.frontier, leaf);
    datanet.contributions_root = frontierRoot(datanet.frontier);
    writeId(ctx.store, idKey(PREFIX.accepted, datanet.id, datanet.version), c.id);
    datanet.version += 1;
    datanet.accepted_size += c.size;
    save(ctx.store, DatanetCodec, datanetKey(datanet.id), datanet);
    if (datanet.challenge_window === 0) {
      const earnings = ctx.keeper(EARNINGS).book();
      await vest(ctx.store, ctx.bank, c, earnings);
      earnings.flush();
    } else {
      writeContribution(ctx.store, c);
      const queue = (await load(ctx.store, IdListCodec, vestingKey(c.vest_height))) ?? { ids: [] };
      queue.ids.push(c.id);
      save(ctx.store, IdListCodec, vestingKey(c.vest_height), queue);
    }
    contributionAcceptedEvent.emit(ctx, {
      contribution_id: c.id,
      datanet_id: datanet.id,
      leaf_index: c.leaf_index,
      version: datanet.version,
      root: datanet.contributions_root,
      vest_height: c.vest_height,
    });
  },
  view(m) {
    return viewOf(reviewTx.codec, m);
  },
};

// ------------------------------------------------------------------ views and queries

export function datanetView(d: Datanet): JsonValue {
  return {
    id: d.id,
    owner: formatAddress(d.owner),
    name: d.name,
    metadataHash: hexOrNull(d.metadata_hash),
    licence: d.licence,
    curators: d.curators.map(formatAddress),
    minStake: d.min_stake.toString(),
    challengeWindow: d.challenge_window,
    version: d.version,
    contributionsRoot: hexOrNull(d.contributions_root),
    acceptedCount: d.version,
    acceptedSize: d.accepted_size,
    submitted: d.submitted,
    createdHeight: d.created_height,
  };
}

export function contributionView(c: Contribution): JsonValue {
  return {
    id: c.id,
    datanetId: c.datanet_id,
    contributor: formatAddress(c.contributor),
    contentHash: hexOrNull(c.content_hash),
    size: c.size,
    uri: c.uri,
    stake: c.stake.toString(),
    status: CONTRIBUTION_STATUS_NAMES[c.status] ?? 'unknown',
    submittedHeight: c.submitted_height,
    reviewedHeight: c.reviewed_height || null,
    reviewer: c.reviewer.length ? formatAddress(c.reviewer) : null,
    leafIndex: c.status === ContributionStatus.accepted ? c.leaf_index : null,
    vestHeight: c.status === ContributionStatus.accepted ? c.vest_height : null,
    vested: c.vested,
    earned: c.earned.toString(),
    locked: c.locked.toString(),
    paidCount: c.paid_count,
  };
}

async function requireDatanet(q: QueryContext, id: number): Promise<Datanet> {
  const d = await readDatanet(q.state, id);
  if (!d) throw new TributaryError('datanet/not_found', `datanet ${id} does not exist`, { datanetId: id });
  return d;
}

// ------------------------------------------------------------------ keepers

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

export const datanetModule: Module = {
  name: 'datanet',
  keepers: [contributionCreditsKeeper, lineageDatanetsKeeper],
  expects: [EARNINGS],
  txs: [createDatanetTx, contributeTx, reviewTx],
  events: [datanetCreatedEvent, contributionSubmittedEvent, contributionRejectedEvent, contributionAcceptedEvent, contributionVestedEvent],
  stateKeys: [
    {
      kind: 'datanet',
      description: 'a datanet record (owner, stake rule, version, Merkle root and frontier of accepted contributions)',
      id: { name: 'id', kind: 'integer' },
      key: (id) => datanetKey(id as number),
      view: (value) => datanetView(DatanetCodec.decode(value)),
    },
    {
      kind: 'contribution',
      description: 'a contribution record (status, stake, vesting, earned and locked rewards)',
      id: { name: 'id', kind: 'integer' },
      key: (id) => contributionKey(id as number),
      view: (value) => contributionView(ContributionCodec.decode(value)),
    },
    {
      kind: 'content',
      description: 'which accepted contribution holds a content hash (chain-wide duplicate check)',
      id: { name: 'contentHash', kind: 'hash' },
      key: (id) => bytesKey(PREFIX.content, id as Uint8Array),
      view: (value) => ({ contributionId: readU64be(value) }),
    },
  ],
  queries: [
    {
      method: 'datanet_get',
      description: 'a datanet: owner, licence, curators, stake rule, version and Merkle root of accepted contributions',
      params: [{ name: 'id', kind: 'integer' }],
      cli: 'datanet',
      async handler(q, p) {
        return datanetView(await requireDatanet(q, paramId(p.id)));
      },
    },
    {
      method: 'datanet_listContributions',
      description: 'contributions submitted to a datanet, in submission order, paginated',
      params: [{ name: 'id', kind: 'integer' }, ...PAGE_PARAMS],
      cli: 'datanet-contributions',
      async handler(q, p) {
        const d = await requireDatanet(q, paramId(p.id));
        const { offset, limit } = page(p);
        const items: JsonValue[] = [];
        for (let i = offset; i < Math.min(d.submitted, offset + limit); i++) {
          const id = await readId(q.state, idKey(PREFIX.submitted, d.id, i));
          const c = id === undefined ? undefined : await readContribution(q.state, id);
          if (c) items.push(contributionView(c));
        }
        return { datanetId: d.id, total: d.submitted, offset, limit, contributions: items };
      },
    },
    {
      method: 'datanet_getContribution',
      description: 'one contribution: status, stake, vesting and what it earned',
      params: [{ name: 'id', kind: 'integer' }],
      cli: 'contribution',
      async handler(q, p) {
        const id = paramId(p.id);
        const c = await readContribution(q.state, id);
        if (!c) throw new TributaryError('datanet/contribution_not_found', `contribution ${id} does not exist`);
        return contributionView(c);
      },
    },
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
      await vest(ctx.store, ctx.bank, c, earnings);
      contributionVestedEvent.emit(ctx, { contribution_id: id, stake_returned: c.stake });
    }
    earnings.flush();
    remove(ctx.store, key);
  },
  invariants: [
    {
      name: 'escrow holds exactly the stakes of pending and unvested accepted contributions',
      async check(q) {
        let staked = 0n;
        for await (const [, v] of q.iterate(PREFIX.contribution)) {
          const c = ContributionCodec.decode(v);
          if (c.status === ContributionStatus.pending || (c.status === ContributionStatus.accepted && !c.vested)) staked += c.stake;
        }
        const escrow = (await readAccount(q.state, DATANET_ESCROW)).balance;
        return escrow === staked ? undefined : `escrow ${escrow} != staked ${staked}`;
      },
    },
  ],
};
