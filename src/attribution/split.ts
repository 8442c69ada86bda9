import type { Address } from '../crypto/address.ts';
import { TributaryError } from '../errors.ts';
import { BPS, bpsOf, splitLargestRemainder } from '../state/math.ts';
import { byKindThenId } from './common.ts';
import { EdgeKind, NodeKind, TargetKind, type Leg, type LegRole, type ParentEdge, type Weight } from './store.ts';

/*
 * The payment split, as a pure function of the payment and a read-only view of the lineage.
 *
 *   1. Off the top, each floored: validators (validatorBps), treasury (treasuryBps), the agent's
 *      fee (its feeBps, when the payment names an agent). The model keeps the rest, so the flooring
 *      never loses a unit.
 *   2. Lineage: the paid version receives the model amount. Each version splits its inflow between
 *      its owner (10,000 minus the sum of its parent shares) and its parent edges (their shares),
 *      by largest remainder in the order [owner, edges sorted by (kind, id)]. Inflows are summed per
 *      node and nodes are processed once each in descending version id (a parent's id is always
 *      smaller than its child's), so a diamond costs one visit per node.
 *   3. Datanets: with an attribution record, the total that reached all datanets is re-split by
 *      the record's weights (targets sorted by (kind, id)); without one, each datanet's inflow is
 *      split over its accepted contributions by accepted size, in acceptance order. A datanet
 *      with no accepted contribution passes its inflow to its owner ("curated").
 * Every split is exact largest remainder with lower index first on equal remainders, except the
 * size split over a datanet's contributions: floors, the units left over to the datanet's owner
 * (so splitting one contributor into many never earns more). The legs always sum to the amount. Zero legs are left out; legs with the same role and node are merged.
 */

export interface LineageVersion {
  owner: Address;
  /** Parent edges; any order (sorted here). */
  parents: readonly ParentEdge[];
}

export interface AcceptedContribution {
  id: number;
  contributor: Address;
  size: number;
}

export interface LineageDatanet {
  owner: Address;
  /** Accepted contributions in acceptance order. */
  accepted: readonly AcceptedContribution[];
}

export interface LineageView {
  version(id: number): Promise<LineageVersion>;
  datanet(id: number): Promise<LineageDatanet>;
  contribution(id: number): Promise<AcceptedContribution>;
  /** Called before lineage nodes (versions, datanets) or contributions are processed; metering. */
  visit?(what: 'node' | 'contribution', count: number): void;
}

export interface SplitRequest {
  amount: bigint;
  validatorBps: number;
  treasuryBps: number;
  validatorsAccount: Address;
  treasuryAccount: Address;
  agent?: { id: number; account: Address; feeBps: number };
  versionId: number;
  /** Ids of every model-version ancestor of `versionId` (any order). */
  ancestorVersionIds: readonly number[];
  /** Attribution weights, when the payment names a record. */
  recordWeights?: readonly Weight[];
}

export interface SplitResult {
  legs: Leg[];
  nodesVisited: number;
}

class LegBook {
  readonly legs: Leg[] = [];
  /** Only a contribution can be credited twice (as a record target and through its datanet). */
  private readonly contributionLeg = new Map<number, Leg>();

  add(role: LegRole, recipient: Address, amount: bigint, nodeKind: number, nodeId: number): void {
    if (amount === 0n) return;
    if (role === 'contributed') {
      const existing = this.contributionLeg.get(nodeId);
      if (existing) {
        existing.amount += amount;
        return;
      }
    }
    const leg: Leg = { role, recipient, amount, node_kind: nodeKind, node_id: nodeId };
    if (role === 'contributed') this.contributionLeg.set(nodeId, leg);
    this.legs.push(leg);
  }
}

