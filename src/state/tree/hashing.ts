/**
 * SHA-256 for the tree's hot paths (format constants and helpers live in primitives.ts).
 */
import { hash } from 'node:crypto';
import { HASH_LEN } from './primitives.ts';
import { JS_SHA256_MAX_INPUT, sha256Into } from '../../crypto/sha256.ts';

export * from './primitives.ts';

/**
 * SHA-256. Short inputs (keys, values, leaves) use the allocation-free JS implementation; long ones
 * (node records, big values) node:crypto's one-shot `hash`, whose native speed wins past two blocks
 * (JS_SHA256_MAX_INPUT).
 */
export function sha256(data: Uint8Array): Uint8Array {
  if (data.length <= JS_SHA256_MAX_INPUT) {
    const out = new Uint8Array(HASH_LEN);
    sha256Into(data, 0, data.length, out, 0);
    return out;
  }
  // A Buffer is a Uint8Array; not re-wrapped, to save an object per digest.
  return hash('sha256', data, 'buffer');
}

/** SHA-256 of data[start..end) without making a view for short inputs. */
export function sha256Range(data: Uint8Array, start: number, end: number): Uint8Array {
  if (end - start <= JS_SHA256_MAX_INPUT) {
    const out = new Uint8Array(HASH_LEN);
    sha256Into(data, start, end, out, 0);
    return out;
  }
  return hash('sha256', data.subarray(start, end), 'buffer');
}
