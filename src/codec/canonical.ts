import protobuf from 'protobufjs';
import { TributaryError } from '../errors.ts';
import { bytesEqual } from '../crypto/hash.ts';

/*
 * Canonical protobuf. protobufjs encodes and decodes, but protobuf itself allows many byte strings
 * per value (default fields present or absent, unpacked repeated scalars, unknown fields, field
 * order). Consensus needs exactly one, so this layer pins it down:
 *   - the encoder omits every field equal to its default (0, "", false, empty bytes, empty list);
 *   - the decoder accepts bytes only if re-encoding the decoded value gives the same bytes back.
 * Amounts are `bytes` fields marked `[(amount) = true]`: unsigned big-endian with no leading zero
 * byte (zero is the empty string), at most 32 bytes, exposed to the code as bigint.
 * 64-bit integers are exposed as JS numbers and must be safe integers (2^53 - 1).
 * Maps, oneofs and enums are not allowed in schemas: each has a looser wire form or an
 * ordering question that is simpler to avoid than to pin down.
 * `[(address) = true]` on a bytes field changes nothing on the wire; views render it as bech32.
 * The TS type of every message is generated from its .proto (`npm run proto`, X.pb.ts beside X.proto)
 * from the same field plan, and a typed root makes the message name select that type.
 */

// 64-bit integers decode to plain numbers; the canonical check rejects anything above 2^53.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

export type CodecErrorCode = 'codec/malformed' | 'codec/non_canonical' | 'codec/out_of_range';

const MAX_AMOUNT_BYTES = 32;

export type FieldKind = 'number' | 'bool' | 'string' | 'bytes' | 'amount' | 'message';

/** How one field is encoded; read by views and the type generator, never changed after planning. */
export interface FieldPlan {
  readonly name: string;
  /** "Message.field", for error messages (built once: encoding is a hot path). */
  readonly where: string;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  readonly is64: boolean;
  /** `bytes` marked `[(address) = true]`: presentation only, the wire form is plain bytes. */
  readonly address: boolean;
  readonly nested?: MessagePlan;
}

export interface MessagePlan {
  readonly type: protobuf.Type;
  readonly fields: readonly FieldPlan[];
}

export interface MessageCodec<T> {
  readonly typeName: string;
  /** The field plan the codec follows (what views and the type generator walk). */
  readonly plan: MessagePlan;
  encode(value: T): Uint8Array;
  /** Strict: throws `codec/malformed` or `codec/non_canonical`. */
  decode(bytes: Uint8Array): T;
  /**
   * For bytes this node encoded itself (state records): the same decoding without re-encoding to
   * check canonical form, which doubled the cost of every state read. Never for input from outside.
   */
  decodeStored(bytes: Uint8Array): T;
  /** A value with every field at its default. */
  empty(): T;
}

declare const messagesOf: unique symbol;
declare const untyped: unique symbol;

/**
 * A parsed schema typed by its messages map (full name -> TS type), generated as `XMessages` in
 * X.pb.ts. The map exists only for the type checker.
 */
export type SchemaRoot<M extends object> = protobuf.Root & { readonly [messagesOf]: M };

/** The map of a schema parsed without one: any name, the value type given by hand. */
export interface UntypedMessages {
  readonly [untyped]: true;
}

/**
 * Parse `.proto` source text (files live next to the module that owns them). Pass the generated
 * messages map (`parseSchema<CoreMessages>(source)`) so `messageCodec` names select their types.
 * Comments are kept for the type generator.
 */
export function parseSchema<M extends object = UntypedMessages>(source: string): SchemaRoot<M> {
  return protobuf.parse(source, { keepCase: true, alternateCommentMode: true }).root as SchemaRoot<M>;
}

const planCache = new Map<protobuf.Type, MessagePlan>();

