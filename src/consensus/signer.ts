import { open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { verifyEd25519, type SigningKey } from '../crypto/ed25519.ts';
import { TributaryError } from '../errors.ts';

/*
 * Double-sign protection for a validator's consensus key. The signer remembers, on disk, the last
 * height/round/step it signed and refuses anything that would let a restarted node sign a second,
 * different message for a position it already signed, or go back to an earlier one.
 *
 * The rule, given the last signed position L and a request Q:
 *  - Q before L (height, then round, then step order)  -> refused (a regression code);
 *  - Q at L with the same sign bytes                  -> the saved signature (a re-send after a
 *                                                        crash between signing and sending);
 *  - Q at L with different bytes                       -> refused ('signer/conflicting_sign');
 *  - Q after L                                         -> signed, once the new L is durable.
 * Equality is on the exact bytes: our proposals and votes carry no timestamp, so there is no
 * field that may legitimately differ between two signatures of the same position. A proposal at
 * the same height and round for another block is therefore a conflict like any other.
 *
 * The file is the only memory: deleting it, or running two signers on one key with two files,
 * removes the protection. A file that cannot be read as a state of this key is refused, never
 * replaced.
 */

export type SignStep = 'proposal' | 'prevote' | 'precommit';

export type SignerErrorCode =
  | 'signer/height_regression'
  | 'signer/round_regression'
  | 'signer/step_regression'
  | 'signer/conflicting_sign'
  | 'signer/corrupt_state'
  | 'signer/bad_request'
  | 'signer/write_failed'
  | 'signer/closed';

export interface SignRequest {
  height: number;
  round: number;
  step: SignStep;
  signBytes: Uint8Array;
}

export interface SignPosition {
  height: number;
  round: number;
  step: SignStep;
}

const STATE_VERSION = 1;
const STEP_ORDER: Record<SignStep, number> = { proposal: 0, prevote: 1, precommit: 2 };

interface LastSign extends SignPosition {
  signBytes: Uint8Array;
  signature: Uint8Array;
}

/** The JSON on disk. Before the first signature only version and publicKey are present. */
interface StateFile {
  version: number;
  publicKey: string;
  height?: number;
  round?: number;
  step?: SignStep;
  signBytes?: string;
  signature?: string;
}

const FILE_KEYS_EMPTY = ['publicKey', 'version'];
const FILE_KEYS_SIGNED = ['height', 'publicKey', 'round', 'signBytes', 'signature', 'step', 'version'];

export class Signer {
  readonly publicKey: Uint8Array;
  readonly path: string;
  private readonly key: SigningKey;
  private last: LastSign | undefined;
  // Sign calls run one after another: each sees the state the previous one made durable.
  private queue: Promise<unknown> = Promise.resolve();
  // Set when a write failed part-way: what is on disk is unknown until the file is read again.
  private broken = false;
  private closed = false;

  private constructor(path: string, key: SigningKey, last: LastSign | undefined) {
    this.path = path;
    this.key = key;
    this.publicKey = key.publicKey.slice();
    this.last = last;
  }

  /**
   * Reads the state file at `path`, or creates it (durably, bound to this key) when there is none.
   * The folder must exist. Refuses with 'signer/corrupt_state' a file that does not parse, has an
   * unknown version, belongs to another key, or whose saved signature does not verify.
   */
  static async open(path: string, key: SigningKey): Promise<Signer> {
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text === undefined) {
      const signer = new Signer(path, key, undefined);
      await writeDurably(path, encodeState(key.publicKey, undefined));
      return signer;
    }
    return new Signer(path, key, decodeState(path, text, key.publicKey));
  }

  /** The last position signed, if any (a copy). */
  get lastSigned(): SignPosition | undefined {
    const last = this.last;
    return last === undefined ? undefined : { height: last.height, round: last.round, step: last.step };
  }

  /**
   * Signs after the new last-signed state is durable (temp file, fsync, rename, fsync of the
   * folder). The same position with identical bytes returns the saved signature without writing;
   * the same position with other bytes, or any earlier position, throws and signs nothing.
   */
  sign(req: SignRequest): Promise<Uint8Array> {
    if (this.closed)
      return Promise.reject(new TributaryError<SignerErrorCode>('signer/closed', 'the signer is closed'));
    const run = this.queue.then(() => this.signNow(req));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Whether a state write failed (disk full, I/O error): signing refuses until `recover`. */
  get failed(): boolean {
    return this.broken;
  }

  /**
   * After a failed write: reads the state file again and goes on from what it holds. The write
   * replaces the file by rename, so the file is either the state before or the state after the
   * failed sign; whichever it is, it is what must not be contradicted. Throws (staying failed)
   * while the file cannot be read.
   */
  recover(): Promise<void> {
    const run = this.queue.then(async () => {
      if (!this.broken) return;
      this.last = decodeState(this.path, await readFile(this.path, 'utf8'), this.publicKey);
      this.broken = false;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Refuses any further sign call ('signer/closed') and waits for those already made. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }

  private async signNow(req: SignRequest): Promise<Uint8Array> {
    if (this.broken) {
      throw new TributaryError<SignerErrorCode>(
        'signer/write_failed',
        'an earlier state write failed; reopen the signer',
      );
    }
    checkRequest(req);
    const last = this.last;
    if (last !== undefined) {
      const order = comparePositions(req, last);
      if (order < 0) throw regression(req, last);
      if (order === 0) {
        if (bytesEqual(req.signBytes, last.signBytes)) return last.signature.slice();
        throw new TributaryError<SignerErrorCode>(
          'signer/conflicting_sign',
          `already signed other bytes at height ${last.height} round ${last.round} ${last.step}`,
          { height: last.height, round: last.round, step: last.step },
        );
      }
    }
    const signBytes = req.signBytes.slice();
    const next: LastSign = {
      height: req.height,
      round: req.round,
      step: req.step,
      signBytes,
      signature: this.key.sign(signBytes),
    };
    try {
      await writeDurably(this.path, encodeState(this.publicKey, next));
    } catch (e) {
      this.broken = true;
      throw new TributaryError<SignerErrorCode>(
        'signer/write_failed',
        `could not save the signer state: ${(e as Error).message}`,
      );
    }
    this.last = next;
    return next.signature.slice();
  }
}

/** Negative when a is before b, zero at the same position, positive after. */
export function comparePositions(a: SignPosition, b: SignPosition): number {
  if (a.height !== b.height) return a.height < b.height ? -1 : 1;
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  return STEP_ORDER[a.step] - STEP_ORDER[b.step];
}

function regression(req: SignPosition, last: SignPosition): TributaryError<SignerErrorCode> {
  const data = { height: last.height, round: last.round, step: last.step };
  const at = `last signed height ${last.height} round ${last.round} ${last.step}`;
  if (req.height < last.height)
    return new TributaryError('signer/height_regression', `height ${req.height} is before the ${at}`, data);
  if (req.round < last.round)
    return new TributaryError('signer/round_regression', `round ${req.round} is before the ${at}`, data);
  return new TributaryError('signer/step_regression', `step ${req.step} is before the ${at}`, data);
}

function checkRequest(req: SignRequest): void {
  const bad = (what: string): never => {
    throw new TributaryError<SignerErrorCode>('signer/bad_request', what);
  };
  if (!isPositionNumber(req.height)) bad('height must be a non-negative safe integer');
  if (!isPositionNumber(req.round)) bad('round must be a non-negative safe integer');
  if (!Object.hasOwn(STEP_ORDER, req.step)) bad('step must be proposal, prevote or precommit');
  if (!(req.signBytes instanceof Uint8Array)) bad('signBytes must be bytes');
}

function isPositionNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function encodeState(publicKey: Uint8Array, last: LastSign | undefined): string {
  const file: StateFile = { version: STATE_VERSION, publicKey: toHex(publicKey) };
  if (last !== undefined) {
    file.height = last.height;
    file.round = last.round;
    file.step = last.step;
    file.signBytes = toHex(last.signBytes);
    file.signature = toHex(last.signature);
  }
  return `${JSON.stringify(file)}\n`;
}

function decodeState(path: string, text: string, publicKey: Uint8Array): LastSign | undefined {
  const corrupt = (why: string): never => {
    throw new TributaryError<SignerErrorCode>(
      'signer/corrupt_state',
      `signer state ${path}: ${why}; refusing to sign (restore the file, do not delete it)`,
      { path },
    );
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return corrupt('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return corrupt('not a JSON object');
  const file = parsed as Record<string, unknown>;
  if (file.version !== STATE_VERSION) return corrupt(`unknown version ${JSON.stringify(file.version)}`);
  const keys = Object.keys(file).sort().join(',');
  const signed = keys === FILE_KEYS_SIGNED.join(',');
  if (!signed && keys !== FILE_KEYS_EMPTY.join(',')) return corrupt(`unexpected fields ${keys}`);
  const filePublicKey = fromHex(file.publicKey);
  if (filePublicKey === undefined || !bytesEqual(filePublicKey, publicKey)) return corrupt('written for another key');
  if (!signed) return undefined;
  const { height, round, step } = file;
  if (!isPositionNumber(height) || !isPositionNumber(round)) return corrupt('bad height or round');
  if (typeof step !== 'string' || !Object.hasOwn(STEP_ORDER, step)) return corrupt('bad step');
  const signBytes = fromHex(file.signBytes);
  const signature = fromHex(file.signature);
  if (signBytes === undefined || signature === undefined) return corrupt('bad hex');
  if (!verifyEd25519(publicKey, signBytes, signature))
    return corrupt('the saved signature does not verify with this key');
  return { height, round, step: step as SignStep, signBytes, signature };
}

/**
 * Replaces `path` so that after a crash at any point it holds either the old or the new content,
 * and once this resolves the new content survives power loss: write a temp file, fsync it, rename
 * it over the target, fsync the folder (the rename lives in the folder's entries).
 */
async function writeDurably(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.tmp`);
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(content, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function fromHex(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(value)) return undefined;
  return new Uint8Array(Buffer.from(value, 'hex'));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
