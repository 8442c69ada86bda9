import { DEFAULT_CONFIG } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { toHex } from '../../src/crypto/hash.ts';
import type { ParamSpec } from '../../src/state/module.ts';
import { encodeCursor, encodeEventCursor } from '../../src/rpc/cursor.ts';
import { RpcServer } from '../../src/rpc/server.ts';
import { fixtureChain } from './chain.ts';
import { Finding, type FuzzTarget } from './harness.ts';
import type { Rng } from './rng.ts';
import { FUZZ_CHAIN_ID, txErrorPrefixes } from './tx-target.ts';
import { fuzzTx } from './txs.ts';

/*
 * The JSON-RPC request path, in-process through `RpcServer.respond` over a real chain: envelopes
 * with methods from the method table and parameters of the kinds they declare (valid ones from the
 * chain, wrong types, huge numbers, deep nesting), batches, notifications and malformed JSON.
 * Every answer must be JSON-RPC 2.0 with a result or an error whose number is in the documented
 * table (README, JSON-RPC) and whose data.code is a stable code; never a throw and never
 * rpc/internal_error (-32603), which is what an uncoded error in a handler becomes.
 */

/** The error numbers README.md documents (and src/rpc/errors.ts gives out); -32603 is not among them on purpose. */
const DOCUMENTED_NUMBERS = new Set([
  -32700, -32600, -32601, -32602, -32001, -32002, -32003, -32005, -32010, -32011, -32012, -32013, -32014, -32015,
  -32016, -32017, -32018, -32019, -32020, -32021, -32022, -32023, -32030, -32040, -32050, -32051, -32052, -32053,
  -32054, -32055, -32056, -32057, -32058, -32059, -32060, -32061, -32062,
]);
const CODE = /^[a-z0-9_]+\/[a-z0-9_]+$/;

/** Raw JSON number tokens JSON.stringify cannot write: each stands in the value tree as a marker string. */
const RAW_NUMBERS = [
  '1e400',
  '-1e400',
  '-0',
  '123456789012345678901234567890',
  '9007199254740993',
  '0.5',
  '1E2',
  '-1',
  '4.0',
];
const rawMarker = (i: number) => `\u0001raw${i}\u0001`;

interface Fixture {
  methods: { name: string; params: readonly ParamSpec[] }[];
  addresses: string[];
  blockHashes: string[];
  txHashes: string[];
  stateKinds: { kind: string; id: string | null }[];
  height: number;
}

function junk(rng: Rng, depth = 0): unknown {
  switch (rng.int(14)) {
    case 0:
      return null;
    case 1:
      return rng.bool();
    case 2:
      return rng.pick([0, -1, 1.5, 2 ** 53, 2 ** 64, -(2 ** 31), 1e308, Number.MAX_SAFE_INTEGER]);
    case 3:
      return rawMarker(rng.int(RAW_NUMBERS.length));
    case 4:
      return rng.pick([
        '',
        'latest',
        'earliest',
        'finalized',
        'pending',
        '0x',
        '0x0',
        '00',
        'trib1',
        'null',
        '1e3',
        ' 1',
        '01',
      ]);
    case 5:
      return '0x' + toHex(rng.bytes(rng.pick([0, 1, 20, 31, 32, 33, 64])));
    case 6:
      // Long strings; the hex one is a transaction-sized blob above maxTxBytes.
      return rng.bool() ? 'x'.repeat(rng.pick([1000, 70_000])) : '0x' + '01'.repeat(rng.pick([70_000, 1 << 16]));
    case 7:
      return '\ud800' + rng.pick(['', 'a', '\udc00']);
    case 8:
      return depth > 3 ? [] : Array.from({ length: rng.int(4) }, () => junk(rng, depth + 1));
    case 9:
      return depth > 3
        ? {}
        : Object.fromEntries(
            Array.from({ length: rng.int(4) }, () => [
              rng.pick(['kind', 'id', 'a', '__proto__', 'constructor', '']),
              junk(rng, depth + 1),
            ]),
          );
    case 10:
      return nested(rng.pick([10, 1000, 20_000]), rng.bool());
    case 11:
      return String(rng.safeInt());
    default:
      return rng.safeInt();
  }
}

/** Deep nesting, written into the text after JSON.stringify (which recurses and would overflow first). */
function nested(depth: number, arrays: boolean): string {
  return `\u0002${depth}${arrays ? 'a' : 'o'}\u0002`;
}

function expandNesting(text: string): string {
  return text.replace(/"\\u0002(\d+)([ao])\\u0002"/g, (_m, depth: string, kind: string) => {
    const n = Number(depth);
    return kind === 'a' ? `${'['.repeat(n)}1${']'.repeat(n)}` : `${'{"kind":'.repeat(n)}1${'}'.repeat(n)}`;
  });
}

