import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { fromHex, toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';

export type P2pKeyErrorCode = 'p2p/key_corrupt';

/** File name of the node's libp2p identity in its home folder. */
export const P2P_KEY_FILE = 'p2p-key.json';

/**
 * The node's libp2p identity: an Ed25519 key, separate from the validator key (a leaked network
 * key lets someone impersonate the node's peer id, never sign blocks or votes). The file holds the
 * libp2p protobuf encoding in hex and the peer id it gives, checked on every load.
 */
interface P2pKeyFile {
  type: 'Ed25519';
  peerId: string;
  privateKey: string;
}

/** Loads the key at `path`, or creates it (owner-only, written to a temporary file and renamed). */
export async function loadOrCreateP2pKey(path: string): Promise<PrivateKey> {
  if (existsSync(path)) return loadP2pKey(path);
  const key = await generateKeyPair('Ed25519');
  const file: P2pKeyFile = {
    type: 'Ed25519',
    peerId: peerIdFromPrivateKey(key).toString(),
    privateKey: toHex(privateKeyToProtobuf(key)),
  };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(file, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // A crash before the rename leaves no key file, and the next start makes a new one.
  renameSync(tmp, path);
  return key;
}

export function loadP2pKey(path: string): PrivateKey {
  let key: PrivateKey;
  let file: P2pKeyFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as P2pKeyFile;
    key = privateKeyFromProtobuf(fromHex(file.privateKey));
  } catch (e) {
    throw new TributaryError('p2p/key_corrupt', `p2p key file ${path} is unreadable: ${(e as Error).message}`);
  }
  if (key.type !== 'Ed25519' || file.type !== 'Ed25519') {
    throw new TributaryError('p2p/key_corrupt', `p2p key file ${path} does not hold an Ed25519 key`);
  }
  if (peerIdFromPrivateKey(key).toString() !== file.peerId) {
    throw new TributaryError(
      'p2p/key_corrupt',
      `p2p key file ${path}: the key does not match the peer id recorded with it`,
    );
  }
  return key;
}
