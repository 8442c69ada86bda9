import type { FieldPlan, MessagePlan } from '../../src/codec/canonical.ts';
import type { Rng } from './rng.ts';

/*
 * The protobuf wire format read independently of protobufjs: a field splitter for structure-aware
 * mutations (duplicate, drop or reorder fields, lie in a length prefix, pad a varint) and a
 * canonical-form oracle the codec's accepts are checked against. Only what canonical schemas use.
 */

export interface WireField {
  readonly number: number;
  readonly wireType: number;
  /** The whole field, tag included. */
  readonly start: number;
  readonly end: number;
  /** Where the length prefix (LEN fields) or the value starts. */
  readonly tagEnd: number;
  /** The value's bytes (for LEN, after the length prefix). */
  readonly valueStart: number;
}

interface Varint {
  value: bigint;
  end: number;
  minimal: boolean;
}

function readVarint(bytes: Uint8Array, at: number): Varint | undefined {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < bytes.length && i < at + 10; i++) {
    const byte = bytes[i]!;
    value |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if ((byte & 0x80) === 0) return { value, end: i + 1, minimal: i === at || byte !== 0 };
  }
  return undefined;
}

export function encodeVarintBig(v: bigint): number[] {
  const out: number[] = [];
  let n = v;
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) byte |= 0x80;
    out.push(byte);
  } while (n > 0n);
  return out;
}

/** The fields of `bytes` at top level, or undefined where it does not split into fields. */
export function splitFields(bytes: Uint8Array): WireField[] | undefined {
  const out: WireField[] = [];
  let at = 0;
  while (at < bytes.length) {
    const tag = readVarint(bytes, at);
    if (!tag || tag.value > 0xffffffffn) return undefined;
    const number = Number(tag.value >> 3n);
    const wireType = Number(tag.value & 7n);
    let valueStart = tag.end;
    let end: number;
    if (wireType === 0) {
      const v = readVarint(bytes, tag.end);
      if (!v) return undefined;
      end = v.end;
    } else if (wireType === 1) end = tag.end + 8;
    else if (wireType === 5) end = tag.end + 4;
    else if (wireType === 2) {
      const len = readVarint(bytes, tag.end);
      if (!len) return undefined;
      valueStart = len.end;
      end = len.end + Number(len.value);
    } else return undefined;
    if (end > bytes.length) return undefined;
    out.push({ number, wireType, start: at, end, tagEnd: tag.end, valueStart });
    at = end;
  }
  return out;
}

// ------------------------------------------------------------------ canonical oracle

const FIXED64_TYPES = new Set(['fixed64', 'sfixed64']);
const FIXED32_TYPES = new Set(['fixed32', 'sfixed32']);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_64 = 1n << 64n;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function protoType(plan: MessagePlan, f: FieldPlan): string {
  return plan.type.fields[f.name]!.type;
}

function numberInRange(type: string, raw: bigint, width: 'varint' | 32 | 64): boolean {
  let v = raw;
  if (type === 'sint32' || type === 'sint64') v = v & 1n ? -((v + 1n) >> 1n) : v >> 1n;
  else if (type.startsWith('sfixed')) v = BigInt.asIntN(width === 32 ? 32 : 64, v);
  else if (type === 'int32' || type === 'int64') v = v >= TWO_64 / 2n ? v - TWO_64 : v;
  if (type.endsWith('32')) {
    const unsigned = type === 'uint32' || type === 'fixed32';
    return unsigned ? v >= 0n && v <= 0xffffffffn : v >= -(1n << 31n) && v < 1n << 31n;
  }
  return v >= -MAX_SAFE && v <= MAX_SAFE && (type.startsWith('u') || type === 'fixed64' ? v >= 0n : true);
}

/**
 * Why `bytes` is not the one canonical encoding of a value of `plan` (see src/codec/canonical.ts),
 * or undefined when it is: declared fields only, with their wire types, in declaration order,
 * singular fields once and never at their default, repeated numbers packed once, minimal varints,
 * strict UTF-8, amounts without a leading zero and at most 32 bytes, integers in range.
 */
