import { SignedTxCodec, TxBodyCodec, type SignedTx, type TxBody } from '../codec/core.ts';
import { addressFromPublicKey, type Address } from '../crypto/address.ts';
import { type SigningKey, verifyEd25519, PUBLIC_KEY_LENGTH } from '../crypto/ed25519.ts';
import { concatBytes, sha256, utf8 } from '../crypto/hash.ts';
import { TributaryError, isTributaryError } from '../errors.ts';
import type { AnyTxDefinition, TxDefinition } from './module.ts';
import type { TxRegistry } from './registry.ts';

export type TxErrorCode =
  | 'tx/too_large'
  | 'tx/malformed'
  | 'tx/bad_signature'
  | 'tx/wrong_chain_id'
  | 'tx/unknown_type'
  | 'tx/nonce_too_low'
  | 'tx/nonce_too_high'
  | 'tx/fee_too_low'
  | 'tx/insufficient_fee_balance'
  | 'tx/internal_error';

/** Domain separation: a transaction signature can never be replayed as a vote or a header. */
const TX_SIGN_DOMAIN = utf8.encode('tributary/tx/v1\0');

export function txSignBytes(bodyBytes: Uint8Array): Uint8Array {
  return concatBytes(TX_SIGN_DOMAIN, bodyBytes);
}

export function txHash(signedTxBytes: Uint8Array): Uint8Array {
  return sha256(signedTxBytes);
}

/** A transaction that passed every stateless check. */
export interface DecodedTx {
  readonly bytes: Uint8Array;
  readonly hash: Uint8Array;
  readonly body: TxBody;
  readonly sender: Address;
  readonly definition: AnyTxDefinition;
  readonly message: unknown;
  /** Exact signed bytes and signature, for verifying off the main thread (`verifyTxSignature`). */
  readonly signBytes: Uint8Array;
  readonly signature: Uint8Array;
}

export interface SignTxInput {
  chainId: string;
  nonce: number;
  fee: bigint;
  type: string;
  payload: Uint8Array;
}

export function signTx(key: SigningKey, input: SignTxInput): Uint8Array {
  const body = TxBodyCodec.encode({
    chain_id: input.chainId,
    sender_pubkey: key.publicKey,
    nonce: input.nonce,
    fee: input.fee,
    type: input.type,
    payload: input.payload,
  });
  return SignedTxCodec.encode({ body, signature: key.sign(txSignBytes(body)) });
}

/** Encode a module message and sign it in one step. */
export function buildTx<M>(
  key: SigningKey,
  def: TxDefinition<M>,
  message: M,
  opts: Omit<SignTxInput, 'type' | 'payload'>,
): Uint8Array {
  def.validateBasic(message);
  return signTx(key, { ...opts, type: def.type, payload: def.codec.encode(message) });
}

/**
 * Every stateless check, cheapest first: size, envelope, chain id, type, payload, the type's own
 * validateBasic, and last the signature (the expensive one). One function for RPC, mempool, gossip
 * and block validation, so every path rejects the same bytes with the same code.
 */
export function decodeTx(
  bytes: Uint8Array,
  registry: TxRegistry,
  opts: { chainId: string; maxTxBytes: number; verifySignature?: boolean },
): DecodedTx {
  if (bytes.length > opts.maxTxBytes) {
    throw new TributaryError('tx/too_large', `transaction is ${bytes.length} bytes, limit ${opts.maxTxBytes}`);
  }
  let signed: SignedTx;
  let body: TxBody;
  try {
    signed = SignedTxCodec.decode(bytes);
    body = TxBodyCodec.decode(signed.body);
  } catch (e) {
    throw new TributaryError('tx/malformed', `malformed transaction: ${(e as Error).message}`, {
      cause: isTributaryError(e) ? e.code : undefined,
    });
  }
  if (body.sender_pubkey.length !== PUBLIC_KEY_LENGTH) {
    throw new TributaryError('tx/malformed', 'sender public key must be 32 bytes');
  }
  if (body.chain_id !== opts.chainId) {
    throw new TributaryError(
      'tx/wrong_chain_id',
      `transaction is for chain "${body.chain_id}", this is "${opts.chainId}"`,
    );
  }
  const definition = registry.get(body.type);
  let message: unknown;
  try {
    message = definition.codec.decode(body.payload);
  } catch (e) {
    throw new TributaryError('tx/malformed', `malformed ${body.type} payload: ${(e as Error).message}`);
  }
  definition.validateBasic(message);
  const tx: DecodedTx = {
    bytes,
    hash: txHash(bytes),
    body,
    sender: addressFromPublicKey(body.sender_pubkey),
    definition,
    message,
    signBytes: txSignBytes(signed.body),
    signature: signed.signature,
  };
  if (opts.verifySignature !== false && !verifyEd25519(body.sender_pubkey, tx.signBytes, tx.signature))
    throw badSignature();
  return tx;
}

export function badSignature(): TributaryError {
  return new TributaryError('tx/bad_signature', 'signature does not verify against the sender key');
}
