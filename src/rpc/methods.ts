import { hex0x as hx, toJson, type JsonValue } from '../codec/json.ts';
import type { Chain } from '../consensus/chain.ts';
import type { Mempool } from '../consensus/mempool.ts';
import { formatAddress } from '../crypto/address.ts';
import { CHAIN_PARAMS_PROPERTIES, paramsToJson } from '../state/params.ts';
import { readAccount } from '../state/bank/keeper.ts';
import type { JsonSchema, ParamSpec, QueryDefinition, StateKeyDefinition } from '../state/module.ts';
import { rpcError } from './errors.ts';
import {
  BLOCK_RESULTS_SCHEMA,
  BLOCK_SCHEMA,
  COMMIT_SCHEMA,
  HEADER_SCHEMA,
  KEY_KINDS_SCHEMA,
  NONCE_SCHEMA,
  PROOF_SCHEMA,
  SIMULATE_SCHEMA,
  STATUS_SCHEMA,
  SUBMIT_SCHEMA,
  TX_GET_SCHEMA,
  VALIDATORS_SCHEMA,
} from './schemas.ts';
import { eventMethods } from './events.ts';
import type { SerializedJson } from './limits.ts';
import { openRpcDocument, schema } from './openrpc.ts';
import { parseCallParams, type BlockTag } from './params.ts';
import type { RenderedBlocks } from './rendered-blocks.ts';
import type { SubscriptionHost } from './subscriptions.ts';
import { blockView, commitView, headerView, eventView, receiptView, txBodyView } from './views.ts';

export interface RpcContext {
  chain: Chain;
  mempool: Mempool;
  /** Rendered `chain_getBlock` answers of committed blocks; absent: rendered on every call. */
  renderedBlocks?: RenderedBlocks;
  /** The caller's WebSocket connection; absent over HTTP (subscribe methods then refuse). */
  subscriptions?: SubscriptionHost;
}

export interface RpcMethod {
  name: string;
  description: string;
  params: readonly ParamSpec[];
  /** Transaction submission maps module errors to "transaction rejected"; queries to "query failed". */
  kind: 'submit' | 'query';
  /** JSON Schema of the result for `rpc.discover` (src/rpc/openrpc.ts); the discover e2e test checks real answers against it. */
  result: JsonSchema;
  handler(ctx: RpcContext, params: Record<string, unknown>): Promise<JsonValue | SerializedJson>;
}

/** Resolves a block tag to a committed height (instant finality: latest is finalized). */
export async function resolveHeight(chain: Chain, tag: BlockTag | undefined): Promise<number> {
  if (!tag || 'tag' in tag) return tag && tag.tag === 'earliest' ? 0 : chain.latestHeight;
  if ('height' in tag) {
    if (tag.height > chain.latestHeight) {
      throw rpcError('rpc/not_found', `height ${tag.height} is above the latest height ${chain.latestHeight}`);
    }
    return tag.height;
  }
  const h = await chain.blocks.getHeightByHash(tag.hash);
  if (h === undefined) throw rpcError('rpc/not_found', `no block with hash ${hx(tag.hash)}`);
  return h;
}

