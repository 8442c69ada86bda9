import type { JsonValue } from '../codec/json.ts';

/*
 * JSON Schema (draft-07) fragments for what the JSON-RPC API answers, as `rpc.discover` publishes
 * them. They live in `state` rather than in `rpc` because module queries declare their result
 * schemas beside their handlers and `state` does not import `rpc` (ARCHITECTURE.md); the core
 * methods' schemas (src/rpc/schemas.ts) are built from the same helpers. Each fragment says the
 * exact string form the views write: amounts as decimal strings, hashes and keys as 0x-prefixed
 * lowercase hex, addresses as bech32.
 */

export type JsonSchema = { readonly [key: string]: JsonValue };

const described = (s: JsonSchema, description?: string): JsonSchema => (description ? { ...s, description } : s);

const HEX_32 = '[0-9a-f]{64}';

export const schema = {
  string: (description?: string): JsonSchema => described({ type: 'string' }, description),
  /** A non-negative safe integer (heights, counters, ids). */
  integer: (description?: string): JsonSchema => described({ type: 'integer', minimum: 0 }, description),
  /** A positive safe integer (powers, sizes). */
  positive: (description?: string): JsonSchema => described({ type: 'integer', minimum: 1 }, description),
  /** A record id: ids are allocated from 1, so an id is a positive integer. */
  id: (description?: string): JsonSchema => schema.positive(description),
  /** A share in basis points. */
  bps: (description?: string): JsonSchema => described({ type: 'integer', minimum: 0, maximum: 10_000 }, description),
  boolean: (): JsonSchema => ({ type: 'boolean' }),
  /** A bigint amount in base units, as a decimal string. */
  amount: (description?: string): JsonSchema => described({ type: 'string', pattern: '^(0|[1-9]\\d*)$' }, description),
  /** A 32-byte hash, 0x-prefixed lowercase hex. */
  hash: (description?: string): JsonSchema => described({ type: 'string', pattern: `^0x${HEX_32}$` }, description),
  /** A 32-byte Ed25519 public key, 0x-prefixed lowercase hex. */
  publicKey: (description?: string): JsonSchema =>
    described({ type: 'string', pattern: `^0x${HEX_32}$` }, description ?? 'Ed25519 public key'),
  /** Bytes of any length, 0x-prefixed lowercase hex. */
  hex: (description?: string): JsonSchema => described({ type: 'string', pattern: '^0x([0-9a-f]{2})*$' }, description),
  address: (description?: string): JsonSchema =>
    described({ type: 'string', pattern: '^trib1[02-9ac-hj-np-z]+$' }, description),
  cursor: (description = 'opaque: pass back as received'): JsonSchema => ({
    type: 'string',
    pattern: '^[A-Za-z0-9_-]+$',
    description,
  }),
  nullable: (s: JsonSchema): JsonSchema => ({ oneOf: [s, { type: 'null' }] }),
  array: (items: JsonSchema): JsonSchema => ({ type: 'array', items }),
  enum: (...values: string[]): JsonSchema => ({ type: 'string', enum: values }),
  /** One of the names of a numbered enumeration (the `*_NAMES` tables views write). */
  names: (table: Readonly<Record<number, string>>, description?: string): JsonSchema =>
    described({ type: 'string', enum: Object.values(table) }, description),
  /**
   * An object of exactly these properties (no others), all required unless listed in `optional`.
   * Every answer of the API has a fixed shape; `map` is for objects keyed by data.
   */
  object: (properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema => ({
    type: 'object',
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    additionalProperties: false,
  }),
  /** An object keyed by data (event attributes, module sections): any keys, or only `keys` when given. */
  map: (values: JsonSchema, keys?: readonly string[]): JsonSchema => ({
    type: 'object',
    ...(keys ? { propertyNames: { enum: [...keys] } } : {}),
    additionalProperties: values,
  }),
  /** Exactly one of these shapes (tell them apart by a `const` property). */
  oneOf: (...shapes: JsonSchema[]): JsonSchema => ({ oneOf: shapes }),
  const: (value: string): JsonSchema => ({ const: value }),
  any: (description?: string): JsonSchema => (description ? { description } : {}),
};
