import { rmSync } from 'node:fs';
import * as metaSchemaPackage from '@open-rpc/meta-schema';
import { Ajv, type ValidateFunction } from 'ajv';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { initHome } from '../../src/home.ts';
import { loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { startNode, type RunningNode } from '../../src/node.ts';
import { CORE_METHOD_NAMES, RpcClient } from '../../src/rpc/client.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { tempHome, until } from '../helpers/process.ts';

/*
 * rpc.discover against a real node: the document is valid OpenRPC (checked with the official
 * meta-schema), lists exactly the methods the server dispatches, every method it lists exists,
 * and the result schemas it publishes hold for real answers.
 */

interface ContentDescriptor {
  name: string;
  required?: boolean;
  schema: Record<string, unknown>;
}
interface MethodObject {
  name: string;
  params: ContentDescriptor[];
  result: ContentDescriptor;
}
interface Document {
  openrpc: string;
  methods: MethodObject[];
  components: { errors: Record<string, { code: number; message: string }> };
}

describe('rpc.discover: an OpenRPC document generated from the method table', () => {
  const home = tempHome('tributary-discover-');
  let node: RunningNode;
  let rpc: RpcClient;
  let doc: Document;
  let txHex: string;
  let txHash: string;
  let sender: string;

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    const validator = loadKey(homePaths(home).keys, 'validator').key;
    const config: NodeConfig = { ...DEFAULT_CONFIG, rpc: { ...DEFAULT_CONFIG.rpc, port: 0 }, blockIntervalMs: 100 };
    node = await startNode(home, config, pino({ level: 'silent' }));
    rpc = new RpcClient(`http://127.0.0.1:${node.rpcAddress.port}`);
    sender = formatAddress(addressFromPublicKey(validator.publicKey));
    const bob = addressFromPublicKey(SigningKey.generate().publicKey);
    const chainId = node.chain.app.chainId;
    const bytes = buildTx(validator, transferTx, { to: bob, amount: 5n }, { chainId, nonce: 0, fee: 1000n });
    txHash = (await rpc.call<{ hash: string }>('tx_submit', [`0x${toHex(bytes)}`])).hash;
    await until(
      async () => (await rpc.call<{ status: string } | null>('tx_get', [txHash]))?.status === 'committed' || undefined,
    );
    txHex = `0x${toHex(buildTx(validator, transferTx, { to: bob, amount: 1n }, { chainId, nonce: 1, fee: 1000n }))}`;
    doc = await rpc.call<Document>('rpc.discover');
  });
  afterAll(async () => {
    await node?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('is valid against the OpenRPC meta-schema', () => {
    // No formats: the meta-schema's only ones are URIs, which this document does not use.
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    // The package exports the meta-schema as a value its type declarations leave out.
    const { openrpcDocument } = metaSchemaPackage as unknown as { openrpcDocument: Record<string, unknown> };
    const { $schema: _metaOfMeta, ...meta } = openrpcDocument;
    // It points its JSON Schema definitions at meta.json-schema.tools (no fetching in tests): that
    // is draft-07, which ajv ships, plus the `$ref` string the reference object reuses.
    ajv.addSchema({
      $id: 'https://meta.json-schema.tools/',
      allOf: [{ $ref: 'http://json-schema.org/draft-07/schema#' }],
      definitions: { JSONSchemaObject: { properties: { $ref: { type: 'string' } } } },
    });
    ajv.addSchema({ $id: 'https://meta.json-schema.tools', allOf: [{ $ref: 'https://meta.json-schema.tools/' }] });
    const validate = ajv.compile(meta);
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    // The validator does refuse what is not OpenRPC.
    expect(validate({ ...doc, methods: [{ name: 'x' }] })).toBe(false);
    expect(validate({ ...doc, openrpc: '9.9.9' })).toBe(false);
    expect(doc.openrpc).toMatch(/^1\.3\./);
    // Every schema it carries compiles as JSON Schema.
    for (const m of doc.methods) {
      for (const p of m.params) expect(() => ajv.compile(p.schema), `${m.name}.${p.name}`).not.toThrow();
      expect(() => ajv.compile(m.result.schema), `${m.name} result`).not.toThrow();
    }
  });

  it('lists exactly the methods the server dispatches, each with its params', async () => {
    const table = await rpc.call<{ name: string; params: { name: string; optional: boolean }[] }[]>('rpc_methods');
    expect(doc.methods.map((m) => m.name).sort()).toEqual(table.map((m) => m.name).sort());
    for (const m of table) {
      const documented = doc.methods.find((d) => d.name === m.name)!;
      expect(documented.params.map((p) => [p.name, !p.required])).toEqual(m.params.map((p) => [p.name, p.optional]));
    }
    // Module queries are in it without a list of their own (one of each kind of module).
    const names = new Set(doc.methods.map((m) => m.name));
    for (const name of ['account_get', 'bank_supply', 'inference_listPayments', 'chain_getEvents', 'chain_subscribe'])
      expect(names.has(name), name).toBe(true);
    // The finalized tag is documented as BFT finality.
    const tag = doc.methods.find((m) => m.name === 'chain_getHeader')!.params[0]!.schema;
    expect(JSON.stringify(tag)).toContain('the last committed block (BFT finality)');
  });

  it('documents every error number the server uses, each once per code', () => {
    const errors = Object.values(doc.components.errors);
    const byCode = new Map(errors.map((e) => [e.message, e.code]));
    expect(byCode.get('rpc/method_not_found')).toBe(-32601);
    expect(byCode.get('rpc/invalid_cursor')).toBe(-32062);
    expect(byCode.get('rpc/range_too_large')).toBe(-32061);
    expect(byCode.get('tx_rejected')).toBe(-32030);
    expect(byCode.get('query_failed')).toBe(-32040);
    expect(byCode.size).toBe(errors.length);
  });

  it('every documented method exists on the server', async () => {
    for (const m of doc.methods) {
      const outcome = await rpc.call(m.name, []).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
      // Without params a method may refuse them, or want a WebSocket, but it is there.
      expect(outcome, m.name).not.toBe('rpc/method_not_found');
      expect(outcome, m.name).not.toBe('rpc/internal_error');
    }
    expect(await rpc.call('no_such_method').catch((e: { code: string }) => e.code)).toBe('rpc/method_not_found');
  });

  it('real answers match the published result schemas', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validators = new Map<string, ValidateFunction>(
      doc.methods.map((m) => [m.name, ajv.compile(m.result.schema)]),
    );
    const calls: [string, unknown[]][] = [
      ['chain_status', []],
      ['chain_params', []],
      ['chain_getBlock', [1]],
      ['chain_getBlock', ['latest', true]],
      ['chain_getBlock', ['finalized']],
      ['chain_getHeader', ['earliest']],
      ['chain_getHeader', [1]],
      ['chain_getCommit', [1]],
      ['chain_getValidators', []],
      ['chain_getBlockResults', [1]],
      ['tx_get', [txHash]],
      ['tx_get', [`0x${'00'.repeat(32)}`]],
      ['tx_simulate', [txHex]],
      ['account_nextNonce', [sender]],
      ['state_keyKinds', []],
      ['state_getProof', [{ kind: 'supply' }]],
      ['chain_getEvents', [{ types: ['transfer'], fromHeight: 1, limit: 1 }]],
      ['tx_listBySender', [sender]],
      ['rpc_methods', []],
      ['rpc.discover', []],
      ['tx_submit', [txHex]],
    ];
    const checked = new Set<string>();
    for (const [method, params] of calls) {
      const result = await rpc.call(method, params);
      const validate = validators.get(method)!;
      expect(validate(result) ? [] : validate.errors, `${method}(${JSON.stringify(params)})`).toEqual([]);
      checked.add(method);
    }
    // Every core method that publishes a result schema was checked against a real answer.
    const withSchema = doc.methods.filter((m) => Object.keys(m.result.schema).length > 0).map((m) => m.name);
    // The client's typed methods are all served, each with a published result schema checked above.
    for (const name of CORE_METHOD_NAMES) expect(withSchema, name).toContain(name);
    const unchecked = withSchema.filter((n) => !checked.has(n) && n !== 'chain_subscribe' && n !== 'chain_unsubscribe');
    expect(unchecked).toEqual([]);
  });
});
