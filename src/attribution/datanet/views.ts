import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { type JsonSchema, schema as s } from '../../state/json-schema.ts';
import { hexOrNull } from '../common.ts';
import { CONTRIBUTION_STATUS_NAMES, type Contribution, ContributionStatus, type Datanet } from '../store.ts';

/* The datanet module: JSON views of records (where a view adds meaning to the schema). */

export const DATANET_SCHEMA: JsonSchema = s.object({
  id: s.id(),
  owner: s.address(),
  name: s.string(),
  metadataHash: s.nullable(s.hash()),
  licence: s.string(),
  curators: s.array(s.address()),
  minStake: s.amount(),
  challengeWindow: s.integer('blocks between acceptance and vesting'),
  version: s.integer('accepted contributions (the leaf count)'),
  contributionsRoot: s.nullable(s.hash('Merkle root of the accepted contributions')),
  acceptedCount: s.integer(),
  acceptedSize: s.integer(),
  submitted: s.integer(),
  createdHeight: s.integer(),
});

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

export const CONTRIBUTION_SCHEMA: JsonSchema = s.object({
  id: s.id(),
  datanetId: s.id(),
  contributor: s.address(),
  contentHash: s.nullable(s.hash()),
  size: s.integer(),
  uri: s.string(),
  stake: s.amount(),
  status: s.names(CONTRIBUTION_STATUS_NAMES),
  submittedHeight: s.integer(),
  reviewedHeight: s.nullable(s.integer()),
  reviewer: s.nullable(s.address()),
  leafIndex: s.nullable(s.integer('accepted contributions only')),
  vestHeight: s.nullable(s.integer('accepted contributions only')),
  vested: s.boolean(),
  earned: s.amount(),
  locked: s.amount(),
  paidCount: s.integer(),
});

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
