import type { Event } from '../codec/core.ts';
import { ADDRESS_LENGTH, formatAddress, parseAddress, type Address } from '../crypto/address.ts';
import { fromHex, toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import type {
  EventDefinition,
  EventFieldKind,
  EventFieldSpec,
  EventFields,
  EventSink,
  EventValues,
  Module,
} from './module.ts';

/*
 * Typed events. A module declares each event it emits with `defineEvent` (type, fields with their
 * kinds, which fields the index looks up by) and emits through the declaration, so the attribute
 * strings in receipts always follow one format per kind and one field order per type. The wire
 * form stays the core `Event` (type + attribute strings), so receipts and the results root keep
 * their shape.
 */

export type EventErrorCode = 'event/malformed';

/*
 * Events name the same few addresses over and over (the owners along a lineage, the pool, the
 * treasury), and bech32 is the costliest part of writing an attribute. Keyed by the address
 * object: address bytes are never mutated in place once made (records are replaced, not edited).
 */
const bech32ByAddress = new WeakMap<Address, string>();

function addressText(a: Address): string {
  let s = bech32ByAddress.get(a);
  if (s === undefined) {
    s = formatAddress(a);
    bech32ByAddress.set(a, s);
  }
  return s;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEX = /^([0-9a-f]{2})*$/;

function encodeValue(kind: EventFieldKind, v: unknown): string {
  switch (kind) {
    case 'address':
      return addressText(v as Address);
    case 'hash':
      return toHex(v as Uint8Array);
    case 'amount':
    case 'integer':
    case 'string':
    case 'boolean':
      return String(v);
  }
}

/** Why an attribute string is not a value of this kind, or undefined when it is. */
export function eventValueProblem(kind: EventFieldKind, s: string): string | undefined {
  switch (kind) {
    case 'address':
      try {
        return parseAddress(s).length === ADDRESS_LENGTH ? undefined : 'not an address';
      } catch {
        return 'not an address';
      }
    case 'amount':
      return DECIMAL.test(s) ? undefined : 'not a decimal amount';
    case 'integer':
      return DECIMAL.test(s) && Number.isSafeInteger(Number(s)) ? undefined : 'not a non-negative integer';
    case 'hash':
      return HEX.test(s) ? undefined : 'not lowercase hex';
    case 'boolean':
      return s === 'true' || s === 'false' ? undefined : 'not true/false';
    case 'string':
      return undefined;
  }
}

function decodeValue(kind: EventFieldKind, s: string): unknown {
  switch (kind) {
    case 'address':
      return parseAddress(s);
    case 'amount':
      return BigInt(s);
    case 'integer':
      return Number(s);
    case 'hash':
      return fromHex(s);
    case 'boolean':
      return s === 'true';
    case 'string':
      return s;
  }
}

function encodeField(spec: EventFieldSpec, v: unknown): string {
  if (!spec.list) return encodeValue(spec.kind, v);
  const items = v as readonly unknown[];
  let out = '';
  for (let i = 0; i < items.length; i++) out += (i === 0 ? '' : ',') + encodeValue(spec.kind, items[i]);
  return out;
}

/** The elements of a list attribute. */
export function listElements(s: string): string[] {
  return s === '' ? [] : s.split(',');
}

function fieldProblem(spec: EventFieldSpec, s: string): string | undefined {
  if (!spec.list) return eventValueProblem(spec.kind, s);
  for (const item of listElements(s)) {
    if (item === '') return 'a list with an empty element';
    const problem = eventValueProblem(spec.kind, item);
    if (problem) return `a list holding "${item}", ${problem}`;
  }
  return undefined;
}

/** Declares an event; the field order given here is the attribute order in every receipt. */
export function defineEvent<const F extends EventFields>(
  type: string,
  description: string,
  fields: F,
): EventDefinition<F> {
  const names = Object.keys(fields);
  const specs = names.map((n) => fields[n]!);
  const def: EventDefinition<F> = {
    type,
    description,
    fields,
    emit(sink: EventSink, values: EventValues<F>): void {
      const attrs: Record<string, string> = {};
      for (let i = 0; i < names.length; i++)
        attrs[names[i]!] = encodeField(specs[i]!, (values as Record<string, unknown>)[names[i]!]);
      sink.emit(type, attrs);
    },
    read(event: Event): EventValues<F> {
      const problem = eventProblem(def, event);
      if (problem) throw new TributaryError('event/malformed', `${type}: ${problem}`, { type });
      const out: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) {
        const spec = specs[i]!;
        const s = event.attributes[i]!.value;
        out[names[i]!] = spec.list
          ? listElements(s).map((item) => decodeValue(spec.kind, item))
          : decodeValue(spec.kind, s);
      }
      return out as EventValues<F>;
    },
  };
  return def;
}

/** Why an event does not match its declaration (type, field names and order, value formats). */
export function eventProblem(def: EventDefinition, event: Event): string | undefined {
  if (event.type !== def.type) return `type is ${event.type}, not ${def.type}`;
  const names = Object.keys(def.fields);
  const got = event.attributes.map((a) => a.key);
  if (got.length !== names.length || got.some((k, i) => k !== names[i])) {
    return `attributes [${got.join(', ')}] are not the declared [${names.join(', ')}]`;
  }
  for (let i = 0; i < names.length; i++) {
    const problem = fieldProblem(def.fields[names[i]!]!, event.attributes[i]!.value);
    if (problem) return `${names[i]}: "${event.attributes[i]!.value}" is ${problem}`;
  }
  return undefined;
}

/** Every declared event of the modules by type; a type declared twice is a programming error. */
export function moduleEvents(modules: readonly Module[]): ReadonlyMap<string, EventDefinition> {
  const out = new Map<string, EventDefinition>();
  for (const mod of modules) {
    for (const def of mod.events ?? []) {
      if (out.has(def.type)) throw new Error(`event type ${def.type} declared twice`);
      out.set(def.type, def);
    }
  }
  return out;
}

/** Checks an emitted event against the declarations: its type must be declared and its attributes match. */
export function undeclaredEventProblem(
  declared: ReadonlyMap<string, EventDefinition>,
  event: Event,
): string | undefined {
  const def = declared.get(event.type);
  if (!def) return `event type ${event.type} is not declared by any module`;
  return eventProblem(def, event);
}

/** The string of one attribute, for readers that need a single field. */
export function attributeValue(event: Event, key: string): string | undefined {
  for (const a of event.attributes) if (a.key === key) return a.value;
  return undefined;
}
