import { defaultDomain, type FieldPlan, type MessagePlan } from '../../src/codec/canonical.ts';
import type { Rng } from './rng.ts';
import { protoType } from './wire.ts';

/*
 * Values of a message generated from its codec's field plan, the shape `decode` returns: every
 * field present, sub-messages absent or filled in. Lengths lean to what the modules check for
 * (20-byte addresses, 32-byte hashes), so many generated messages pass `validateBasic`.
 */

const WORDS = [
  '',
  'a',
  'alpha',
  'model-7',
  'ipfs://bafy',
  'tributary',
  'x'.repeat(129),
  'Ωmega',
  '数据',
  '🦊🦊',
  'tab\there',
  'nul\0byte',
];
const MAX_AMOUNT = (1n << 256n) - 1n;

function genString(rng: Rng): string {
  if (rng.chance(0.5)) return rng.pick(WORDS);
  const n = rng.length(40);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rng.int(10);
    // Code points, not code units: the string is well-formed (lone surrogates are tried on purpose elsewhere).
    const cp =
      r < 6
        ? rng.range(0x20, 0x7e)
        : r < 8
          ? rng.range(0x80, 0xd7ff)
          : r < 9
            ? rng.range(0xe000, 0xffff)
            : rng.range(0x10000, 0x10ffff);
    s += String.fromCodePoint(cp);
  }
  return s;
}

function genBytes(rng: Rng): Uint8Array {
  const n = rng.pick([0, 20, 20, 32, 32, 32, 64, rng.length(48)]);
  return rng.bytes(n);
}

function genAmount(rng: Rng): bigint {
  switch (rng.int(6)) {
    case 0:
      return 0n;
    case 1:
      return BigInt(rng.range(1, 1000));
    case 2:
      return BigInt(rng.next()) * 1_000_000n;
    case 3:
      return (BigInt(rng.next()) << 32n) | BigInt(rng.next());
    case 4:
      return MAX_AMOUNT - BigInt(rng.int(3));
    default: {
      let v = 0n;
      for (let i = rng.range(1, 8); i > 0; i--) v = (v << 32n) | BigInt(rng.next());
      return v;
    }
  }
}

function genNumber(rng: Rng, type: string): number {
  const small = rng.chance(0.5);
  if (type === 'uint32' || type === 'fixed32')
    return small ? rng.int(8) : rng.pick([0xffffffff, 0x80000000, rng.next()]);
  if (type === 'int32' || type === 'sint32' || type === 'sfixed32') {
    return small ? rng.range(-3, 8) : rng.pick([-0x80000000, 0x7fffffff, rng.next() | 0]);
  }
  const magnitude = small ? rng.int(8) : rng.pick([Number.MAX_SAFE_INTEGER, 2 ** 32, rng.safeInt()]);
  const signed = !(type.startsWith('u') || type === 'fixed64');
  return signed && rng.chance(0.3) && magnitude !== 0 ? -magnitude : magnitude;
}

function genScalar(rng: Rng, plan: MessagePlan, f: FieldPlan, depth: number): unknown {
  switch (f.kind) {
    case 'number':
      return genNumber(rng, protoType(plan, f));
    case 'bool':
      return rng.bool();
    case 'string':
      return genString(rng);
    case 'bytes':
      return genBytes(rng);
    case 'amount':
      return genAmount(rng);
    case 'message':
      return generateValue(rng, f.nested!, depth + 1);
  }
}

export function generateValue(rng: Rng, plan: MessagePlan, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of plan.fields) {
    if (f.repeated) {
      const n = depth > 2 ? 0 : rng.pick([0, 0, 1, 2, 3, rng.int(6)]);
      out[f.name] = Array.from({ length: n }, () => genScalar(rng, plan, f, depth));
    } else if (f.kind === 'message') {
      out[f.name] = depth > 2 || rng.chance(0.3) ? undefined : generateValue(rng, f.nested!, depth + 1);
    } else if (rng.chance(0.15)) {
      out[f.name] = defaultDomain(f);
    } else {
      out[f.name] = genScalar(rng, plan, f, depth);
    }
  }
  return out;
}

/** Structural equality over what decoded values hold: bytes, bigints, arrays, plain objects. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys)
      if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    return true;
  }
  return Object.is(a, b);
}

/** Printable form of a value for a finding (bytes as hex, bigints as decimal). */
export function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x instanceof Uint8Array ? `0x${Buffer.from(x).toString('hex')}` : typeof x === 'bigint' ? `${x}n` : x,
  );
}