function goodValue(rng: Rng, spec: ParamSpec, fx: Fixture, tx: () => Uint8Array): unknown {
  switch (spec.kind) {
    case 'integer':
      return rng.chance(0.7) ? rng.int(fx.height + 3) : rng.pick([String(rng.int(10)), rng.safeInt()]);
    case 'string':
      // Enumerations the modules take; real cursors of every scope (src/rpc/cursor.ts), near misses and
      // the old texts ("<height>.<txIndex|end>.<eventIndex>"), which are refused with rpc/invalid_cursor.
      return rng.pick([
        encodeEventCursor({ height: 1 + rng.int(fx.height + 2), slot: rng.int(4), eventIndex: rng.int(3) }),
        encodeCursor('txs', [rng.int(fx.height + 2), rng.int(4)]),
        encodeCursor('events', [rng.int(3), rng.int(3)]),
        encodeCursor('other', [1, 0, 0]),
        `${encodeEventCursor({ height: 1, slot: 1, eventIndex: 0 })}=`,
        'payer',
        'model',
        'earner',
        'datanet',
        '1',
        '',
        'abc',
        'contributor',
        '1.0.0',
        '2.end.1',
        '0.0.0',
        `${rng.int(5)}.${rng.int(5)}.${rng.int(5)}`,
        '99999999999999999999.0.0',
        '1.2',
        '1..2',
        '-1.0.0',
        '1.end.end',
      ]);
    case 'address':
      return rng.pick(fx.addresses);
    case 'hash':
      return rng.pick([...fx.blockHashes, ...fx.txHashes, '0x' + toHex(rng.bytes(32))]);
    case 'hex':
      return '0x' + toHex(tx());
    case 'blockTag':
      return rng.pick([
        'latest',
        'finalized',
        'earliest',
        rng.int(fx.height + 3),
        String(rng.int(fx.height + 1)),
        rng.pick(fx.blockHashes),
      ]);
    case 'boolean':
      return rng.bool();
    case 'json': {
      if (rng.chance(0.3)) return rng.pick([rng.pick(fx.addresses), rng.int(5), '0x' + toHex(rng.bytes(rng.int(40)))]);
      const kind = rng.pick(fx.stateKinds);
      const id = kind.id ? goodValue(rng, { name: 'id', kind: kind.id as ParamSpec['kind'] }, fx, tx) : undefined;
      return rng.chance(0.8) ? { kind: kind.kind, id } : { kind: kind.kind, id: junk(rng) };
    }
  }
}

function paramsFor(rng: Rng, specs: readonly ParamSpec[], fx: Fixture, tx: () => Uint8Array): unknown {
  const values = specs.map((s) => (rng.chance(0.8) ? goodValue(rng, s, fx, tx) : junk(rng)));
  const r = rng.int(20);
  if (r < 9) {
    const n = rng.chance(0.8) ? values.length : rng.int(values.length + 2);
    return Array.from({ length: n }, (_, i) => (i < values.length ? values[i] : junk(rng)));
  }
  if (r < 18) {
    const out: Record<string, unknown> = {};
    for (const [i, s] of specs.entries()) if (!s.optional || rng.bool()) out[s.name] = values[i];
    if (rng.chance(0.1)) out[rng.pick(['extra', '__proto__', 'toString'])] = junk(rng);
    return out;
  }
  return r === 18 ? undefined : junk(rng);
}

function call(rng: Rng, fx: Fixture, tx: () => Uint8Array): Record<string, unknown> {
  const m = rng.chance(0.92)
    ? rng.pick(fx.methods)
    : {
        name: rng.pick([
          '',
          'chain',
          'chain_',
          '__proto__',
          'constructor',
          'toString',
          'rpc_Methods',
          'CHAIN_STATUS',
          'chain_status\0',
        ]),
        params: [],
      };
  const out: Record<string, unknown> = {};
  const r = rng.int(20);
  out.jsonrpc = r === 0 ? rng.pick(['1.0', 2, null, '2.00']) : '2.0';
  if (r !== 1) out.method = r === 2 ? junk(rng) : m.name;
  const params = paramsFor(rng, m.params, fx, tx);
  if (params !== undefined) out.params = params;
  const idChoice = rng.int(20);
  if (idChoice < 8) out.id = rng.int(1000);
  else if (idChoice < 14) out.id = `req-${rng.int(1000)}`;
  else if (idChoice < 16) out.id = null;
  else if (idChoice < 18) {
    /* a notification: no id */
  } else out.id = junk(rng);
  return out;
}

