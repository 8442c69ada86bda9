import type { Commit } from '../codec/core.ts';
import { addressFromPublicKey, parseAddress } from '../crypto/address.ts';
import { fromHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import type { LightSource } from '../light/verify.ts';
import type { RpcClient } from '../rpc/client.ts';
import type { Validator } from '../state/chainconfig/records.ts';

export interface CommitView {
  height: number;
  round: number;
  blockHash: string;
  signatures: { validator: string; signature: string }[];
}

interface ValidatorsView {
  validators: { name: string; publicKey: string; power: number }[];
}

export function commitFromView(c: CommitView): Commit {
  return {
    height: c.height,
    round: c.round,
    block_hash: fromHex(c.blockHash),
    signatures: c.signatures.map((s) => ({ validator: parseAddress(s.validator), signature: fromHex(s.signature) })),
  };
}

function malformed(what: string): never {
  throw new TributaryError('rpc/error', `the node sent a malformed ${what}`);
}

/**
 * The light client's data over JSON-RPC (`chain_getBlock`'s headerBytes, `chain_getCommit`,
 * `chain_getValidators`). Only shapes are checked here; what the data is worth is decided by
 * `src/light/verify.ts`. Addresses are derived from the public keys rather than taken from the node.
 */
export function rpcLightSource(rpc: RpcClient): LightSource {
  return {
    async certifiedHeader(height) {
      const [block, commit] = await Promise.all([
        rpc.call<{ headerBytes?: unknown } | null>('chain_getBlock', [height]),
        rpc.call<CommitView | null>('chain_getCommit', [height]),
      ]);
      if (!block) throw new TributaryError('rpc/not_found', `the node has no block ${height}`);
      if (!commit) throw new TributaryError('rpc/not_found', `the node has no commit certificate for block ${height}`);
      if (typeof block.headerBytes !== 'string') malformed(`block ${height}`);
      if (!Array.isArray(commit.signatures) || typeof commit.blockHash !== 'string') {
        malformed(`commit certificate for block ${height}`);
      }
      return { headerBytes: fromHex(block.headerBytes), commit: commitFromView(commit) };
    },
    async validators(height) {
      const view = await rpc.call<ValidatorsView | null>('chain_getValidators', [height]);
      if (!view || !Array.isArray(view.validators)) malformed(`validator set for height ${height}`);
      return view.validators.map((v): Validator => {
        if (typeof v.publicKey !== 'string' || !Number.isSafeInteger(v.power)) {
          malformed(`validator set for height ${height}`);
        }
        const publicKey = fromHex(v.publicKey);
        return { name: String(v.name ?? ''), publicKey, address: addressFromPublicKey(publicKey), power: v.power };
      });
    },
  };
}
