import type { JsonValue } from '../codec/json.ts';
import type { JsonSchema, ParamSpec } from '../state/module.ts';
import { documentedErrors } from './errors.ts';
import type { RpcMethod } from './methods.ts';

/*
 * `rpc.discover`: the OpenRPC 1.3 document of this server, built from the method table itself
 * (core methods, chain_getEvents, subscriptions, every module's QueryDefinition), so a method
 * added anywhere is documented without a second list. Parameter schemas come from the ParamSpec
 * kinds (the same kinds params.ts checks), refined by a spec's own `schema` for `json` params;
 * result schemas from every definition's `result` (a module query's beside it in its module, the
 * core ones in schemas.ts, all built from src/state/json-schema.ts); the error numbers from errors.ts.
 * Hand-built rather than through an OpenRPC generator library: those generate from TypeScript
 * sources or decorators at build time, and the table here is runtime data (module queries).
 */

/** The API's version: its minor number moves when methods are added, its major one on a breaking change. */
export const RPC_API_VERSION = '1.1.0';
export const OPENRPC_VERSION = '1.3.2';

// ------------------------------------------------------------------ schema helpers

// The fragments live in src/state/json-schema.ts, where module queries (which do not import rpc)
// reach them too; re-exported for the rpc files.
export { schema } from '../state/json-schema.ts';

const HEIGHT_TEXT = '^(0|[1-9]\\d{0,15})$';

export const BLOCK_TAG_SCHEMA: JsonSchema = {
  title: 'blockTag',
  description:
    'a height, a 0x-prefixed 32-byte block hash, or a tag: "latest" (the newest committed block), "finalized" ' +
    '(the last committed block (BFT finality): every committed block is final, so it is the same block as ' +
    'latest) or "earliest" (height 0, genesis)',
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: HEIGHT_TEXT },
    { type: 'string', pattern: '^0x[0-9a-fA-F]{64}$' },
    { type: 'string', enum: ['latest', 'finalized', 'earliest'] },
  ],
};

/** The JSON Schema of what `parseCallParams` accepts for a spec. */
export function paramSchema(spec: ParamSpec): JsonSchema {
  switch (spec.kind) {
    case 'string':
      return { type: 'string' };
    case 'boolean':
      return { type: 'boolean' };
    case 'integer':
      return {
        oneOf: [
          { type: 'integer', minimum: 0 },
          { type: 'string', pattern: HEIGHT_TEXT },
        ],
      };
    case 'address':
      return { type: 'string', pattern: '^trib1[02-9ac-hj-np-z]+$', description: 'a bech32 trib1... address' };
    case 'hash':
      return { type: 'string', pattern: '^(0x)?[0-9a-fA-F]{64}$' };
    case 'hex':
      return { type: 'string', pattern: '^(0x)?([0-9a-fA-F]{2})*$' };
    case 'blockTag':
      return BLOCK_TAG_SCHEMA;
    case 'json':
      return spec.schema ?? {};
  }
}

// ------------------------------------------------------------------ the document

function contentDescriptor(spec: ParamSpec): Record<string, JsonValue> {
  const s = paramSchema(spec);
  return {
    name: spec.name,
    required: !spec.optional,
    ...(spec.description ? { description: spec.description } : {}),
    // A spec's own schema narrows its kind (an enumeration of strings, say).
    schema: spec.kind !== 'json' && spec.schema ? { allOf: [s, spec.schema] } : s,
  };
}

/** OpenRPC component keys must match [0-z]+: "rpc/not_found" becomes "rpc_not_found". */
function errorKey(code: string): string {
  return code.replace(/[^0-9A-Za-z_]/g, '_');
}

export function openRpcDocument(methods: Iterable<RpcMethod>): JsonValue {
  const errors: Record<string, JsonValue> = {};
  for (const e of documentedErrors()) {
    errors[errorKey(e.code)] = {
      code: e.number,
      message: e.code,
      ...(e.description ? { data: { description: e.description } } : {}),
    };
  }
  return {
    openrpc: OPENRPC_VERSION,
    info: {
      title: 'Tributary JSON-RPC',
      version: RPC_API_VERSION,
      description:
        'JSON-RPC 2.0 over HTTP (POST /) and WebSocket on one port. Every error has a number and a stable ' +
        'string code in error.data.code (components.errors lists the numbers); limit errors carry data.limit ' +
        'and data.max. Cursors are opaque strings: pass back what a page, notification or lagging error ' +
        'returned. Every committed block is final (BFT): the "finalized" tag and finalized fields name the ' +
        'last committed block.',
    },
    methods: [...methods].map((m) => ({
      name: m.name,
      description: m.description,
      paramStructure: 'either',
      tags: [{ name: m.kind === 'submit' ? 'submit' : 'query' }],
      params: m.params.map(contentDescriptor),
      result: { name: 'result', schema: m.result },
    })),
    components: { errors },
  };
}