const coreMethods: RpcMethod[] = [
  {
    name: 'chain_status',
    description: 'chain id, heights, latest block and mempool size',
    params: [],
    kind: 'query',
    result: STATUS_SCHEMA,
    async handler({ chain, mempool }) {
      const latest = chain.blocks.latestBlock;
      return {
        chainId: chain.app.chainId,
        height: chain.latestHeight,
        // One-validator PoA and BFT both finalize on commit: nothing committed is ever reverted.
        finalizedHeight: chain.latestHeight,
        latestBlockHash: latest ? hx(latest.hash) : null,
        latestBlockTimeMs: latest ? latest.header.time_ms : null,
        stateRoot: hx(chain.app.stateRoot),
        genesisTimeMs: chain.app.genesis.genesisTimeMs,
        // The set that signs the next block (from state: it changes only through the typed path).
        validators: chain.app
          .info()
          .validators.map((v) => ({ name: v.name, address: formatAddress(v.address), power: v.power })),
        minFee: chain.app.params.minFee.toString(),
        mempool: { size: mempool.size, bytes: mempool.sizeBytes },
      };
    },
  },
  {
    name: 'chain_params',
    description:
      'the chain parameters in force for the next block (kept in state; chainconfig_getParams shows scheduled ' +
      'changes), with the module accounts (name, address, module, what it holds) and every fee rule (minFee and ' +
      'what each module meters on top: amount per unit of work, the parameter setting it, the types it applies to)',
    params: [],
    kind: 'query',
    result: schema.object({
      ...CHAIN_PARAMS_PROPERTIES,
      moduleAccounts: schema.array(
        schema.object({
          name: schema.string(),
          module: schema.string(),
          address: schema.address(),
          description: schema.string(),
        }),
      ),
      feeRules: schema.array(
        schema.object({
          module: schema.string(),
          param: schema.string(),
          amount: schema.amount(),
          per: schema.string(),
          txTypes: schema.array(schema.string()),
        }),
      ),
    }),
    async handler({ chain }) {
      const { registry, params } = chain.app;
      return toJson({
        ...paramsToJson(params),
        moduleAccounts: registry.moduleAccounts.map((a) => ({
          name: a.name,
          module: a.module,
          address: formatAddress(a.address),
          description: a.description,
        })),
        feeRules: registry.feeRules(params).map((r) => ({
          module: r.module,
          param: r.param,
          amount: r.amount.toString(),
          per: r.per,
          txTypes: [...r.txTypes],
        })),
      });
    },
  },
  {
    name: 'chain_getBlock',
    description:
      'a block by height, hash or "latest" with its header fields and headerBytes (the canonical header encoding its hash is over); full=true includes decoded transactions',
    params: [
      { name: 'block', kind: 'blockTag', optional: true },
      { name: 'full', kind: 'boolean', optional: true },
    ],
    kind: 'query',
    result: schema.nullable(BLOCK_SCHEMA),
    async handler({ chain, renderedBlocks }, p) {
      const height = await resolveHeight(chain, p.block as BlockTag | undefined);
      const render = async (): Promise<JsonValue> => {
        const stored = await chain.blocks.getBlock(height);
        if (!stored) return null;
        const txs = p.full ? stored.block.txs.map((b) => chain.app.decodeTx(b, false)) : undefined;
        return blockView(stored, txs);
      };
      // Only committed heights are cached: an uncommitted one answers null and is asked again.
      if (!renderedBlocks || height > chain.latestHeight) return render();
      return renderedBlocks.get(height, p.full ? 'full' : 'hashes', render);
    },
  },
  {
    name: 'chain_getHeader',
    description:
      'a block header by height, hash or tag ("latest", "finalized": the same block, since every committed block is final; "earliest") with headerBytes, txCount and the last commit, without reading its transactions',
    params: [{ name: 'block', kind: 'blockTag', optional: true }],
    kind: 'query',
    result: schema.nullable(HEADER_SCHEMA),
    async handler({ chain }, p) {
      const stored = await chain.blocks.getHeader(await resolveHeight(chain, p.block as BlockTag | undefined));
      return stored ? headerView(stored) : null;
    },
  },
  {
    name: 'chain_getCommit',
    description: 'the commit certificate (validator signatures) that finalized a block',
    params: [{ name: 'block', kind: 'blockTag', optional: true }],
    kind: 'query',
    result: schema.nullable(COMMIT_SCHEMA),
    async handler({ chain }, p) {
      const height = await resolveHeight(chain, p.block as BlockTag | undefined);
      const commit = await chain.blocks.getCommit(height);
      return commit ? commitView(commit) : null;
    },
  },
  {
    name: 'chain_getValidators',
    description:
      'the validator set that signs a block (default: the next one), with its hash as headers carry it (validatorsHash, nextValidatorsHash of the block before); known up to the latest height + 2',
    params: [{ name: 'height', kind: 'integer', optional: true }],
    kind: 'query',
    result: VALIDATORS_SCHEMA,
    async handler({ chain }, p) {
      const height = (p.height as number | undefined) ?? chain.latestHeight + 1;
      // Sets are scheduled UPDATE_DELAY = 2 blocks ahead: beyond latest + 2 nothing is decided yet.
      if (height < 1 || height > chain.latestHeight + 2) {
        throw rpcError(
          'rpc/not_found',
          `no validator set is known for height ${height} (known: 1 to ${chain.latestHeight + 2})`,
        );
      }
      const set = await chain.validatorSet(height);
      return {
        height,
        hash: hx(set.hash),
        totalPower: set.totalPower,
        validators: set.validators.map((v) => ({
          name: v.name,
          address: formatAddress(v.address),
          publicKey: hx(v.publicKey),
          power: v.power,
        })),
      };
    },
  },
  {
    name: 'chain_getBlockResults',
    description: 'receipts and end-of-block events of a block',
    params: [{ name: 'block', kind: 'blockTag', optional: true }],
    kind: 'query',
    result: BLOCK_RESULTS_SCHEMA,
    async handler({ chain }, p) {
      const height = await resolveHeight(chain, p.block as BlockTag | undefined);
      const results = await chain.blocks.getReceipts(height);
      if (!results) return null;
      return {
        height,
        receipts: results.receipts.map(receiptView),
        endBlockEvents: results.end_block_events.map(eventView),
      };
    },
  },
  {
    name: 'tx_submit',
    description:
      'submit a signed transaction (hex of its canonical bytes); returns its hash once admitted, with queued: true when it waits for an earlier nonce',
    params: [{ name: 'tx', kind: 'hex' }],
    kind: 'submit',
    result: SUBMIT_SCHEMA,
    async handler({ mempool }, p) {
      const tx = await mempool.add(p.tx as Uint8Array);
      return { hash: hx(tx.hash), queued: mempool.isQueued(tx.hash) };
    },
  },
  {
    name: 'tx_get',
    description:
      'a transaction with its receipt, status ("queued": waiting for an earlier nonce, "pending", "committed", "failed") and height; null if unknown',
    params: [{ name: 'hash', kind: 'hash' }],
    kind: 'query',
    result: TX_GET_SCHEMA,
    async handler({ chain, mempool }, p) {
      const hash = p.hash as Uint8Array;
      const location = await chain.blocks.getTxLocation(hash);
      if (!location) {
        const pending = mempool.get(hash);
        if (!pending) return null;
        const status = mempool.isQueued(hash) ? 'queued' : 'pending';
        return {
          hash: hx(hash),
          status,
          height: null,
          index: null,
          blockHash: null,
          tx: txBodyView(pending),
          receipt: null,
        };
      }
      // One transaction and one receipt by location, whatever the size of the block.
      const stored = await chain.blocks.getTxAt(location);
      if (!stored) throw rpcError('rpc/internal_error', 'transaction index points at a missing block');
      return {
        hash: hx(hash),
        status: stored.receipt.failed ? 'failed' : 'committed',
        height: location.height,
        index: location.index,
        blockHash: hx(stored.blockHash),
        tx: txBodyView(chain.app.decodeTx(stored.tx, false)),
        receipt: receiptView(stored.receipt),
      };
    },
  },
  {
    name: 'state_getProof',
    description:
      'value of a state key with a Merkle proof against the state root of a block: key is 0x-hex of the raw key, or {kind, id} (kinds: state_keyKinds)',
    params: [
      {
        name: 'key',
        kind: 'json',
        schema: {
          oneOf: [
            { type: 'string', pattern: '^(0x)?([0-9a-fA-F]{2})*$', description: 'a raw state key' },
            { type: 'object', required: ['kind'], properties: { kind: { type: 'string' }, id: {} } },
          ],
        },
      },
      { name: 'height', kind: 'blockTag', optional: true },
    ],
    kind: 'query',
    result: PROOF_SCHEMA,
    async handler({ chain }, p) {
      const height = await resolveHeight(chain, p.height as BlockTag | undefined);
      const { key, kind } = stateKeyOf(chain, p.key);
      const { value, proof, root } = await chain.app.prove(key, height);
      const stored = height > 0 ? await chain.blocks.getBlock(height) : undefined;
      return {
        height,
        blockHash: stored ? hx(stored.hash) : null,
        stateRoot: hx(root),
        key: hx(key),
        exists: value !== undefined,
        value: value ? hx(value) : null,
        decoded: value && kind ? kind.view(value) : null,
        proof: hx(proof),
      };
    },
  },
  {
    name: 'state_keyKinds',
    description: 'the named kinds of state record state_getProof accepts',
    params: [],
    kind: 'query',
    result: KEY_KINDS_SCHEMA,
    async handler({ chain }) {
      return chain.app.registry.stateKeys.map((k) => ({
        kind: k.kind,
        description: k.description,
        id: k.id ? k.id.kind : null,
      }));
    },
  },
  {
    name: 'account_nextNonce',
    description: 'the nonce to sign next: committed nonce plus pending transactions of this sender',
    params: [{ name: 'address', kind: 'address' }],
    kind: 'query',
    result: NONCE_SCHEMA,
    async handler({ chain, mempool }, p) {
      const address = p.address as Uint8Array;
      const account = await readAccount(chain.app.queryContext(chain).state, address);
      return { address: formatAddress(address), nonce: account.nonce + mempool.pendingCount(address) };
    },
  },
  {
    name: 'tx_simulate',
    description:
      'runs a transaction (hex of its canonical bytes; the signature is not checked and the declared fee may be 0) ' +
      'on the pending state without committing or admitting it: ok, the fee it needs (requiredFee: sign with at ' +
      'least this), the fee the reported outcome paid, its events, and its error {code, message} if it would fail',
    params: [{ name: 'tx', kind: 'hex' }],
    kind: 'submit',
    result: SIMULATE_SCHEMA,
    async handler({ mempool }, p) {
      const sim = await mempool.simulate(p.tx as Uint8Array);
      return {
        ok: sim.ok,
        requiredFee: sim.requiredFee.toString(),
        declaredFee: sim.declaredFee.toString(),
        chargedFee: sim.chargedFee.toString(),
        events: sim.events.map(eventView),
        error: sim.error ? { code: sim.error.code, message: sim.error.message } : null,
      };
    },
  },
];