function planFor(type: protobuf.Type): MessagePlan {
  const cached = planCache.get(type);
  if (cached) return cached;
  const fields: FieldPlan[] = [];
  const plan: MessagePlan = { type, fields };
  planCache.set(type, plan); // before recursing: allows recursive message types
  type.resolveAll();
  if (type.oneofsArray.length > 0) throw new Error(`${type.fullName}: oneof is not allowed in canonical schemas`);
  for (const field of type.fieldsArray) {
    if (field.map) throw new Error(`${type.fullName}.${field.name}: maps are not allowed in canonical schemas`);
    const isAmount = field.options?.['(amount)'] === true;
    const isAddress = field.options?.['(address)'] === true;
    let kind: FieldKind;
    let nested: MessagePlan | undefined;
    if (field.resolvedType instanceof protobuf.Enum) {
      throw new Error(`${type.fullName}.${field.name}: enums are not allowed in canonical schemas`);
    } else if (field.resolvedType instanceof protobuf.Type) {
      kind = 'message';
      nested = planFor(field.resolvedType);
    } else if (field.type === 'bytes') {
      kind = isAmount ? 'amount' : 'bytes';
    } else if (field.type === 'string') {
      kind = 'string';
    } else if (field.type === 'bool') {
      kind = 'bool';
    } else if (['double', 'float'].includes(field.type)) {
      throw new Error(`${type.fullName}.${field.name}: floating point is not allowed in consensus schemas`);
    } else {
      kind = 'number';
    }
    if (isAmount && field.type !== 'bytes') throw new Error(`${type.fullName}.${field.name}: (amount) needs bytes`);
    if (isAddress && (kind !== 'bytes' || isAmount)) {
      throw new Error(`${type.fullName}.${field.name}: (address) needs bytes that are not an (amount)`);
    }
    fields.push({
      name: field.name,
      where: `${type.name}.${field.name}`,
      kind,
      repeated: field.repeated,
      is64: /64$/.test(field.type),
      address: isAddress,
      nested,
    });
  }
  return plan;
}

const LIMB_BITS = 48n;
const LIMB_MASK = (1n << LIMB_BITS) - 1n;
const LIMB_BYTES = 6;

/**
 * Big-endian, minimal length. Worked in 48-bit limbs (exact in a double), with no string round
 * trip: account balances are wider than 64 bits and are encoded several times per transaction.
 */
function amountToBytes(v: bigint, where: string): Uint8Array {
  if (typeof v !== 'bigint' || v < 0n) {
    throw new TributaryError('codec/out_of_range', `${where}: amount must be a non-negative bigint`);
  }
  if (v === 0n) return new Uint8Array(0);
  const limbs: number[] = [];
  for (let x = v; x > 0n; x >>= LIMB_BITS) limbs.push(Number(x & LIMB_MASK));
  let top = limbs[limbs.length - 1]!;
  let topBytes = 0;
  for (let t = top; t > 0; t = Math.floor(t / 256)) topBytes++;
  const length = topBytes + LIMB_BYTES * (limbs.length - 1);
  if (length > MAX_AMOUNT_BYTES) throw new TributaryError('codec/out_of_range', `${where}: amount exceeds 256 bits`);
  const out = new Uint8Array(length);
  let at = length;
  for (let l = 0; l < limbs.length - 1; l++) {
    let limb = limbs[l]!;
    for (let k = 0; k < LIMB_BYTES; k++) {
      out[--at] = limb % 256;
      limb = Math.floor(limb / 256);
    }
  }
  for (; at > 0; top = Math.floor(top / 256)) out[--at] = top % 256;
  return out;
}

function bytesToAmount(b: Uint8Array, where: string): bigint {
  if (b.length === 0) return 0n;
  if (b.length > MAX_AMOUNT_BYTES) throw new TributaryError('codec/out_of_range', `${where}: amount exceeds 256 bits`);
  if (b[0] === 0) throw new TributaryError('codec/non_canonical', `${where}: amount has a leading zero byte`);
  // 48-bit limbs from the most significant end, as amountToBytes writes them.
  let end = b.length % LIMB_BYTES || LIMB_BYTES;
  let n = 0;
  for (let i = 0; i < end; i++) n = n * 256 + b[i]!;
  let value = BigInt(n);
  for (; end < b.length; end += LIMB_BYTES) {
    n = 0;
    for (let i = end; i < end + LIMB_BYTES; i++) n = n * 256 + b[i]!;
    value = (value << LIMB_BITS) | BigInt(n);
  }
  return value;
}

/** Domain value -> protobufjs plain object with default-valued fields left out. */
function toWire(plan: MessagePlan, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of plan.fields) {
    const v = value[f.name];
    if (v === undefined || v === null) continue;
    if (f.repeated) {
      const arr = v as unknown[];
      if (arr.length === 0) continue;
      out[f.name] = arr.map((item) => scalarToWire(f, item));
    } else {
      const w = scalarToWire(f, v);
      if (isDefaultWire(f, w)) continue;
      out[f.name] = w;
    }
  }
  return out;
}

