import type { JsonSchema } from '../state/module.ts';
import { schema as s } from './openrpc.ts';

/*
 * Result schemas of the core methods, beside the views (views.ts) they describe. The OpenRPC
 * test checks real answers of a real node against them, so a view that changes without its
 * schema fails there; the client's TypeScript types (client-types.ts) follow the same shapes.
 */

const eventBody = {
  type: s.string('the event type, e.g. "transfer"'),
  attributes: s.map(s.string()),
};
export const EVENT_SCHEMA = s.object(eventBody);

const commit = s.object({
  height: s.integer(),
  round: s.integer(),
  blockHash: s.hash(),
  signatures: s.array(s.object({ validator: s.address(), signature: s.hex() })),
});
export const COMMIT_SCHEMA = commit;

const headerFields: Record<string, JsonSchema> = {
  hash: s.hash(),
  height: s.integer(),
  chainId: s.string(),
  timeMs: s.integer('block time (proposer clock), milliseconds since the epoch'),
  time: s.string('the same time, ISO 8601'),
  parentHash: s.hash(),
  proposer: s.address(),
  txsRoot: s.hash(),
  stateRoot: s.hash('the state root after this block'),
  resultsRoot: s.hash(),
  validatorsHash: s.hash(),
  nextValidatorsHash: s.hash(),
  lastCommitHash: s.hash(),
  headerBytes: s.hex('the canonical header encoding; hash is its SHA-256'),
  proposerSignature: s.hex(),
  txCount: s.integer(),
  lastCommit: s.nullable(commit),
};
export const HEADER_SCHEMA = s.object(headerFields);
export const BLOCK_SCHEMA = s.object({
  ...headerFields,
  txs: {
    type: 'array',
    description: 'transaction hashes, or the decoded transactions with full=true',
    items: { oneOf: [s.hash(), { type: 'object' }] },
  },
});

export const RECEIPT_SCHEMA = s.object({
  txHash: s.hash(),
  status: s.enum('committed', 'failed'),
  errorCode: s.nullable(s.string()),
  errorMessage: s.nullable(s.string()),
  fee: s.amount(),
  events: s.array(EVENT_SCHEMA),
});

export const TX_BODY_SCHEMA = s.object({
  hash: s.hash(),
  chainId: s.string(),
  sender: s.address(),
  senderPublicKey: s.hex(),
  nonce: s.integer(),
  fee: s.amount(),
  type: s.string('"<module>/<action>"'),
  message: { type: 'object' },
  size: s.integer(),
});

/** An event with its place in the chain (chain_getEvents, and `events` notifications with a cursor). */
export const CHAIN_EVENT_SCHEMA = s.object({
  height: s.integer(),
  blockHash: s.hash(),
  blockTimeMs: s.integer(),
  txHash: s.nullable(s.hash()),
  txIndex: s.nullable(s.integer()),
  eventIndex: s.integer(),
  ...eventBody,
});

export const STATUS_SCHEMA = s.object({
  chainId: s.string(),
  height: s.integer(),
  finalizedHeight: s.integer('the last committed block (BFT finality): equal to height'),
  latestBlockHash: s.nullable(s.hash()),
  latestBlockTimeMs: s.nullable(s.integer()),
  stateRoot: s.hash(),
  genesisTimeMs: s.integer(),
  validators: s.array(s.object({ name: s.string(), address: s.address(), power: s.integer() })),
  minFee: s.amount(),
  mempool: s.object({ size: s.integer(), bytes: s.integer() }),
});

export const TX_GET_SCHEMA = s.nullable(
  s.object({
    hash: s.hash(),
    status: s.enum('queued', 'pending', 'committed', 'failed'),
    height: s.nullable(s.integer()),
    index: s.nullable(s.integer()),
    blockHash: s.nullable(s.hash()),
    tx: TX_BODY_SCHEMA,
    receipt: s.nullable(RECEIPT_SCHEMA),
  }),
);

export const SUBMIT_SCHEMA = s.object({ hash: s.hash(), queued: s.boolean() });

export const SIMULATE_SCHEMA = s.object({
  ok: s.boolean(),
  requiredFee: s.amount(),
  declaredFee: s.amount(),
  chargedFee: s.amount(),
  events: s.array(EVENT_SCHEMA),
  error: s.nullable(s.object({ code: s.string(), message: s.string() })),
});

export const NONCE_SCHEMA = s.object({ address: s.address(), nonce: s.integer() });

export const VALIDATORS_SCHEMA = s.object({
  height: s.integer(),
  hash: s.hash(),
  totalPower: s.integer(),
  validators: s.array(s.object({ name: s.string(), address: s.address(), publicKey: s.hex(), power: s.integer() })),
});

export const BLOCK_RESULTS_SCHEMA = s.nullable(
  s.object({ height: s.integer(), receipts: s.array(RECEIPT_SCHEMA), endBlockEvents: s.array(EVENT_SCHEMA) }),
);

export const PROOF_SCHEMA = s.object({
  height: s.integer(),
  blockHash: s.nullable(s.hash()),
  stateRoot: s.hash(),
  key: s.hex(),
  exists: s.boolean(),
  value: s.nullable(s.hex()),
  decoded: s.any('the record decoded by its kind, or null'),
  proof: s.hex(),
});

export const KEY_KINDS_SCHEMA = s.array(
  s.object({ kind: s.string(), description: s.string(), id: s.nullable(s.string()) }),
);

export const EVENTS_PAGE_SCHEMA = s.object({
  events: s.array(CHAIN_EVENT_SCHEMA),
  cursor: s.nullable(s.cursor('opaque; null once the range is done')),
  head: s.integer(),
  finalized: s.integer('the last committed block (BFT finality): equal to head'),
});

export const TX_LIST_SCHEMA = s.object({
  txs: s.array(
    s.object({
      hash: s.hash(),
      height: s.integer(),
      index: s.integer(),
      type: s.string(),
      status: s.enum('committed', 'failed'),
    }),
  ),
  cursor: s.nullable(s.cursor('opaque; null once there are no more')),
  head: s.integer(),
});

export const EVENT_FILTER_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['types'],
  properties: {
    types: { oneOf: [s.string(), { type: 'array', items: s.string(), minItems: 1, maxItems: 16 }] },
    attributes: {
      type: 'object',
      additionalProperties: { oneOf: [s.string(), { type: 'array', items: s.string(), minItems: 1 }] },
    },
    fromHeight: s.integer(),
    toHeight: s.integer(),
    blockHash: s.hash(),
    limit: s.integer(),
    cursor: s.cursor(),
  },
  additionalProperties: false,
};

export const SUBSCRIBE_OPTIONS_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    filter: {
      type: 'object',
      properties: {
        type: s.string(),
        attributes: {
          type: 'object',
          additionalProperties: { oneOf: [s.string(), { type: 'array', items: s.string(), minItems: 1 }] },
        },
      },
      additionalProperties: false,
    },
    fromHeight: { type: 'integer', minimum: 1 },
    cursor: s.cursor('from a notification, a lagging error or a chain_getEvents page'),
    hash: s.hash('the transaction, for kind "tx"'),
    batch: {
      type: 'boolean',
      description:
        'kind "events": each notification\'s result is a list of up to 1,000 events in chain order (the same objects, each with its cursor), one block\'s events in as few notifications as that allows',
    },
  },
  additionalProperties: false,
};
