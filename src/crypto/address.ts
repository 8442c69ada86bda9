import { bech32 } from '@scure/base';
import { boundedMemo, sha256, utf8 } from './hash.ts';
import { TributaryError } from '../errors.ts';

/*
 * An address is the first 20 bytes of SHA-256 over the Ed25519 public key. Its text form is
 * bech32 (BIP-173) with the prefix "trib": "trib1" followed by the data and a 6-character
 * checksum that catches any single typo and most transpositions. Module accounts (escrows, the
 * fee collector) take their address from the module name instead, so no private key exists.
 */

export type AddressErrorCode = 'address/invalid';

export const ADDRESS_LENGTH = 20;
export const ADDRESS_PREFIX = 'trib';

export type Address = Uint8Array;

export function addressFromPublicKey(publicKey: Uint8Array): Address {
  return sha256(publicKey).slice(0, ADDRESS_LENGTH);
}

export function moduleAddress(name: string): Address {
  return sha256(utf8.encode('tributary/module/'), utf8.encode(name)).slice(0, ADDRESS_LENGTH);
}

/*
 * Text forms by address bytes: every transaction's events and views name its sender and
 * recipients, and bech32 costs microseconds where a lookup costs a tenth of one.
 */
const addressText = boundedMemo(65_536, (address) => bech32.encode(ADDRESS_PREFIX, bech32.toWords(address)));

export function formatAddress(address: Address): string {
  if (address.length !== ADDRESS_LENGTH)
    throw new TributaryError('address/invalid', `an address is ${ADDRESS_LENGTH} bytes`);
  return addressText(address);
}

export function parseAddress(text: string): Address {
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32.decode(text as `${string}1${string}`);
  } catch (e) {
    throw new TributaryError('address/invalid', `invalid address "${text}": ${(e as Error).message}`);
  }
  if (decoded.prefix !== ADDRESS_PREFIX) {
    throw new TributaryError('address/invalid', `invalid address "${text}": prefix must be "${ADDRESS_PREFIX}"`);
  }
  const bytes = bech32.fromWords(decoded.words);
  if (bytes.length !== ADDRESS_LENGTH) {
    throw new TributaryError('address/invalid', `invalid address "${text}": wrong length`);
  }
  return bytes;
}