function scalarToWire(f: FieldPlan, v: unknown): unknown {
  const where = f.where;
  switch (f.kind) {
    case 'amount':
      return amountToBytes(v as bigint, where);
    case 'message':
      return toWire(f.nested!, v as Record<string, unknown>);
    case 'number':
      if (!Number.isSafeInteger(v)) throw new TributaryError('codec/out_of_range', `${where}: not a safe integer`);
      return v;
    case 'string':
      // A lone surrogate has no UTF-8 form: protobufjs would write invalid UTF-8 or U+FFFD.
      if (typeof v === 'string' && !v.isWellFormed()) {
        throw new TributaryError('codec/out_of_range', `${where}: string is not well-formed Unicode (lone surrogate)`);
      }
      return v;
    default:
      return v;
  }
}

function isDefaultWire(f: FieldPlan, w: unknown): boolean {
  switch (f.kind) {
    case 'number':
      return w === 0;
    case 'bool':
      return w === false;
    case 'string':
      return w === '';
    case 'bytes':
    case 'amount':
      return (w as Uint8Array).length === 0;
    case 'message':
      return false; // presence of a sub-message is meaningful
  }
}

/** protobufjs decoded object -> domain value with every field filled in. */
function fromWire(plan: MessagePlan, wire: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of plan.fields) {
    const v = wire[f.name];
    if (f.repeated) {
      const arr = (v as unknown[] | undefined) ?? [];
      out[f.name] = arr.map((item) => scalarFromWire(f, item));
    } else if (v === undefined || v === null) {
      out[f.name] = defaultDomain(f);
    } else {
      out[f.name] = scalarFromWire(f, v);
    }
  }
  return out;
}

function scalarFromWire(f: FieldPlan, v: unknown): unknown {
  const where = f.where;
  switch (f.kind) {
    case 'amount':
      return bytesToAmount(v as Uint8Array, where);
    case 'message':
      return fromWire(f.nested!, v as Record<string, unknown>);
    case 'bytes': {
      const b = v as Uint8Array;
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
    case 'number':
      if (!Number.isSafeInteger(v)) throw new TributaryError('codec/out_of_range', `${where}: integer above 2^53`);
      return v;
    case 'string':
      // protobufjs reads an encoded surrogate (ED A0 80, invalid UTF-8) back as a lone surrogate and would write it again.
      if (!(v as string).isWellFormed())
        throw new TributaryError('codec/malformed', `${where}: string is not valid UTF-8`);
      return v;
    default:
      return v;
  }
}

/** A field's value when it is absent on the wire. */
export function defaultDomain(f: FieldPlan): unknown {
  switch (f.kind) {
    case 'number':
      return 0;
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'amount':
      return 0n;
    case 'message':
      return undefined;
  }
}

/**
 * The codec of one message. On a typed root the name selects the type and a name the schema lacks
 * does not compile; on an untyped root the caller states the type (`messageCodec<T>(root, name)`).
 */
export function messageCodec<M extends object, N extends keyof M & string>(
  root: SchemaRoot<M>,
  typeName: N,
): MessageCodec<M[N]>;
export function messageCodec<T>(root: SchemaRoot<UntypedMessages>, typeName: string): MessageCodec<T>;
export function messageCodec<T>(root: protobuf.Root, typeName: string): MessageCodec<T> {
  const type = root.lookupType(typeName);
  const plan = planFor(type);
  const encode = (value: T): Uint8Array => {
    const wire = toWire(plan, value as Record<string, unknown>);
    return type.encode(wire).finish();
  };
  const decodeLoose = (bytes: Uint8Array): T => {
    let wire: Record<string, unknown>;
    try {
      wire = type.decode(bytes) as unknown as Record<string, unknown>;
    } catch (e) {
      throw new TributaryError('codec/malformed', `malformed ${type.name}: ${(e as Error).message}`);
    }
    return fromWire(plan, wire) as T;
  };
  return {
    typeName: type.fullName.replace(/^\./, ''),
    plan,
    encode,
    decodeStored: decodeLoose,
    decode(bytes: Uint8Array): T {
      const value = decodeLoose(bytes);
      if (!bytesEqual(encode(value), bytes)) {
        throw new TributaryError('codec/non_canonical', `${type.name} is not in canonical encoding`);
      }
      return value;
    },
    empty(): T {
      return fromWire(plan, {}) as T;
    },
  };
}
