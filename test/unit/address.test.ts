import { describe, expect, it } from 'vitest';
import { addressFromPublicKey, formatAddress, moduleAddress, parseAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { TributaryError } from '../../src/errors.ts';
import { merkleRoot } from '../../src/crypto/merkle.ts';

describe('addresses', () => {
  it('round-trip through the checksummed text form', () => {
    const a = addressFromPublicKey(SigningKey.generate().publicKey);
    const text = formatAddress(a);
    expect(text).toMatch(/^trib1[02-9ac-hj-np-z]{38}$/);
    expect(parseAddress(text)).toEqual(a);
  });

  it('detect a single-character typo', () => {
    const text = formatAddress(moduleAddress('fee_collector'));
    const i = 10;
    const typo = text.slice(0, i) + (text[i] === 'q' ? 'p' : 'q') + text.slice(i + 1);
    expect(() => parseAddress(typo)).toThrow(TributaryError);
    try {
      parseAddress(typo);
    } catch (e) {
      expect((e as TributaryError).code).toBe('address/invalid');
    }
  });

  it('reject another prefix and wrong lengths', () => {
    expect(() => parseAddress('cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu')).toThrow(/prefix/);
    expect(() => parseAddress('trib1')).toThrow();
  });
});

describe('merkleRoot', () => {
  it('depends on every item and its position, and an odd list is not its padded twin', () => {
    const items = [1, 2, 3].map((i) => Uint8Array.of(i));
    const r = merkleRoot(items);
    expect(merkleRoot([items[1]!, items[0]!, items[2]!])).not.toEqual(r);
    expect(merkleRoot([...items, items[2]!])).not.toEqual(r);
    expect(merkleRoot([])).not.toEqual(merkleRoot([new Uint8Array(0)]));
  });
});