/** `state_getProof` key: raw 0x-hex, or `{kind, id}` resolved through the modules' state key kinds. */
function stateKeyOf(chain: Chain, raw: unknown): { key: Uint8Array; kind?: StateKeyDefinition } {
  if (typeof raw === 'string') return { key: parseCallParams([{ name: 'key', kind: 'hex' }], [raw]).key as Uint8Array };
  if (typeof raw === 'object' && raw !== null && typeof (raw as { kind?: unknown }).kind === 'string') {
    const { kind: name, id } = raw as { kind: string; id?: unknown };
    const kind = chain.app.registry.stateKey(name);
    if (!kind)
      throw rpcError('rpc/invalid_params', `unknown state key kind "${name}"`, {
        kinds: chain.app.registry.stateKeys.map((k) => k.kind),
      });
    const parsedId = kind.id ? parseCallParams([{ ...kind.id, name: 'id' }], [id]).id : undefined;
    return { key: kind.key(parsedId), kind };
  }
  throw rpcError('rpc/invalid_params', 'key: expected 0x-hex of a raw state key or {"kind": ..., "id": ...}');
}

/** Wraps a module's query as an RPC method: the block-tag param chooses the state height. */
function moduleQueryMethod(q: QueryDefinition): RpcMethod {
  const tagParam = q.params.find((s) => s.kind === 'blockTag');
  return {
    name: q.method,
    description: q.description,
    params: q.params,
    kind: 'query',
    result: q.result,
    async handler({ chain }, p) {
      let height = chain.latestHeight;
      if (tagParam) {
        height = await resolveHeight(chain, p[tagParam.name] as BlockTag | undefined);
        p[tagParam.name] = height;
      }
      return q.handler(chain.app.queryContext(chain, height), p);
    },
  };
}

