import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { comparePositions, Signer, type SignPosition, type SignStep } from '../../src/consensus/signer.ts';
import { SigningKey, verifyEd25519 } from '../../src/crypto/ed25519.ts';
import { REPO, tempHome } from '../helpers/process.ts';
import { loopBytes, nextPosition, ONCE_POSITION } from './fixtures/signer-crash-child.ts';
import { codeOf } from '../helpers/codes.ts';

const NODE = join(REPO, 'node_modules', '.bin', 'node');
const CHILD = join(REPO, 'test', 'e2e', 'fixtures', 'signer-crash-child.ts');
const LOOP_KILLS = 6;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (s: string) => new TextEncoder().encode(s);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function stateFile(): string {
  const dir = tempHome('tributary-signer-crash-');
  dirs.push(dir);
  return join(dir, 'signer-state.json');
}

/**
 * Runs the child; `onLine` sees each stdout line and may SIGKILL it. Resolves with every line once
 * the child is dead, and fails if it died of anything but that SIGKILL.
 */
function runChild(args: string[], onLine: (line: string, child: ChildProcess) => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let partial = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      partial += chunk;
      const complete = partial.split('\n');
      partial = complete.pop()!;
      for (const line of complete) {
        lines.push(line);
        onLine(line, child);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (code ${code}): ${stderr}`));
      else resolve(lines);
    });
  });
}

const REFUSALS = [
  'signer/conflicting_sign',
  'signer/height_regression',
  'signer/round_regression',
  'signer/step_regression',
];
const STEPS: SignStep[] = ['proposal', 'prevote', 'precommit'];

describe('signer crash safety (kill -9)', () => {
  it('killed right after signing, before sending: after restart the other block is refused and the same vote re-signs identically', async () => {
    const path = stateFile();
    const seed = randomBytes(32);
    const blockA = bytes('vote for block A at 5/0');
    const lines = await runChild(['once', path, hex(seed), hex(blockA)], (line, child) => {
      if (line.startsWith('signed ')) child.kill('SIGKILL');
    });
    expect(lines).toHaveLength(1);
    const printedSignature = lines[0]!.slice('signed '.length);
    const key = new SigningKey(new Uint8Array(seed));
    expect(verifyEd25519(key.publicKey, blockA, Buffer.from(printedSignature, 'hex'))).toBe(true);

    const restarted = await Signer.open(path, key);
    expect(restarted.lastSigned).toEqual(ONCE_POSITION);
    const before = { bytes: readFileSync(path, 'hex'), ino: statSync(path).ino };
    expect(await codeOf(restarted.sign({ ...ONCE_POSITION, signBytes: bytes('vote for block B at 5/0') }))).toBe(
      'signer/conflicting_sign',
    );
    expect(hex(await restarted.sign({ ...ONCE_POSITION, signBytes: blockA }))).toBe(printedSignature);
    // Neither the refusal nor the re-send rewrote the state.
    expect({ bytes: readFileSync(path, 'hex'), ino: statSync(path).ino }).toEqual(before);
  });

  it(`killed at random points of a signing loop (${LOOP_KILLS} times): never signs other bytes at or below a printed position`, async () => {
    const path = stateFile();
    const seed = randomBytes(32);
    const key = new SigningKey(new Uint8Array(seed));
    const printed: Array<{ position: SignPosition; signature: string }> = [];
    for (let kill = 0; kill < LOOP_KILLS; kill++) {
      let killTimer: NodeJS.Timeout | undefined;
      const lines = await runChild(['loop', path, hex(seed)], (_line, child) => {
        if (killTimer === undefined)
          killTimer = setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 400));
      });
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        const [height, round, step, signature] = line.split(' ');
        const position = { height: Number(height), round: Number(round), step: step as SignStep };
        // Each run carries on exactly after what the previous ones left durable.
        expect(position).toEqual(nextPosition(printed.at(-1)?.position));
        printed.push({ position, signature: signature! });
      }

      const restarted = await Signer.open(path, key);
      const lastPrinted = printed.at(-1)!;
      const saved = restarted.lastSigned!;
      // The kill may land after the state was durable but before its line was printed.
      if (comparePositions(saved, lastPrinted.position) !== 0) {
        expect(saved).toEqual(nextPosition(lastPrinted.position));
        printed.push({
          position: saved,
          signature: hex(await restarted.sign({ ...saved, signBytes: loopBytes(saved) })),
        });
      }
      const before = { bytes: readFileSync(path, 'hex'), ino: statSync(path).ino };

      // Every position printed so far, plus random ones at or below the last: other bytes are refused.
      const probes = printed.map((p) => p.position);
      for (let i = 0; i < 50; i++) {
        probes.push({
          height: Math.floor(Math.random() * (saved.height + 1)),
          round: Math.floor(Math.random() * 4),
          step: STEPS[Math.floor(Math.random() * 3)]!,
        });
      }
      for (const probe of probes) {
        if (comparePositions(probe, saved) > 0) continue;
        const code = await codeOf(
          restarted.sign({ ...probe, signBytes: bytes(`other/${probe.height}/${probe.round}/${probe.step}`) }),
        );
        expect(REFUSALS, `${JSON.stringify(probe)} -> ${code}`).toContain(code);
      }
      // The last signed position re-sends the same signature that went out before the crash.
      expect(hex(await restarted.sign({ ...saved, signBytes: loopBytes(saved) }))).toBe(printed.at(-1)!.signature);
      expect({ bytes: readFileSync(path, 'hex'), ino: statSync(path).ino }).toEqual(before);
      await restarted.close();
    }
    expect(printed.length).toBeGreaterThan(LOOP_KILLS);
  }, 120_000);
});
