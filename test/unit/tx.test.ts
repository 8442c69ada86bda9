import { describe, expect, it } from 'vitest';
import { SignedTxCodec, TxBodyCodec } from '../../src/codec/core.ts';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { defaultRegistry } from '../../src/modules.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx, decodeTx, signTx } from '../../src/state/tx.ts';
import { codeOfSync as codeOf } from '../helpers/codes.ts';

const registry = defaultRegistry();
const opts = { chainId: 'test-chain', maxTxBytes: 4096 };
const key = SigningKey.generate();
const to = addressFromPublicKey(SigningKey.generate().publicKey);

describe('decodeTx: one check for every path', () => {
  const good = buildTx(key, transferTx, { to, amount: 5n }, { chainId: 'test-chain', nonce: 0, fee: 1000n });

  it('accepts a well-formed signed transfer', () => {
    const tx = decodeTx(good, registry, opts);
    expect(tx.definition.type).toBe('bank/transfer');
    expect(tx.sender).toEqual(addressFromPublicKey(key.publicKey));
    expect(tx.message).toEqual({ to, amount: 5n });
  });

  it('rejects oversized bytes before decoding', () => {
    expect(codeOf(() => decodeTx(new Uint8Array(5000), registry, opts))).toBe('tx/too_large');
  });

  it('rejects malformed and non-canonical envelopes', () => {
    expect(codeOf(() => decodeTx(Uint8Array.of(1, 2, 3), registry, opts))).toBe('tx/malformed');
    expect(codeOf(() => decodeTx(Uint8Array.of(...good, 0x18, 0x00), registry, opts))).toBe('tx/malformed');
  });

  it('rejects a bad signature', () => {
    const signed = SignedTxCodec.decode(good);
    const sig = signed.signature.slice();
    sig[0]! ^= 0xff;
    expect(codeOf(() => decodeTx(SignedTxCodec.encode({ ...signed, signature: sig }), registry, opts))).toBe(
      'tx/bad_signature',
    );
    // a signature by another key over the same body
    const other = SigningKey.generate();
    expect(
      codeOf(() => decodeTx(SignedTxCodec.encode({ ...signed, signature: other.sign(signed.body) }), registry, opts)),
    ).toBe('tx/bad_signature');
  });

  it('rejects another chain id', () => {
    const wrong = buildTx(key, transferTx, { to, amount: 5n }, { chainId: 'other-chain', nonce: 0, fee: 1000n });
    expect(codeOf(() => decodeTx(wrong, registry, opts))).toBe('tx/wrong_chain_id');
  });

  it('rejects an unknown type and a malformed payload', () => {
    const unknown = signTx(key, {
      chainId: 'test-chain',
      nonce: 0,
      fee: 1n,
      type: 'nope/nothing',
      payload: new Uint8Array(0),
    });
    expect(codeOf(() => decodeTx(unknown, registry, opts))).toBe('tx/unknown_type');
    const badPayload = signTx(key, {
      chainId: 'test-chain',
      nonce: 0,
      fee: 1n,
      type: 'bank/transfer',
      payload: Uint8Array.of(0xff),
    });
    expect(codeOf(() => decodeTx(badPayload, registry, opts))).toBe('tx/malformed');
  });

  it("runs the type's stateless checks", () => {
    const zero = signTx(key, {
      chainId: 'test-chain',
      nonce: 0,
      fee: 1n,
      type: 'bank/transfer',
      payload: transferTx.codec.encode({ to, amount: 0n }),
    });
    expect(codeOf(() => decodeTx(zero, registry, opts))).toBe('bank/invalid_amount');
  });

  it('rejects a sender key of the wrong length', () => {
    const body = TxBodyCodec.encode({
      chain_id: 'test-chain',
      sender_pubkey: new Uint8Array(31),
      nonce: 0,
      fee: 1n,
      type: 'bank/transfer',
      payload: new Uint8Array(0),
    });
    expect(codeOf(() => decodeTx(SignedTxCodec.encode({ body, signature: new Uint8Array(64) }), registry, opts))).toBe(
      'tx/malformed',
    );
  });
});
