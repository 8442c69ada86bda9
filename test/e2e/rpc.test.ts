import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignedTxCodec } from '../../src/codec/core.ts';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { initHome } from '../../src/home.ts';
import { loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { startNode, type RunningNode } from '../../src/node.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx, signTx } from '../../src/state/tx.ts';
import { cliJsonAsync, tempHome, until } from '../helpers/process.ts';
import { fromHex } from '../../src/crypto/hash.ts';
import { verifyProof } from '../../src/state/tree/index.ts';

interface RpcReply {
  result?: unknown;
  error?: { code: number; message: string; data: { code: string } };
}

/** JSON-RPC over a real HTTP server on loopback, driven with bad input of every kind. */
describe('JSON-RPC: bad input gets a coded error, changes nothing, and the node stays up', () => {
  const home = tempHome('tributary-rpc-');
  let node: RunningNode;
  let url: string;
  let validator: SigningKey;
  let chainId: string;
  const bob = addressFromPublicKey(SigningKey.generate().publicKey);

  const post = async (body: string): Promise<{ status: number; json: RpcReply | RpcReply[] | undefined }> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as RpcReply) : undefined };
  };
  const call = async (method: string, params: unknown): Promise<RpcReply> =>
    (await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))).json as RpcReply;
  const submit = (bytes: Uint8Array) => call('tx_submit', ['0x' + toHex(bytes)]);
  const snapshot = async () => {
    const rpc = new RpcClient(url);
    const v = await rpc.call<{ balance: string; nonce: number }>('account_get', [
      formatAddress(addressFromPublicKey(validator.publicKey)),
    ]);
    const b = await rpc.call<{ balance: string }>('account_get', [formatAddress(bob)]);
    const s = await rpc.call<{ mempool: { size: number }; stateRoot: string }>('chain_status');
    return {
      validator: { balance: v.balance, nonce: v.nonce },
      bob: b.balance,
      mempool: s.mempool.size,
      // Empty blocks write nothing, so the state root itself must stay put.
      stateRoot: s.stateRoot,
      supply: (await rpc.call<{ supply: string }>('bank_supply')).supply,
    };
  };

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    validator = loadKey(homePaths(home).keys, 'validator').key;
    const config: NodeConfig = {
      ...DEFAULT_CONFIG,
      rpc: { ...DEFAULT_CONFIG.rpc, port: 0, maxBodyBytes: 256 * 1024 },
      blockIntervalMs: 100,
    };
    node = await startNode(home, config, pino({ level: 'silent' }));
    url = `http://127.0.0.1:${node.rpcAddress.port}`;
    chainId = node.chain.app.chainId;
    // one committed transfer so that nonce 0 is stale
    const first = buildTx(validator, transferTx, { to: bob, amount: 10n }, { chainId, nonce: 0, fee: 1000n });
    const r = await submit(first);
    expect(r.error).toBeUndefined();
    await until(
      async () =>
        ((await call('tx_get', [(r.result as { hash: string }).hash])).result as { status?: string } | null)?.status ===
          'committed' || undefined,
    );
  });
  afterAll(async () => {
    await node.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const tx = (over: Partial<{ nonce: number; fee: bigint; chainId: string; amount: bigint; key: SigningKey }> = {}) =>
    buildTx(
      over.key ?? validator,
      transferTx,
      { to: bob, amount: over.amount ?? 1n },
      {
        chainId: over.chainId ?? chainId,
        nonce: over.nonce ?? 1,
        fee: over.fee ?? 1000n,
      },
    );

  const cases: [string, () => Promise<RpcReply>, number, string][] = [
    ['malformed bytes', () => submit(Uint8Array.of(0xde, 0xad, 0xbe, 0xef)), -32010, 'tx/malformed'],
    ['not hex at all', () => call('tx_submit', ['hello']), -32602, 'rpc/invalid_params'],
    ['missing param', () => call('tx_submit', []), -32602, 'rpc/invalid_params'],
    [
      'bad signature',
      async () => {
        const s = SignedTxCodec.decode(tx());
        const sig = s.signature.slice();
        sig[5]! ^= 1;
        return submit(SignedTxCodec.encode({ ...s, signature: sig }));
      },
      -32011,
      'tx/bad_signature',
    ],
    ['wrong chain id', () => submit(tx({ chainId: 'someone-else' })), -32012, 'tx/wrong_chain_id'],
    ['stale nonce', () => submit(tx({ nonce: 0 })), -32013, 'tx/nonce_too_low'],
    // Beyond the mempool's future-nonce window (64 ahead); nearer nonces are queued, not refused.
    ['future nonce', () => submit(tx({ nonce: 1000 })), -32014, 'tx/nonce_too_high'],
    ['fee below minimum', () => submit(tx({ fee: 1n })), -32016, 'tx/fee_too_low'],
    [
      'sender cannot pay the fee',
      () => submit(tx({ key: SigningKey.generate(), nonce: 0 })),
      -32015,
      'tx/insufficient_fee_balance',
    ],
    [
      'insufficient balance for the amount',
      () => submit(tx({ amount: 10n ** 40n })),
      -32015,
      'bank/insufficient_funds',
    ],
    [
      'transaction above the size limit',
      () =>
        submit(
          signTx(validator, { chainId, nonce: 1, fee: 1000n, type: 'bank/transfer', payload: new Uint8Array(70_000) }),
        ),
      -32017,
      'tx/too_large',
    ],
    ['unknown method', () => call('eth_sendRawTransaction', []), -32601, 'rpc/method_not_found'],
    ['invalid address param', () => call('account_get', ['trib1notanaddress']), -32602, 'rpc/invalid_params'],
    ['unknown named param', () => call('account_get', { addr: 'x' }), -32602, 'rpc/invalid_params'],
    ['height above the tip', () => call('chain_getBlock', [10_000_000]), -32001, 'rpc/not_found'],
  ];

  for (const [name, run, number, code] of cases) {
    it(`${name} -> ${number} ${code}`, async () => {
      const before = await snapshot();
      const reply = await run();
      expect(reply.result).toBeUndefined();
      expect(reply.error?.code).toBe(number);
      expect(reply.error?.data.code).toBe(code);
      expect(reply.error?.message.length).toBeGreaterThan(5);
      // Give the engine a block or two; nothing the bad request did may show up.
      await new Promise((r) => setTimeout(r, 250));
      expect(await snapshot()).toEqual(before);
    });
  }

  it('answers a body that is not JSON with a parse error', async () => {
    const r = await post('{"jsonrpc":"2.0",');
    expect((r.json as RpcReply).error?.code).toBe(-32700);
  });

  it('answers a malformed call with invalid request', async () => {
    const r = await post(JSON.stringify({ jsonrpc: '1.0', method: 'chain_status', id: 1 }));
    expect((r.json as RpcReply).error?.data.code).toBe('rpc/invalid_request');
    const r2 = await post('42');
    expect((r2.json as RpcReply).error?.code).toBe(-32600);
  });

  it('refuses an oversized body with 413 and a coded error, without buffering it', async () => {
    const r = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tx_submit', params: ['0x' + 'ab'.repeat(300 * 1024)] }),
    );
    expect(r.status).toBe(413);
    expect((r.json as RpcReply).error?.code).toBe(-32005);
    expect((r.json as RpcReply).error?.data.code).toBe('rpc/request_too_large');
  });

  it('serves batches, each call answered on its own', async () => {
    const r = await post(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'chain_status' },
        { jsonrpc: '2.0', id: 2, method: 'nope' },
      ]),
    );
    const replies = r.json as (RpcReply & { id: number })[];
    expect(replies.map((x) => x.id)).toEqual([1, 2]);
    expect(replies[0]!.result).toBeDefined();
    expect(replies[1]!.error?.code).toBe(-32601);
  });

  it('proves an account and an absent key against the header state root, at latest and older heights', async () => {
    const v = formatAddress(addressFromPublicKey(validator.publicKey));
    const stranger = formatAddress(addressFromPublicKey(SigningKey.generate().publicKey));
    type Proof = {
      height: number;
      stateRoot: string;
      key: string;
      exists: boolean;
      value: string | null;
      decoded: { balance: string } | null;
      proof: string;
    };
    const present = (await call('state_getProof', [{ kind: 'account', id: v }])).result as Proof;
    expect(present.exists).toBe(true);
    expect(present.decoded!.balance).toBe('999999999999999999999999990');
    const header = (await call('chain_getBlock', [present.height])).result as { stateRoot: string };
    expect(header.stateRoot).toBe(present.stateRoot);
    const ok = (p: Proof, value = p.value) =>
      verifyProof(fromHex(p.stateRoot), fromHex(p.key), value ? fromHex(value) : undefined, fromHex(p.proof));
    expect(ok(present)).toBe(true);
    expect(ok(present, '0x00')).toBe(false);
    const absent = (await call('state_getProof', [{ kind: 'account', id: stranger }])).result as Proof;
    expect(absent.exists).toBe(false);
    expect(ok(absent)).toBe(true);
    const genesisProof = (await call('state_getProof', [{ kind: 'supply' }, 0])).result as Proof;
    expect(genesisProof.height).toBe(0);
    expect(ok(genesisProof)).toBe(true);
    const raw = (await call('state_getProof', [present.key, present.height])).result as Proof;
    expect(raw.value).toBe(present.value);
    expect((await call('state_getProof', [{ kind: 'nope' }])).error?.data.code).toBe('rpc/invalid_params');
  });

  it('`tributary query proof` checks the proof, the header and its commit certificate', async () => {
    const v = formatAddress(addressFromPublicKey(validator.publicKey));
    const out = await cliJsonAsync<{ exists: boolean; verified: { proof: boolean; header: string } }>([
      '--home',
      home,
      '--rpc',
      url,
      'query',
      'proof',
      'account',
      v,
    ]);
    expect(out.exists).toBe(true);
    expect(out.verified.proof).toBe(true);
    expect(out.verified.header).toMatch(/valid commit certificate/);
  });

  it('still serves the chain after all of that', async () => {
    const status = (await call('chain_status', [])).result as {
      chainId: string;
      height: number;
      finalizedHeight: number;
      latestBlockHash: string;
    };
    expect(status.chainId).toBe(chainId);
    expect(status.finalizedHeight).toBe(status.height);
    expect(status.latestBlockHash).toMatch(/^0x[0-9a-f]{64}$/);
    const block = (await call('chain_getBlock', ['latest'])).result as { height: number };
    expect(block.height).toBeGreaterThanOrEqual(status.height);
    const health = await fetch(url + '/health');
    expect(health.status).toBe(200);
  });
});
