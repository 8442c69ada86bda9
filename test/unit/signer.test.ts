import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Signer, type SignRequest, type SignStep } from '../../src/consensus/signer.ts';
import { SigningKey, verifyEd25519 } from '../../src/crypto/ed25519.ts';
import { tempHome } from '../helpers/process.ts';
import { codeOf } from '../helpers/codes.ts';

const dirs: string[] = [];
function stateFile(): string {
  const dir = tempHome('tributary-signer-');
  dirs.push(dir);
  return join(dir, 'signer-state.json');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const key = new SigningKey(new Uint8Array(32).fill(7));
const otherKey = new SigningKey(new Uint8Array(32).fill(9));
const bytes = (s: string) => new TextEncoder().encode(s);
const req = (height: number, round: number, step: SignStep, what = `block-${height}-${round}`): SignRequest => ({
  height,
  round,
  step,
  signBytes: bytes(`${what}/${step}`),
});

/** Bytes and inode of the state file: a rewrite goes through a temp file and rename, so a new inode. */
function snapshot(path: string): { bytes: string; ino: number } {
  return { bytes: readFileSync(path, 'hex'), ino: statSync(path).ino };
}

describe('Signer', () => {
  it('creates a state file bound to the key on first open, with nothing signed', async () => {
    const path = stateFile();
    const signer = await Signer.open(path, key);
    expect(signer.lastSigned).toBeUndefined();
    expect(Buffer.from(signer.publicKey).equals(Buffer.from(key.publicKey))).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      version: 1,
      publicKey: Buffer.from(key.publicKey).toString('hex'),
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // The fresh empty file belongs to this key: another key is refused even before any signature.
    expect(await codeOf(Signer.open(path, otherKey))).toBe('signer/corrupt_state');
  });

  it('signs forward through step, round and height; each signature verifies and is saved', async () => {
    const path = stateFile();
    const signer = await Signer.open(path, key);
    const sequence = [
      req(1, 0, 'proposal'),
      req(1, 0, 'prevote'),
      req(1, 0, 'precommit'),
      req(1, 2, 'prevote'),
      req(3, 0, 'prevote'),
      req(3, 1, 'proposal'),
    ];
    for (const r of sequence) {
      const signature = await signer.sign(r);
      expect(verifyEd25519(key.publicKey, r.signBytes, signature)).toBe(true);
      expect(signer.lastSigned).toEqual({ height: r.height, round: r.round, step: r.step });
      const saved = JSON.parse(readFileSync(path, 'utf8'));
      expect(saved).toMatchObject({ version: 1, height: r.height, round: r.round, step: r.step });
      expect(saved.signBytes).toBe(Buffer.from(r.signBytes).toString('hex'));
      expect(saved.signature).toBe(Buffer.from(signature).toString('hex'));
    }
    // No temp file is left behind.
    expect(readdirSync(join(path, '..'))).toEqual(['signer-state.json']);
  });

  it('refuses every regression with its code and writes nothing', async () => {
    const path = stateFile();
    const signer = await Signer.open(path, key);
    await signer.sign(req(5, 2, 'prevote'));
    const before = snapshot(path);
    expect(await codeOf(signer.sign(req(4, 9, 'precommit')))).toBe('signer/height_regression');
    expect(await codeOf(signer.sign(req(0, 0, 'proposal')))).toBe('signer/height_regression');
    expect(await codeOf(signer.sign(req(5, 1, 'precommit')))).toBe('signer/round_regression');
    expect(await codeOf(signer.sign(req(5, 2, 'proposal')))).toBe('signer/step_regression');
    expect(snapshot(path)).toEqual(before);
    expect(signer.lastSigned).toEqual({ height: 5, round: 2, step: 'prevote' });
  });

  it('the same request returns the identical saved signature without writing; other bytes at the same position are refused', async () => {
    const path = stateFile();
    const signer = await Signer.open(path, key);
    const first = await signer.sign(req(7, 0, 'precommit', 'block-A'));
    const before = snapshot(path);
    expect(Buffer.from(await signer.sign(req(7, 0, 'precommit', 'block-A'))).equals(Buffer.from(first))).toBe(true);
    expect(await codeOf(signer.sign(req(7, 0, 'precommit', 'block-B')))).toBe('signer/conflicting_sign');
    // A proposal for another block at the same height and round is a conflict as well.
    await signer.sign(req(8, 0, 'proposal', 'block-A'));
    const afterProposal = snapshot(path);
    expect(await codeOf(signer.sign(req(8, 0, 'proposal', 'block-B')))).toBe('signer/conflicting_sign');
    expect(snapshot(path)).toEqual(afterProposal);
    expect(afterProposal.ino).not.toBe(before.ino);
  });

  it('after close and reopen keeps refusing regressions and conflicts, and re-sends the saved signature', async () => {
    const path = stateFile();
    const signer = await Signer.open(path, key);
    const signature = await signer.sign(req(10, 3, 'prevote', 'block-A'));
    await signer.close();
    expect(await codeOf(signer.sign(req(11, 0, 'proposal')))).toBe('signer/closed');

    const reopened = await Signer.open(path, key);
    expect(reopened.lastSigned).toEqual({ height: 10, round: 3, step: 'prevote' });
    const before = snapshot(path);
    expect(await codeOf(reopened.sign(req(10, 3, 'prevote', 'block-B')))).toBe('signer/conflicting_sign');
    expect(await codeOf(reopened.sign(req(10, 3, 'proposal', 'block-A')))).toBe('signer/step_regression');
    expect(await codeOf(reopened.sign(req(10, 2, 'precommit', 'block-A')))).toBe('signer/round_regression');
    expect(await codeOf(reopened.sign(req(9, 3, 'precommit', 'block-A')))).toBe('signer/height_regression');
    expect(Buffer.from(await reopened.sign(req(10, 3, 'prevote', 'block-A'))).equals(Buffer.from(signature))).toBe(
      true,
    );
    expect(snapshot(path)).toEqual(before);
    await reopened.sign(req(10, 3, 'precommit', 'block-A'));
    expect(reopened.lastSigned).toEqual({ height: 10, round: 3, step: 'precommit' });
  });

  it('refuses, without changing it, a state file that does not parse, has an unknown version, another key, or a bad signature', async () => {
    const path = stateFile();
    const signer = await Signer.open(path, key);
    await signer.sign(req(4, 0, 'precommit'));
    const good = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const flipped = Buffer.from(good.signature as string, 'hex');
    flipped[0] = flipped[0]! ^ 1;
    const cases: Array<[string, string]> = [
      ['truncated', JSON.stringify(good).slice(0, 40)],
      ['empty', ''],
      ['not an object', '[1]'],
      ['unknown version', JSON.stringify({ ...good, version: 2 })],
      ['no version', JSON.stringify({ ...good, version: undefined })],
      ['unknown field', JSON.stringify({ ...good, extra: 1 })],
      ['missing signature', JSON.stringify({ ...good, signature: undefined })],
      ['bad step', JSON.stringify({ ...good, step: 'commit' })],
      ['negative height', JSON.stringify({ ...good, height: -1 })],
      ['fractional round', JSON.stringify({ ...good, round: 0.5 })],
      ['bad hex', JSON.stringify({ ...good, signBytes: 'zz' })],
      ['signature over other bytes', JSON.stringify({ ...good, signBytes: Buffer.from('other').toString('hex') })],
      ['flipped signature', JSON.stringify({ ...good, signature: flipped.toString('hex') })],
      [
        'signed by another key',
        JSON.stringify({
          ...good,
          publicKey: Buffer.from(otherKey.publicKey).toString('hex'),
          signature: Buffer.from(otherKey.sign(Buffer.from(good.signBytes as string, 'hex'))).toString('hex'),
        }),
      ],
    ];
    for (const [name, text] of cases) {
      writeFileSync(path, text);
      const before = snapshot(path);
      expect(await codeOf(Signer.open(path, key)), name).toBe('signer/corrupt_state');
      expect(snapshot(path), name).toEqual(before);
    }
    // The good file opens under its own key and is refused under another.
    writeFileSync(path, JSON.stringify(good));
    expect((await Signer.open(path, key)).lastSigned).toEqual({ height: 4, round: 0, step: 'precommit' });
    expect(await codeOf(Signer.open(path, otherKey))).toBe('signer/corrupt_state');
  });

  it('refuses malformed requests with signer/bad_request and writes nothing', async () => {
    const path = stateFile();
    const signer = await Signer.open(path, key);
    await signer.sign(req(2, 0, 'prevote'));
    const before = snapshot(path);
    const bad: SignRequest[] = [
      { ...req(3, 0, 'prevote'), height: -1 },
      { ...req(3, 0, 'prevote'), height: 3.5 },
      { ...req(3, 0, 'prevote'), round: Number.MAX_SAFE_INTEGER + 1 },
      { ...req(3, 0, 'prevote'), step: 'commit' as SignStep },
      { ...req(3, 0, 'prevote'), signBytes: 'abc' as unknown as Uint8Array },
    ];
    for (const r of bad) expect(await codeOf(signer.sign(r))).toBe('signer/bad_request');
    expect(snapshot(path)).toEqual(before);
  });

  it('serialises concurrent calls: of two conflicting requests at one position exactly one is signed', async () => {
    const path = stateFile();
    const signer = await Signer.open(path, key);
    const results = await Promise.allSettled([
      signer.sign(req(20, 0, 'precommit', 'block-A')),
      signer.sign(req(20, 0, 'precommit', 'block-B')),
      signer.sign(req(19, 0, 'precommit', 'block-A')),
      signer.sign(req(20, 1, 'proposal', 'block-A')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'signer/conflicting_sign' });
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'signer/height_regression' });
    expect(signer.lastSigned).toEqual({ height: 20, round: 1, step: 'proposal' });
  });

  it('a write that fails leaves the last state in force and stops the signer until it is reopened', async () => {
    const path = stateFile();
    const signer = await Signer.open(path, key);
    await signer.sign(req(1, 0, 'prevote'));
    const before = snapshot(path);
    // Removing the folder makes the temp file impossible to create: a real failed write.
    const dir = join(path, '..');
    const saved = readFileSync(path);
    rmSync(dir, { recursive: true });
    expect(await codeOf(signer.sign(req(2, 0, 'prevote')))).toBe('signer/write_failed');
    expect(signer.lastSigned).toEqual({ height: 1, round: 0, step: 'prevote' });
    expect(await codeOf(signer.sign(req(3, 0, 'prevote')))).toBe('signer/write_failed');
    expect(existsSync(dir)).toBe(false);
    // Put the folder back as it was: a reopened signer carries on from the saved state.
    mkdirSync(dir);
    writeFileSync(path, saved);
    expect(readFileSync(path, 'hex')).toBe(before.bytes);
    const reopened = await Signer.open(path, key);
    expect(await codeOf(reopened.sign(req(1, 0, 'prevote', 'other')))).toBe('signer/conflicting_sign');
    await reopened.sign(req(2, 0, 'prevote'));
  });
});
