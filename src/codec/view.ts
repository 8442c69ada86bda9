import { formatAddress } from '../crypto/address.ts';
import { toHex } from '../crypto/hash.ts';
import type { FieldPlan, MessageCodec, MessagePlan } from './canonical.ts';
import type { JsonValue } from './json.ts';

/*
 * The JSON view a schema implies, walked from the codec's field plan, for messages whose view adds
 * nothing to the schema: field names in camelCase, amounts as decimal strings, bytes as 0x-hex or,
 * marked `[(address) = true]`, as bech32; empty bytes (an absent hash or address) and an absent
 * sub-message are null; numbers, booleans and strings as they are. Views that add meaning (a
 * status word, a split's legs) stay hand-written.
 */

type CamelCase<S extends string> = S extends `${infer Head}_${infer Rest}`
  ? `${Head}${Capitalize<CamelCase<Rest>>}`
  : S;

export type FieldView<V> = V extends bigint
  ? string
  : V extends Uint8Array
    ? string | null
    : V extends string | number | boolean
      ? V
      : V extends readonly (infer Item)[]
        ? FieldView<Item>[]
        : V extends undefined
          ? null
          : V extends object
            ? ViewOf<V>
            : never;

export type ViewOf<T> = { [K in keyof T & string as CamelCase<K>]: FieldView<T[K]> };

interface ViewField {
  readonly field: FieldPlan;
  readonly key: string;
}

/** Same rule as the `CamelCase` type: every part after an underscore starts upper-case. */
function camelCase(name: string): string {
  return name
    .split('_')
    .map((part, i) => (i === 0 ? part : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('');
}

const viewFieldsCache = new WeakMap<MessagePlan, readonly ViewField[]>();

function viewFields(plan: MessagePlan): readonly ViewField[] {
  const cached = viewFieldsCache.get(plan);
  if (cached) return cached;
  const byKey = new Map<string, string>();
  const fields = plan.fields.map((field) => {
    const key = camelCase(field.name);
    const other = byKey.get(key);
    if (other !== undefined)
      throw new Error(`${plan.type.fullName}: fields ${other} and ${field.name} would both view as ${key}`);
    byKey.set(key, field.name);
    return { field, key };
  });
  viewFieldsCache.set(plan, fields);
  return fields;
}

function viewValue(field: FieldPlan, value: unknown): JsonValue {
  switch (field.kind) {
    case 'amount':
      return (value as bigint).toString();
    case 'bytes': {
      const bytes = value as Uint8Array;
      if (bytes.length === 0) return null;
      return field.address ? formatAddress(bytes) : '0x' + toHex(bytes);
    }
    case 'message':
      return value === undefined || value === null
        ? null
        : viewMessage(field.nested!, value as Record<string, unknown>);
    case 'number':
    case 'bool':
    case 'string':
      return value as number | boolean | string;
  }
}

function viewMessage(plan: MessagePlan, value: Record<string, unknown>): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const { field, key } of viewFields(plan)) {
    const v = value[field.name];
    out[key] = field.repeated ? (v as unknown[]).map((item) => viewValue(field, item)) : viewValue(field, v);
  }
  return out;
}

/** The derived JSON view of `value`; an `(address)` field that is neither empty nor 20 bytes throws `address/invalid`. */
export function viewOf<T>(codec: MessageCodec<T>, value: T): ViewOf<T> {
  return viewMessage(codec.plan, value as Record<string, unknown>) as ViewOf<T>;
}
