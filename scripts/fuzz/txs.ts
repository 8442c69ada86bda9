import { SignedTxCodec, TxBodyCodec, type TxBody } from '../../src/codec/core.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import type { AnyTxDefinition } from '../../src/state/module.ts';
import type { TxRegistry } from '../../src/state/registry.ts';
import { buildTx, signTx, txSignBytes } from '../../src/state/tx.ts';
import { guard } from './harness.ts';
import type { Rng } from './rng.ts';
import { generateValue } from './values.ts';
import { mutateN } from './wire.ts';

/** A fixed set of keys (key generation per input would dominate the run). */
export function fuzzKeys(n: number): SigningKey[] {
  return Array.from({ length: n }, (_, i) => new SigningKey(new Uint8Array(32).fill(i + 1)));
}

export interface GeneratedTx {
  bytes: Uint8Array;
  def: AnyTxDefinition;
  key: SigningKey;
  body: TxBody;
  /** buildTx accepted the message (its validateBasic passed) and the chain id is the node's. */
  valid: boolean;
}

/**
 * A signed transaction of a registered type with a message generated from the type's field plan,
 * built with `buildTx` where the message passes `validateBasic` and signed as-is where it does not
 * (validateBasic must then refuse it with a code). The registered types' codes are the `allowed`
 * list a validateBasic may throw.
 */
export function generateTx(
  rng: Rng,
  registry: TxRegistry,
  keys: readonly SigningKey[],
  chainId: string,
  allowed: readonly string[],
  nonce?: number,
): GeneratedTx {
  const def = rng.pick(registry.txDefinitions);
  const key = rng.pick(keys);
  const message = generateValue(rng, def.codec.plan);
  const opts = {
    chainId: rng.chance(0.03) ? rng.pick(['', `${chainId}x`, chainId.toUpperCase()]) : chainId,
    nonce: nonce ?? (rng.chance(0.8) ? rng.int(4) : rng.safeInt()),
    fee: rng.chance(0.8) ? BigInt(rng.int(10_000)) : BigInt(rng.safeInt()) * 1_000_000_000n,
  };
  const built = guard(allowed, `${def.type} buildTx`, () => buildTx(key, def, message, opts));
  let bytes: Uint8Array;
  if (built.ok) bytes = built.value;
  else {
    const payload = guard(allowed, `${def.type} encode`, () => def.codec.encode(message));
    bytes = signTx(key, { ...opts, type: def.type, payload: payload.ok ? payload.value : rng.bytes(rng.length(40)) });
  }
  const body = TxBodyCodec.decode(SignedTxCodec.decode(bytes).body);
  return { bytes, def, key, body, valid: built.ok && opts.chainId === chainId };
}

/** Signs `bodyBytes` as given (canonical or not), so a mutated body reaches every check after the signature's. */
export function signBodyBytes(key: SigningKey, bodyBytes: Uint8Array): Uint8Array {
  return SignedTxCodec.encode({ body: bodyBytes, signature: key.sign(txSignBytes(bodyBytes)) });
}

export type TxShape = 'valid' | 'outer_mutation' | 'body_mutation' | 'payload_mutation' | 'random';

/** A transaction as the fuzzer sends it: generated, then mutated at one level (or not at all). */
export function fuzzTx(
  rng: Rng,
  registry: TxRegistry,
  keys: readonly SigningKey[],
  chainId: string,
  allowed: readonly string[],
): { base: GeneratedTx; bytes: Uint8Array; shape: TxShape } {
  const base = generateTx(rng, registry, keys, chainId, allowed);
  const other = generateTx(rng, registry, keys, chainId, allowed);
  const r = rng.int(20);
  if (r < 4) return { base, bytes: base.bytes, shape: 'valid' };
  if (r < 10) return { base, bytes: mutateN(rng, base.bytes, other.bytes).bytes, shape: 'outer_mutation' };
  if (r < 15) {
    const body = mutateN(rng, TxBodyCodec.encode(base.body), TxBodyCodec.encode(other.body)).bytes;
    return { base, bytes: signBodyBytes(base.key, body), shape: 'body_mutation' };
  }
  if (r < 19) {
    const payload = mutateN(rng, base.body.payload, other.body.payload).bytes;
    // The type sometimes swapped for another registered one: a payload read by the wrong schema.
    const type = rng.chance(0.2) ? rng.pick(registry.txDefinitions).type : base.body.type;
    return {
      base,
      bytes: signBodyBytes(base.key, TxBodyCodec.encode({ ...base.body, type, payload })),
      shape: 'payload_mutation',
    };
  }
  return {
    base,
    bytes: rng.chance(0.5) ? rng.bytes(rng.length(300)) : signBodyBytes(base.key, rng.bytes(rng.length(200))),
    shape: 'random',
  };
}
