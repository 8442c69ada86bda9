import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { toHex } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../rpc/cursor.ts';
import { type JsonSchema, schema as s } from '../json-schema.ts';
import type { QueryDefinition, StateKeyDefinition } from '../module.ts';
import { CHAIN_PARAMS_PROPERTIES } from '../params.ts';
import type { StateReader } from '../working-state.ts';
import {
  CONTENT_KIND_NAMES,
  type Content,
  ContentKind,
  OPTION_NAMES,
  type Proposal,
  ProposalCodec,
  ProposalStatus,
  STATUS_BY_NAME,
  STATUS_NAMES,
  proposalKey,
  readDeposits,
  readNextId,
  readProposal,
  readVotes,
} from './records.ts';

/* The governance module: queries and the state-key kind for proofs. */

export const DEFAULT_PROPOSAL_PAGE = 50;
export const MAX_PROPOSAL_PAGE = 200;
const PROPOSALS_SCOPE = 'gov_proposals';

/** Proposals one gov_listProposals call reads at most while filtering; a page cut short by it has a cursor. */
export const MAX_PROPOSALS_EXAMINED = 2_000;

export function contentView(c: Content): JsonValue {
  const base = { kind: CONTENT_KIND_NAMES[c.kind] ?? String(c.kind), title: c.title };
  switch (c.kind) {
    case ContentKind.paramChange:
      return { ...base, params: JSON.parse(c.params_json) as JsonValue };
    case ContentKind.validatorAddition:
      return { ...base, publicKey: toHex(c.public_key), power: c.power, name: c.name };
    case ContentKind.validatorRemoval:
      return { ...base, publicKey: toHex(c.public_key) };
    case ContentKind.treasurySpend:
      return { ...base, recipient: formatAddress(c.recipient), amount: c.amount.toString() };
    default:
      return base;
  }
}

/** A content's public key, as `contentView` writes it: lowercase hex without a 0x prefix. */
const CONTENT_PUBLIC_KEY: JsonSchema = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Ed25519, hex' };

const contentOf = (kind: number, fields: Record<string, JsonSchema>): JsonSchema =>
  s.object({ kind: s.const(CONTENT_KIND_NAMES[kind]!), title: s.string(), ...fields });

/** `contentView`'s answer: one shape per content kind. */
export const CONTENT_SCHEMA: JsonSchema = s.oneOf(
  contentOf(ContentKind.paramChange, {
    // A partial ChainParamsJson: the fields it changes.
    params: { type: 'object', properties: CHAIN_PARAMS_PROPERTIES, additionalProperties: false },
  }),
  contentOf(ContentKind.validatorAddition, { publicKey: CONTENT_PUBLIC_KEY, power: s.positive(), name: s.string() }),
  contentOf(ContentKind.validatorRemoval, { publicKey: CONTENT_PUBLIC_KEY }),
  contentOf(ContentKind.treasurySpend, { recipient: s.address(), amount: s.amount() }),
);

const PROPOSAL_PROPERTIES: Record<string, JsonSchema> = {
  id: s.id(),
  status: s.names(STATUS_NAMES),
  content: CONTENT_SCHEMA,
  proposer: s.address(),
  submitHeight: s.integer(),
  depositEndHeight: s.integer(),
  totalDeposit: s.amount(),
  votingStartHeight: s.nullable(s.integer()),
  votingEndHeight: s.nullable(s.integer()),
  executeHeight: s.nullable(s.integer()),
  // Bonded stake, or validators for validator-set proposals; null until tallied.
  tally: s.nullable(s.object({ yes: s.amount(), no: s.amount(), abstain: s.amount(), eligible: s.amount() })),
  decidedHeight: s.nullable(s.integer()),
  effectiveHeight: s.nullable(s.integer()),
  error: s.nullable(s.object({ code: s.string(), message: s.string() })),
};
/** `proposalView`'s answer. */
export const PROPOSAL_SCHEMA: JsonSchema = s.object(PROPOSAL_PROPERTIES);

const TALLIED: ReadonlySet<number> = new Set([
  ProposalStatus.passed,
  ProposalStatus.executed,
  ProposalStatus.failed,
  ProposalStatus.rejected,
  ProposalStatus.noQuorum,
]);

/** A proposal's record as JSON: heights are 0 (shown as null) until they are set. */
export function proposalView(p: Proposal): { [key: string]: JsonValue } {
  const h = (n: number): JsonValue => (n === 0 ? null : n);
  return {
    id: p.id,
    status: STATUS_NAMES[p.status] ?? String(p.status),
    content: contentView(p.content!),
    proposer: formatAddress(p.proposer),
    submitHeight: p.submit_height,
    depositEndHeight: p.deposit_end_height,
    totalDeposit: p.total_deposit.toString(),
    votingStartHeight: h(p.voting_start_height),
    votingEndHeight: h(p.voting_end_height),
    executeHeight: h(p.execute_height),
    tally: TALLIED.has(p.status)
      ? { yes: p.yes.toString(), no: p.no.toString(), abstain: p.abstain.toString(), eligible: p.eligible.toString() }
      : null,
    decidedHeight: h(p.decided_height),
    effectiveHeight: h(p.effective_height),
    error: p.error_code ? { code: p.error_code, message: p.error_message } : null,
  };
}

