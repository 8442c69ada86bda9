import { parentPort } from 'node:worker_threads';
import { verifyEd25519 } from './ed25519.ts';

/** Worker side of SignatureVerifier: verifies a batch with the same function (rule checks, then libsodium or OpenSSL) the main thread uses. */
export interface VerifyBatch {
  id: number;
  count: number;
  publicKeys: Uint8Array; // count * 32
  signatures: Uint8Array; // count * 64
  messages: Uint8Array; // concatenated
  offsets: Uint32Array; // count + 1
}

parentPort!.on('message', (batch: VerifyBatch) => {
  const results = new Uint8Array(batch.count);
  for (let i = 0; i < batch.count; i++) {
    const ok = verifyEd25519(
      batch.publicKeys.subarray(i * 32, i * 32 + 32),
      batch.messages.subarray(batch.offsets[i]!, batch.offsets[i + 1]!),
      batch.signatures.subarray(i * 64, i * 64 + 64),
    );
    results[i] = ok ? 1 : 0;
  }
  parentPort!.postMessage({ id: batch.id, results }, [results.buffer]);
});
