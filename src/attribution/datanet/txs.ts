import { viewOf } from '../../codec/view.ts';
import type { Address } from '../../crypto/address.ts';
import { bytesEqual, toHex } from '../../crypto/hash.ts';
import { EMPTY_LIST_ROOT } from '../../crypto/merkle.ts';
import { TributaryError } from '../../errors.ts';
import type { BankTransfers } from '../../state/bank/keeper.ts';
import { defineEvent } from '../../state/events.ts';
import type { ModuleStore } from '../../state/module-store.ts';
import type { TxDefinition } from '../../state/module.ts';
import type { StateReader } from '../../state/working-state.ts';
import { appendLeaf, frontierRoot } from '../accumulator.ts';
import type { MsgContribute, MsgCreateDatanet, MsgReview } from '../attribution.pb.ts';
import { requireAddress, requireHash, requireId, requireText, sortedUniqueBytes } from '../common.ts';
import { EARNINGS, type EarningsLedger } from '../expected.ts';
import { aiParams } from '../params.ts';
import {
  CONTRIBUTION_STATUS_NAMES,
  type Contribution,
  ContributionLeafCodec,
  ContributionStatus,
  DATANET_ESCROW,
  type Datanet,
  DatanetCodec,
  IdListCodec,
  PREFIX,
  bytesKey,
  codec,
  idKey,
  load,
  nextId,
  put,
  readId,
  save,
  writeId,
} from '../store.ts';
import { datanetKey, readContribution, readDatanet, vestingKey, writeContribution } from './keys.ts';

/* The datanet module: its transactions and the events they emit (the rules). */

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

export function isCuratorOrOwner(datanet: Datanet, who: Address): boolean {
  return bytesEqual(datanet.owner, who) || datanet.curators.some((c) => bytesEqual(c, who));
}

export const datanetCreatedEvent = defineEvent('datanet_created', 'a datanet was created', {
  datanet_id: { kind: 'integer' },
  owner: { kind: 'address', indexed: true },
  name: { kind: 'string' },
});

export const contributionSubmittedEvent = defineEvent(
  'contribution_submitted',
  'a contribution was submitted with its stake, pending review',
  {
    contribution_id: { kind: 'integer' },
    datanet_id: { kind: 'integer', indexed: true },
    contributor: { kind: 'address', indexed: true },
    content_hash: { kind: 'hash' },
    stake: { kind: 'amount' },
  },
);

export const contributionRejectedEvent = defineEvent(
  'contribution_rejected',
  'a contribution was rejected and its stake returned',
  {
    contribution_id: { kind: 'integer' },
    datanet_id: { kind: 'integer' },
    stake_returned: { kind: 'amount' },
  },
);

export const contributionAcceptedEvent = defineEvent(
  'contribution_accepted',
  "a contribution entered its datanet's Merkle root",
  {
    contribution_id: { kind: 'integer' },
    datanet_id: { kind: 'integer' },
    leaf_index: { kind: 'integer' },
    version: { kind: 'integer' },
    root: { kind: 'hash' },
    vest_height: { kind: 'integer' },
  },
);

export const contributionVestedEvent = defineEvent(
  'contribution_vested',
  "end of block: a contribution's challenge window ended, its stake returned and its locked rewards released",
  {
    contribution_id: { kind: 'integer' },
    stake_returned: { kind: 'amount' },
  },
);

export const contributionCappedEvent = defineEvent(
  'contribution_capped',
  "end of block: a contribution's credit was cut by a per-epoch cap (datanet or contributor); the rest went to the treasury",
  {
    contribution_id: { kind: 'integer' },
    credited: { kind: 'amount' },
    over_cap: { kind: 'amount' },
  },
);

export const createDatanetTx: TxDefinition<MsgCreateDatanet> = {
  type: 'datanet/create',
  codec: codec('MsgCreateDatanet'),
  validateBasic(m) {
    requireText('datanet/invalid', m.name, 'name', 128, true);
    requireHash('datanet/invalid', m.metadata_hash, 'metadata_hash');
    requireText('datanet/invalid', m.licence, 'licence', 128, true);
    for (const c of m.curators) requireAddress('datanet/invalid', c, 'curators');
    sortedUniqueBytes('datanet/invalid', m.curators, 'curators');
    if (!Number.isSafeInteger(m.challenge_window) || m.challenge_window < 0)
      throw new TributaryError('datanet/invalid', 'challenge_window');
  },
  async execute(ctx, m) {
    const params = aiParams(ctx.params).datanet;
    if (m.curators.length > params.maxCurators) {
      throw new TributaryError('datanet/too_many_curators', `at most ${params.maxCurators} curators`, {
        max: params.maxCurators,
      });
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

export async function acceptedOriginal(state: StateReader, contentHash: Uint8Array): Promise<number | undefined> {
  return readId(state, bytesKey(PREFIX.content, contentHash));
}

export function duplicate(contentHash: Uint8Array, originalId: number): never {
  throw new TributaryError(
    'datanet/duplicate_content',
    `content ${toHex(contentHash)} was already accepted as contribution ${originalId}`,
    {
      originalContributionId: originalId,
    },
  );
}

export const contributeTx: TxDefinition<MsgContribute> = {
  type: 'datanet/contribute',
  codec: codec('MsgContribute'),
  validateBasic(m) {
    requireId('datanet/invalid', m.datanet_id, 'datanet_id');
    requireHash('datanet/invalid', m.content_hash, 'content_hash');
    if (!Number.isSafeInteger(m.size) || m.size < 1)
      throw new TributaryError('datanet/invalid', 'size must be at least 1 byte');
    requireText('datanet/invalid', m.uri, 'uri', 512);
  },
  async execute(ctx, m) {
    const datanet = await readDatanet(ctx.store, m.datanet_id);
    if (!datanet)
      throw new TributaryError('datanet/not_found', `datanet ${m.datanet_id} does not exist`, {
        datanetId: m.datanet_id,
      });
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
      dispute_id: 0,
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

/** Returns the stake and releases locked rewards; the contribution's challenge window is over. */
export async function vest(
  state: ModuleStore,
  bank: BankTransfers,
  c: Contribution,
  earnings: EarningsLedger,
): Promise<void> {
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
    if (!c)
      throw new TributaryError('datanet/contribution_not_found', `contribution ${m.contribution_id} does not exist`);
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