function paramProposalId(v: unknown): number {
  const n = typeof v === 'string' && /^[0-9]{1,15}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1)
    throw new TributaryError('rpc/invalid_params', 'id must be a positive proposal id');
  return n;
}

async function requireProposalView(state: StateReader, id: number): Promise<JsonValue> {
  const p = await readProposal(state, id);
  if (!p) throw new TributaryError('gov/not_found', `proposal ${id} does not exist`, { proposalId: id });
  const deposits = await readDeposits(state, id);
  const votes = await readVotes(state, id);
  return {
    ...proposalView(p),
    // Held deposits (empty once refunded or sent to the treasury) and votes cast (empty once tallied).
    deposits: deposits.entries.map((d) => ({ depositor: formatAddress(d.depositor), amount: d.amount.toString() })),
    votes: votes.entries.map((v) => ({ voter: formatAddress(v.voter), option: OPTION_NAMES[v.option] ?? '' })),
  };
}

export const govStateKeys: StateKeyDefinition[] = [
  {
    kind: 'proposal',
    description: 'a governance proposal: content, status, heights of its steps, deposit, tally, execution result',
    id: { name: 'id', kind: 'integer' },
    key: (id) => proposalKey(id as number),
    view: (value) => proposalView(ProposalCodec.decode(value)),
  },
];

export const govQueries: QueryDefinition[] = [
  {
    method: 'gov_getProposal',
    description: 'a governance proposal with its held deposits and the votes cast so far',
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'proposal',
    result: s.object({
      ...PROPOSAL_PROPERTIES,
      deposits: s.array(s.object({ depositor: s.address(), amount: s.amount() })),
      votes: s.array(s.object({ voter: s.address(), option: s.names(OPTION_NAMES) })),
    }),
    async handler(q, p) {
      return requireProposalView(q.state, paramProposalId(p.id));
    },
  },
  {
    method: 'gov_listProposals',
    description:
      `proposals by ascending id: status? (${Object.values(STATUS_NAMES).join('|')}), limit? (1..${MAX_PROPOSAL_PAGE}, ` +
      `default ${DEFAULT_PROPOSAL_PAGE}), cursor? (opaque, from an earlier page); returns ` +
      '{proposals, cursor, head}, cursor null once there are no more (as of head)',
    params: [
      { name: 'status', kind: 'string', optional: true },
      { name: 'limit', kind: 'integer', optional: true },
      { name: 'cursor', kind: 'string', optional: true },
    ],
    cli: 'proposals',
    result: s.object({
      proposals: s.array(PROPOSAL_SCHEMA),
      cursor: s.nullable(s.cursor('opaque; null once there are no more')),
      head: s.integer(),
    }),
    async handler(q, p) {
      let status: number | undefined;
      if (p.status !== undefined && p.status !== null) {
        status = STATUS_BY_NAME.get(String(p.status));
        if (status === undefined)
          throw new TributaryError('rpc/invalid_params', `status: one of ${[...STATUS_BY_NAME.keys()].join(', ')}`);
      }
      const limit = p.limit === undefined || p.limit === null ? DEFAULT_PROPOSAL_PAGE : Number(p.limit);
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PROPOSAL_PAGE) {
        throw new TributaryError('rpc/range_too_large', `limit: 1 to ${MAX_PROPOSAL_PAGE} proposals a page`, {
          limit: 'proposals',
          max: MAX_PROPOSAL_PAGE,
        });
      }
      // The shared cursor (src/rpc/cursor.ts) over the last proposal id a page examined.
      const after = p.cursor === undefined || p.cursor === null ? 0 : decodeCursor(PROPOSALS_SCOPE, 1, p.cursor)[0]!;
      // Ids are dense (1 .. next - 1), so a page reads records by id: no scan of other keys. One
      // match past the page says whether there is more, so the cursor is null exactly when
      // nothing is left (or names the last id examined when the examined cap cut the page short).
      const next = await readNextId(q.state);
      const proposals: { [key: string]: JsonValue }[] = [];
      let cursor: string | null = null;
      let examined = 0;
      for (let id = after + 1; id < next; id++) {
        if (examined === MAX_PROPOSALS_EXAMINED) {
          cursor = encodeCursor(PROPOSALS_SCOPE, [id - 1]);
          break;
        }
        examined++;
        const record = await readProposal(q.state, id);
        if (!record || (status !== undefined && record.status !== status)) continue;
        if (proposals.length === limit) {
          cursor = encodeCursor(PROPOSALS_SCOPE, [Number(proposals[proposals.length - 1]!.id)]);
          break;
        }
        proposals.push(proposalView(record));
      }
      return { proposals, cursor, head: q.height };
    },
  },
];
