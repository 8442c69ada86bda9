import { SignedTxCodec, TxBodyCodec } from '../../src/codec/core.ts';
import { bytesEqual } from '../../src/crypto/hash.ts';
import { defaultRegistry } from '../../src/modules.ts';
import { DEFAULT_PARAMS } from '../../src/state/params.ts';
import type { TxRegistry } from '../../src/state/registry.ts';
import { decodeTx } from '../../src/state/tx.ts';
import { Finding, guard, type FuzzTarget } from './harness.ts';
import { fuzzKeys, fuzzTx } from './txs.ts';
import { canonicalProblem } from './wire.ts';

export const FUZZ_CHAIN_ID = 'fuzz-chain';

/** What `decodeTx` may throw: its own codes and those of the registered types' validateBasic. */
export function txErrorPrefixes(registry: TxRegistry): string[] {
  return ['tx/', ...registry.modules.map((m) => `${m.name}/`)];
}

/**
 * `decodeTx` with the node's registry: every refusal is a coded error of the tx path, a
 * generated valid transaction is accepted, a transaction whose signed bytes were changed is
 * refused, and whatever is accepted is canonical at every level (envelope, body, payload).
 */
export function txTarget(): FuzzTarget {
  return {
    name: 'decodeTx',
    weight: 0.3,
    async open() {
      const registry = defaultRegistry();
      const keys = fuzzKeys(4);
      const allowed = txErrorPrefixes(registry);
      const opts = { chainId: FUZZ_CHAIN_ID, maxTxBytes: DEFAULT_PARAMS.maxTxBytes };
      return {
        async close() {},
        async one(rng, slot) {
          const { base, bytes, shape } = fuzzTx(rng, registry, keys, FUZZ_CHAIN_ID, allowed);
          slot.input = bytes;
          const result = guard(allowed, 'decodeTx', () => decodeTx(bytes, registry, opts));
          const unchanged = bytesEqual(bytes, base.bytes);
          if (!result.ok) {
            if (unchanged && base.valid)
              throw new Finding('rejected_valid', `a valid ${base.def.type} was refused with ${result.code}`);
            return `${shape}:${result.code}`;
          }
          if (shape === 'outer_mutation' && !unchanged)
            throw new Finding('accepted_malformed', 'decodeTx accepted signed bytes that were changed after signing');
          const tx = result.value;
          const problem =
            canonicalProblem(SignedTxCodec.plan, bytes) ??
            canonicalProblem(TxBodyCodec.plan, SignedTxCodec.decode(bytes).body) ??
            canonicalProblem(tx.definition.codec.plan, tx.body.payload);
          if (problem) throw new Finding('non_canonical_accept', `decodeTx accepted ${problem}`);
          return `${shape}:accepted`;
        },
      };
    },
  };
}