export function canonicalProblem(plan: MessagePlan, bytes: Uint8Array, path = plan.type.name): string | undefined {
  const fields = splitFields(bytes);
  if (!fields) return `${path}: does not split into fields`;
  let lastIndex = -1;
  let lastNumber = -1;
  for (const w of fields) {
    const index = plan.fields.findIndex((f) => plan.type.fields[f.name]!.id === w.number);
    if (index < 0) return `${path}: unknown field ${w.number}`;
    const f = plan.fields[index]!;
    const where = `${path}.${f.name}`;
    const type = protoType(plan, f);
    const packed = f.repeated && (f.kind === 'number' || f.kind === 'bool');
    if (index < lastIndex) return `${where}: out of declaration order`;
    if (w.number === lastNumber && (!f.repeated || packed)) return `${where}: appears twice`;
    lastIndex = index;
    lastNumber = w.number;
    const tag = readVarint(bytes, w.start)!;
    if (!tag.minimal) return `${where}: tag varint not minimal`;
    const expectedWire = packed
      ? 2
      : f.kind === 'number' || f.kind === 'bool'
        ? FIXED64_TYPES.has(type)
          ? 1
          : FIXED32_TYPES.has(type)
            ? 5
            : 0
        : 2;
    if (w.wireType !== expectedWire) return `${where}: wire type ${w.wireType}, expected ${expectedWire}`;
    if (w.wireType === 2 && !readVarint(bytes, w.tagEnd)!.minimal) return `${where}: length varint not minimal`;
    const value = bytes.subarray(w.valueStart, w.end);
    if (packed) {
      if (value.length === 0) return `${where}: empty packed list`;
      const problem = packedProblem(type, value, where);
      if (problem) return problem;
      continue;
    }
    switch (f.kind) {
      case 'number':
      case 'bool': {
        let raw: bigint;
        if (w.wireType === 0) {
          const v = readVarint(bytes, w.tagEnd)!;
          if (!v.minimal) return `${where}: varint not minimal`;
          raw = v.value;
        } else raw = littleEndian(value);
        if (f.kind === 'bool' && raw !== 1n) return `${where}: bool ${raw} (false is omitted)`;
        if (f.kind === 'number' && raw === 0n && !f.repeated) return `${where}: default value present`;
        if (
          f.kind === 'number' &&
          !numberInRange(type, raw, w.wireType === 0 ? 'varint' : w.wireType === 5 ? 32 : 64)
        ) {
          return `${where}: ${raw} out of range for ${type}`;
        }
        break;
      }
      case 'string':
        if (value.length === 0 && !f.repeated) return `${where}: empty string present`;
        try {
          strictUtf8.decode(value);
        } catch {
          return `${where}: not valid UTF-8`;
        }
        break;
      case 'bytes':
        if (value.length === 0 && !f.repeated) return `${where}: empty bytes present`;
        break;
      case 'amount':
        if (value.length === 0 && !f.repeated) return `${where}: zero amount present`;
        if (value.length > 32) return `${where}: amount longer than 32 bytes`;
        if (value.length > 0 && value[0] === 0) return `${where}: amount with a leading zero`;
        break;
      case 'message': {
        const problem = canonicalProblem(f.nested!, value, where);
        if (problem) return problem;
        break;
      }
    }
  }
  return undefined;
}

function littleEndian(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

function packedProblem(type: string, value: Uint8Array, where: string): string | undefined {
  const width = FIXED64_TYPES.has(type) ? 8 : FIXED32_TYPES.has(type) ? 4 : 0;
  let at = 0;
  while (at < value.length) {
    let raw: bigint;
    if (width) {
      if (at + width > value.length) return `${where}: packed fixed list cut short`;
      raw = littleEndian(value.subarray(at, at + width));
      at += width;
    } else {
      const v = readVarint(value, at);
      if (!v) return `${where}: packed varint cut short`;
      if (!v.minimal) return `${where}: packed varint not minimal`;
      raw = v.value;
      at = v.end;
    }
    if (type === 'bool' ? raw > 1n : !numberInRange(type, raw, width === 0 ? 'varint' : width === 4 ? 32 : 64)) {
      return `${where}: packed ${raw} out of range for ${type}`;
    }
  }
  return undefined;
}

// ------------------------------------------------------------------ mutations

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12];
const LENGTH_LIES = [0n, 1n, 0x7fn, 0x80n, 0x7fffffffn, 0xffffffffn, 0xffffffffffn];

/** The names of the mutations, for the statistics. */
export type MutationName =
  | 'bit_flip'
  | 'byte_set'
  | 'truncate'
  | 'append'
  | 'insert'
  | 'delete'
  | 'splice'
  | 'field_duplicate'
  | 'field_drop'
  | 'field_swap'
  | 'length_lie'
  | 'varint_pad'
  | 'unknown_field'
  | 'wire_type'
  | 'nested';