export async function splitPayment(req: SplitRequest, view: LineageView): Promise<SplitResult> {
  const book = new LegBook();
  let nodesVisited = 0;
  const visitNode = (): void => {
    nodesVisited++;
    view.visit?.('node', 1);
  };

  const validators = bpsOf(req.amount, req.validatorBps);
  const treasury = bpsOf(req.amount, req.treasuryBps);
  const agentFee = req.agent ? bpsOf(req.amount, req.agent.feeBps) : 0n;
  const modelAmount = req.amount - validators - treasury - agentFee;
  if (modelAmount < 0n) throw new TributaryError('inference/invalid', 'off-the-top shares exceed the payment');
  book.add('validated', req.validatorsAccount, validators, NodeKind.none, 0);
  book.add('treasury', req.treasuryAccount, treasury, NodeKind.none, 0);
  if (req.agent) book.add('executed', req.agent.account, agentFee, NodeKind.agent, req.agent.id);

  // Lineage walk, children before parents.
  const versionInflow = new Map<number, bigint>([[req.versionId, modelAmount]]);
  const datanetInflow = new Map<number, bigint>();
  const known = new Set([req.versionId, ...req.ancestorVersionIds]);
  const order = [...known].sort((a, b) => b - a);
  for (const id of order) {
    const inflow = versionInflow.get(id) ?? 0n;
    if (inflow === 0n) continue;
    visitNode();
    const version = await view.version(id);
    const edges = [...version.parents].sort(byKindThenId);
    let shareSum = 0n;
    for (const e of edges) shareSum += BigInt(e.share_bps);
    if (shareSum > BPS) throw new TributaryError('inference/invalid', `version ${id} gives away more than 100 %`);
    const parts = splitLargestRemainder(inflow, [BPS - shareSum, ...edges.map((e) => BigInt(e.share_bps))]);
    book.add('refined', version.owner, parts[0]!, NodeKind.modelVersion, id);
    for (let i = 0; i < edges.length; i++) {
      const edge = edges[i]!;
      const part = parts[i + 1]!;
      if (part === 0n) continue;
      if (edge.kind === EdgeKind.model) {
        if (edge.id >= id)
          throw new TributaryError('inference/invalid', `version ${id} has a parent ${edge.id} that is not older`);
        if (!known.has(edge.id))
          throw new TributaryError('inference/invalid', `ancestor set of ${req.versionId} misses ${edge.id}`);
        versionInflow.set(edge.id, (versionInflow.get(edge.id) ?? 0n) + part);
      } else {
        datanetInflow.set(edge.id, (datanetInflow.get(edge.id) ?? 0n) + part);
      }
    }
  }

  const distributeDatanet = async (id: number, amount: bigint): Promise<void> => {
    if (amount === 0n) return;
    visitNode();
    const datanet = await view.datanet(id);
    if (datanet.accepted.length === 0) {
      book.add('curated', datanet.owner, amount, NodeKind.datanet, id);
      return;
    }
    // Floors only: the units left over go to the datanet's owner. Giving them to the largest
    // remainders would pay an identity split into many more (the fractions of the pieces add up to
    // more than the fraction of the whole), so splitting must never earn more (anti-sybil).
    let totalSize = 0n;
    for (const c of datanet.accepted) totalSize += BigInt(c.size);
    const parts = datanet.accepted.map((c) => (amount * BigInt(c.size)) / totalSize);
    let paid = 0;
    let leftover = amount;
    for (const part of parts) {
      if (part !== 0n) paid++;
      leftover -= part;
    }
    view.visit?.('contribution', paid);
    for (let i = 0; i < parts.length; i++) {
      if (parts[i] === 0n) continue;
      const c = datanet.accepted[i]!;
      book.add('contributed', c.contributor, parts[i]!, NodeKind.contribution, c.id);
    }
    book.add('curated', datanet.owner, leftover, NodeKind.datanet, id);
  };

  const datanetIds = [...datanetInflow.keys()].sort((a, b) => a - b);
  if (!req.recordWeights) {
    for (const id of datanetIds) await distributeDatanet(id, datanetInflow.get(id)!);
  } else {
    // The record re-splits exactly what reached the datanets: it can move value between them and
    // their contributions, never take it from the model owners.
    let datanetTotal = 0n;
    for (const id of datanetIds) datanetTotal += datanetInflow.get(id)!;
    const weights = [...req.recordWeights].sort(byKindThenId);
    const parts = splitLargestRemainder(
      datanetTotal,
      weights.map((w) => BigInt(w.bps)),
    );
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      const part = parts[i]!;
      if (part === 0n) continue;
      if (w.kind === TargetKind.contribution) {
        view.visit?.('contribution', 1);
        const c = await view.contribution(w.id);
        book.add('contributed', c.contributor, part, NodeKind.contribution, c.id);
      } else {
        await distributeDatanet(w.id, part);
      }
    }
  }
  return { legs: book.legs, nodesVisited };
}
