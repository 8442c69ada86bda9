import {
  ed25519Backend,
  openSslVerdictUnchecked,
  sodiumVerdictUnchecked,
  verifyEd25519,
  verifyEd25519Portable,
  verifyEd25519With,
} from '../../src/crypto/ed25519.ts';

type Verify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

/** Every way the code can verify an Ed25519 signature, each of which must give the rule's verdict. */
export const ED25519_PATHS: Record<string, Verify> = {
  [`verifyEd25519 (the hot path: ${ed25519Backend()} here)`]: verifyEd25519,
  'the rule, then libsodium': (pk, msg, sig) => verifyEd25519With('libsodium', pk, msg, sig),
  'the rule, then OpenSSL (where sodium-native has no build)': (pk, msg, sig) =>
    verifyEd25519With('openssl', pk, msg, sig),
  '@noble/curves cofactorless (portable)': verifyEd25519Portable,
};

/** Each library's verdict on the equation alone, without the rule's checks. */
export const ED25519_LIBRARIES: Record<string, Verify> = {
  libsodium: sodiumVerdictUnchecked,
  OpenSSL: openSslVerdictUnchecked,
};