/** One structure-aware or byte-level mutation of `input`; `other` is spliced from. */
export function mutate(
  rng: Rng,
  input: Uint8Array,
  other: Uint8Array,
  depth = 0,
): { bytes: Uint8Array; mutation: MutationName } {
  const fields = splitFields(input);
  const structural = fields && fields.length > 0 && rng.chance(0.6);
  if (structural) {
    const f = rng.pick(fields);
    const choice = rng.int(8);
    switch (choice) {
      case 0:
        return {
          mutation: 'field_duplicate',
          bytes: concat(input.subarray(0, f.end), input.subarray(f.start, f.end), input.subarray(f.end)),
        };
      case 1:
        return { mutation: 'field_drop', bytes: concat(input.subarray(0, f.start), input.subarray(f.end)) };
      case 2: {
        const g = rng.pick(fields);
        const [a, b] = f.start <= g.start ? [f, g] : [g, f];
        if (a === b) break;
        return {
          mutation: 'field_swap',
          bytes: concat(
            input.subarray(0, a.start),
            input.subarray(b.start, b.end),
            input.subarray(a.end, b.start),
            input.subarray(a.start, a.end),
            input.subarray(b.end),
          ),
        };
      }
      case 3: {
        if (f.wireType !== 2) break;
        const actual = BigInt(f.end - f.valueStart);
        const lie = rng.chance(0.5) ? rng.pick(LENGTH_LIES) : actual + BigInt(rng.range(-3, 3));
        if (lie < 0n || lie === actual) break;
        return {
          mutation: 'length_lie',
          bytes: concat(input.subarray(0, f.tagEnd), encodeVarintBig(lie), input.subarray(f.valueStart)),
        };
      }
      case 4: {
        // The tag (or, for varint fields, the value) padded with redundant continuation bytes.
        const padded = [...input.subarray(f.start, f.tagEnd)];
        padded[padded.length - 1]! |= 0x80;
        for (let i = rng.int(3); i > 0; i--) padded.push(0x80);
        padded.push(0x00);
        return { mutation: 'varint_pad', bytes: concat(input.subarray(0, f.start), padded, input.subarray(f.tagEnd)) };
      }
      case 5: {
        const number = rng.pick([f.number + 1, 15, 16, 100, 536870911]);
        const wireType = rng.pick([0, 1, 2, 5]);
        const body =
          wireType === 0
            ? [rng.int(128)]
            : wireType === 1
              ? [...rng.bytes(8)]
              : wireType === 5
                ? [...rng.bytes(4)]
                : [2, ...rng.bytes(2)];
        const at = rng.bool() ? f.start : f.end;
        return {
          mutation: 'unknown_field',
          bytes: concat(
            input.subarray(0, at),
            encodeVarintBig(BigInt(number) * 8n + BigInt(wireType)),
            body,
            input.subarray(at),
          ),
        };
      }
      case 6: {
        const tag = readVarint(input, f.start)!;
        const wireType = rng.pick([0, 1, 2, 3, 4, 5, 6, 7].filter((t) => t !== f.wireType));
        return {
          mutation: 'wire_type',
          bytes: concat(
            input.subarray(0, f.start),
            encodeVarintBig((tag.value & ~7n) | BigInt(wireType)),
            input.subarray(f.tagEnd),
          ),
        };
      }
      default: {
        if (f.wireType !== 2 || depth > 3 || f.end === f.valueStart) break;
        // Inside a sub-message or a bytes field, with the length prefix kept honest.
        const inner = mutate(rng, input.subarray(f.valueStart, f.end), other, depth + 1).bytes;
        return {
          mutation: 'nested',
          bytes: concat(
            input.subarray(0, f.tagEnd),
            encodeVarintBig(BigInt(inner.length)),
            inner,
            input.subarray(f.end),
          ),
        };
      }
    }
  }
  return byteMutation(rng, input, other);
}

function byteMutation(rng: Rng, input: Uint8Array, other: Uint8Array): { bytes: Uint8Array; mutation: MutationName } {
  const out = new Uint8Array(input);
  const at = rng.int(input.length + 1);
  switch (rng.int(7)) {
    case 0: {
      if (out.length === 0) break;
      for (let i = rng.range(1, 4); i > 0; i--) {
        const p = rng.int(out.length);
        out[p]! ^= 1 << rng.int(8);
      }
      return { mutation: 'bit_flip', bytes: out };
    }
    case 1: {
      if (out.length === 0) break;
      out[rng.int(out.length)] = rng.pick(INTERESTING_BYTES);
      return { mutation: 'byte_set', bytes: out };
    }
    case 2:
      return { mutation: 'truncate', bytes: input.subarray(0, rng.int(input.length + 1)) };
    case 3:
      return { mutation: 'append', bytes: concat(input, rng.bytes(rng.range(1, 8))) };
    case 4:
      return {
        mutation: 'insert',
        bytes: concat(input.subarray(0, at), rng.bytes(rng.range(1, 8)), input.subarray(at)),
      };
    case 5:
      return {
        mutation: 'delete',
        bytes: concat(input.subarray(0, at), input.subarray(Math.min(input.length, at + rng.range(1, 8)))),
      };
    default:
      break;
  }
  const from = rng.int(other.length + 1);
  return {
    mutation: 'splice',
    bytes: concat(
      input.subarray(0, at),
      other.subarray(from, from + rng.int(other.length - from + 1)),
      input.subarray(rng.range(at, input.length)),
    ),
  };
}

/** Several mutations in a row (most inputs get one; a few get up to four). */
export function mutateN(
  rng: Rng,
  input: Uint8Array,
  other: Uint8Array,
): { bytes: Uint8Array; mutations: MutationName[] } {
  let bytes = input;
  const mutations: MutationName[] = [];
  const n = rng.chance(0.75) ? 1 : rng.range(2, 4);
  for (let i = 0; i < n; i++) {
    const m = mutate(rng, bytes, other);
    bytes = m.bytes;
    mutations.push(m.mutation);
  }
  return { bytes, mutations };
}
