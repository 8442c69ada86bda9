import { parseAddress } from '../crypto/address.ts';
import { fromHex } from '../crypto/hash.ts';
import type { ParamSpec } from '../state/module.ts';
import { rpcError } from './errors.ts';

/** A block reference: a height, a 32-byte hash, or a tag. */
export type BlockTag = { height: number } | { hash: Uint8Array } | { tag: 'latest' | 'finalized' | 'earliest' };

export function parseBlockTag(v: unknown, name = 'block'): BlockTag {
  if (v === undefined || v === null || v === 'latest') return { tag: 'latest' };
  if (v === 'finalized' || v === 'earliest') return { tag: v };
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return { height: v };
  if (typeof v === 'string' && /^(0|[1-9]\d{0,15})$/.test(v)) return { height: Number(v) };
  if (typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v)) return { hash: fromHex(v) };
  throw rpcError(
    'rpc/invalid_params',
    `${name}: expected a height, a 0x-prefixed 32-byte hash, "latest", "finalized" or "earliest"`,
  );
}

function parseOne(spec: ParamSpec, v: unknown): unknown {
  const bad = (what: string) => rpcError('rpc/invalid_params', `${spec.name}: expected ${what}`, { param: spec.name });
  switch (spec.kind) {
    case 'string':
      if (typeof v !== 'string') throw bad('a string');
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('true or false');
      return v;
    case 'integer':
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
      if (typeof v === 'string' && /^(0|[1-9]\d{0,15})$/.test(v)) return Number(v);
      throw bad('a non-negative integer');
    case 'address':
      if (typeof v !== 'string') throw bad('a trib1... address');
      try {
        return parseAddress(v);
      } catch (e) {
        throw bad(`a trib1... address (${(e as Error).message})`);
      }
    case 'hash':
      if (typeof v !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/.test(v)) throw bad('a 32-byte hex hash');
      return fromHex(v);
    case 'hex':
      // fromHex checks every digit and the even length (the schema's pattern) while it decodes.
      if (typeof v !== 'string') throw bad('hex bytes');
      try {
        return fromHex(v);
      } catch {
        throw bad('hex bytes');
      }
    case 'blockTag':
      return parseBlockTag(v, spec.name);
    case 'json':
      return v;
  }
}

/** JSON-RPC params (positional array or named object) -> values by name, checked by spec. */
export function parseCallParams(specs: readonly ParamSpec[], raw: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let byName: Record<string, unknown>;
  if (raw === undefined || raw === null) byName = {};
  else if (Array.isArray(raw)) {
    if (raw.length > specs.length) throw rpcError('rpc/invalid_params', `expected at most ${specs.length} params`);
    byName = Object.fromEntries(specs.map((s, i) => [s.name, raw[i]]));
  } else if (typeof raw === 'object') {
    byName = raw as Record<string, unknown>;
    for (const k of Object.keys(byName)) {
      if (!specs.some((s) => s.name === k)) throw rpcError('rpc/invalid_params', `unknown param "${k}"`);
    }
  } else throw rpcError('rpc/invalid_params', 'params must be an array or an object');
  for (const spec of specs) {
    const v = byName[spec.name];
    if (v === undefined || v === null) {
      if (!spec.optional) throw rpcError('rpc/invalid_params', `missing param "${spec.name}"`, { param: spec.name });
      continue;
    }
    out[spec.name] = parseOne(spec, v);
  }
  return out;
}