function requestText(rng: Rng, fx: Fixture, tx: () => Uint8Array, maxBatch: number): string {
  const r = rng.int(100);
  let value: unknown;
  if (r < 72) value = call(rng, fx, tx);
  else if (r < 90)
    value = Array.from({ length: rng.range(1, 6) }, () => (rng.chance(0.9) ? call(rng, fx, tx) : junk(rng)));
  else if (r < 92)
    value = rng.chance(0.5)
      ? []
      : Array.from({ length: maxBatch + 1 }, () => ({ jsonrpc: '2.0', method: 'chain_status', id: 1 }));
  else if (r < 95) value = junk(rng);
  else {
    // Text that is not (quite) JSON.
    const valid = JSON.stringify(call(rng, fx, tx));
    switch (rng.int(6)) {
      case 0:
        return valid.slice(0, rng.int(valid.length));
      case 1:
        return Buffer.from(rng.bytes(rng.length(64))).toString('latin1');
      case 2:
        return '['.repeat(rng.pick([1000, 100_000])) + ']'.repeat(rng.int(2) * 100_000);
      case 3:
        return '\ufeff' + valid;
      case 4:
        return valid.replace(/"/, "'");
      default:
        return valid + rng.pick([',', '}', ' x', '\0']);
    }
  }
  let text = JSON.stringify(value) ?? 'undefined';
  for (const [i, token] of RAW_NUMBERS.entries()) text = text.replaceAll(JSON.stringify(rawMarker(i)), token);
  return expandNesting(text);
}

/** Every call a request holds that must get an answer (has an id), or undefined when it is not a JSON array or object of calls. */
function expectsAnswer(text: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return true;
  }
  const calls = Array.isArray(parsed) ? parsed : [parsed];
  if (calls.length === 0) return true;
  return calls.some(
    (c) =>
      typeof c !== 'object' ||
      c === null ||
      Array.isArray(c) ||
      'id' in c ||
      typeof (c as { method?: unknown }).method !== 'string' ||
      (c as { jsonrpc?: unknown }).jsonrpc !== '2.0',
  );
}

function checkAnswer(item: unknown, where: string): string {
  if (typeof item !== 'object' || item === null) throw new Finding('bad_response', `${where}: not an object`);
  const a = item as Record<string, unknown>;
  if (a.jsonrpc !== '2.0') throw new Finding('bad_response', `${where}: jsonrpc is ${String(a.jsonrpc)}`);
  if (!('id' in a) || !(a.id === null || typeof a.id === 'string' || typeof a.id === 'number')) {
    throw new Finding('bad_response', `${where}: bad id ${JSON.stringify(a.id)}`);
  }
  if ('result' in a === 'error' in a)
    throw new Finding('bad_response', `${where}: needs exactly one of result and error`);
  if ('result' in a) return 'result';
  const e = a.error as { code?: unknown; message?: unknown; data?: { code?: unknown } } | undefined;
  const code = e?.data?.code;
  if (typeof e?.code !== 'number' || typeof e.message !== 'string' || typeof code !== 'string' || !CODE.test(code)) {
    throw new Finding('bad_response', `${where}: malformed error ${JSON.stringify(e)}`);
  }
  if (code === 'rpc/internal_error' || e.code === -32603)
    throw new Finding('uncoded_error', `${where}: internal error (an uncoded throw in the handler)`);
  if (!DOCUMENTED_NUMBERS.has(e.code))
    throw new Finding('bad_response', `${where}: error number ${e.code} (${code}) is not documented`);
  return code;
}

export function rpcTarget(): FuzzTarget {
  return {
    name: 'rpc',
    weight: 0.15,
    async open() {
      const fx = await fixtureChain();
      const config = DEFAULT_CONFIG.rpc;
      const server = new RpcServer({ chain: fx.chain, mempool: fx.mempool, config });
      const registry = fx.app.registry;
      const allowed = txErrorPrefixes(registry);
      const fixture: Fixture = {
        methods: [...server.methods.values()].map((m) => ({ name: m.name, params: m.params })),
        addresses: [
          ...fx.keys.map((k) => formatAddress(addressFromPublicKey(k.publicKey))),
          'trib1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq',
        ],
        blockHashes: fx.blockHashes.map((h) => '0x' + toHex(h)),
        txHashes: fx.txHashes.map((h) => toHex(h)),
        stateKinds: registry.stateKeys.map((k) => ({ kind: k.kind, id: k.id ? k.id.kind : null })),
        height: fx.chain.latestHeight,
      };
      return {
        async close() {},
        async one(rng, slot) {
          const tx = () => fuzzTx(rng, registry, fx.keys, FUZZ_CHAIN_ID, allowed).bytes;
          const text = requestText(rng, fixture, tx, config.maxBatch);
          slot.input = text;
          const answer = await server.respond(text);
          if (answer === undefined) {
            if (expectsAnswer(text)) throw new Finding('bad_response', 'no answer to a request that needs one');
            return 'notification';
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(answer);
          } catch {
            throw new Finding('bad_response', `answer is not JSON: ${answer.slice(0, 200)}`);
          }
          if (Array.isArray(parsed)) {
            if (parsed.length === 0) throw new Finding('bad_response', 'empty batch answer');
            const outcomes = parsed.map((item, i) => checkAnswer(item, `batch item ${i}`));
            return `batch:${outcomes.includes('result') ? 'result' : outcomes[0]}`;
          }
          return checkAnswer(parsed, 'answer');
        },
      };
    },
  };
}
