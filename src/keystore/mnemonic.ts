import { generateMnemonic as bip39Generate, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { SigningKey } from '../crypto/ed25519.ts';
import { TributaryError } from '../errors.ts';
import { DERIVATION_SCHEME, type Derivation } from './keystore.ts';
import { derivePath } from './slip10.ts';

/*
 * BIP-39 mnemonics (English list, 24 words for new keys) to Ed25519 keys:
 *   seed = BIP-39 PBKDF2 seed of the words (empty passphrase), 64 bytes
 *   key  = SLIP-0010 Ed25519 at DEFAULT_PATH, hardened only (slip10.ts)
 * Coin type 1 is SLIP-0044's "Testnet (all coins)": Tributary has no registered coin type. The path
 * is stored in each key file, so a later default changes nothing for existing keys.
 */

export type MnemonicErrorCode = 'keystore/bad_mnemonic';

export const DEFAULT_PATH = "m/44'/1'/0'/0'/0'";

export function newMnemonic(): string {
  return bip39Generate(wordlist, 256);
}

/** Words separated by any whitespace, any case; the BIP-39 checksum must hold. */
export function normalizeMnemonic(text: string): string {
  const words = text.trim().toLowerCase().split(/\s+/);
  const mnemonic = words.join(' ');
  if (!validateMnemonic(mnemonic, wordlist)) {
    throw new TributaryError(
      'keystore/bad_mnemonic',
      `not a valid BIP-39 English mnemonic (${words.length} words; 12, 15, 18, 21 or 24 with a correct checksum expected)`,
    );
  }
  return mnemonic;
}

export function keyFromMnemonic(text: string, path = DEFAULT_PATH): { key: SigningKey; derivation: Derivation } {
  const seed = mnemonicToSeedSync(normalizeMnemonic(text));
  return { key: new SigningKey(derivePath(seed, path).key), derivation: { scheme: DERIVATION_SCHEME, path } };
}