export function buildMethodTable(queries: readonly QueryDefinition[], extra: RpcMethod[] = []): Map<string, RpcMethod> {
  const table = new Map<string, RpcMethod>();
  for (const m of [...coreMethods, ...eventMethods, ...queries.map(moduleQueryMethod), ...extra]) {
    if (table.has(m.name)) throw new Error(`RPC method ${m.name} defined twice`);
    table.set(m.name, m);
  }
  table.set('rpc_methods', {
    name: 'rpc_methods',
    description: 'every method with its parameters (the short form of rpc.discover)',
    params: [],
    kind: 'query',
    result: schema.array(
      schema.object({
        name: schema.string(),
        description: schema.string(),
        params: schema.array(
          schema.object({ name: schema.string(), kind: schema.string(), optional: schema.boolean() }),
        ),
      }),
    ),
    async handler() {
      return [...table.values()].map((m) => ({
        name: m.name,
        description: m.description,
        params: m.params.map((s) => ({ name: s.name, kind: s.kind, optional: s.optional ?? false })),
      }));
    },
  });
  // Built once, on first call: the table is complete by then and does not change.
  let discovered: JsonValue | undefined;
  table.set('rpc.discover', {
    name: 'rpc.discover',
    description: 'the OpenRPC 1.3 document of this API: every method, its params and result schemas, the error numbers',
    params: [],
    kind: 'query',
    result: { type: 'object', required: ['openrpc', 'info', 'methods'] },
    async handler() {
      discovered ??= openRpcDocument(table.values());
      return discovered;
    },
  });
  return table;
}
