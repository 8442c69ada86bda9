import { isTributaryError } from '../../src/errors.ts';
import { Rng } from './rng.ts';

/*
 * The fuzz loop: each target generates one input from its own seeded generator, feeds it to the
 * code under test and classifies the outcome. What counts as a finding:
 *   - crash: an exception out of the code under test where none may escape (an RPC answer that
 *     throws, a harness expectation that cannot even run);
 *   - uncoded_error: a throw that is not a TributaryError;
 *   - unexpected_code: a coded error of a module this path must not surface;
 *   - accepted_malformed / non_canonical_accept / rejected_valid / round_trip / bad_response:
 *     the code answered, but wrongly.
 */

export type FindingKind =
  | 'crash'
  | 'uncoded_error'
  | 'unexpected_code'
  | 'accepted_malformed'
  | 'non_canonical_accept'
  | 'rejected_valid'
  | 'round_trip'
  | 'bad_response';

export class Finding extends Error {
  readonly kind: FindingKind;
  constructor(kind: FindingKind, detail: string) {
    super(detail);
    this.kind = kind;
  }
}

/** Where a target leaves the input it is about to feed, so a finding can print it. */
export interface InputSlot {
  input: Uint8Array | string | undefined;
}

export type Guarded<T> = { ok: true; value: T } | { ok: false; code: string };

/** Which coded errors a path may throw: code prefixes ("codec/") or whole codes. */
export type Allowed = readonly string[];

function classify(e: unknown, allowed: Allowed, what: string): { ok: false; code: string } {
  if (e instanceof Finding) throw e;
  if (!isTributaryError(e)) {
    const err = e as Error;
    const where = (err?.stack ?? '')
      .split('\n')
      .slice(1, 4)
      .map((l) => l.trim())
      .join(' < ');
    throw new Finding(
      'uncoded_error',
      `${what} threw ${err?.name ?? typeof e}: ${err?.message ?? String(e)} (${where})`,
    );
  }
  if (!allowed.some((a) => (a.endsWith('/') ? e.code.startsWith(a) : e.code === a))) {
    throw new Finding('unexpected_code', `${what} threw ${e.code}: ${e.message}`);
  }
  return { ok: false, code: e.code };
}

export function guard<T>(allowed: Allowed, what: string, fn: () => T): Guarded<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return classify(e, allowed, what);
  }
}

export async function guardAsync<T>(allowed: Allowed, what: string, fn: () => Promise<T>): Promise<Guarded<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return classify(e, allowed, what);
  }
}

export interface TargetRun {
  /** One input; returns an outcome label for the statistics ("accepted", an error code...). */
  one(rng: Rng, slot: InputSlot): Promise<string>;
  close(): Promise<void>;
}

export interface FuzzTarget {
  readonly name: string;
  /** Share of the total inputs this target gets in a run over every target. */
  readonly weight: number;
  open(): Promise<TargetRun>;
}

export interface FindingReport {
  target: string;
  index: number;
  kind: FindingKind;
  detail: string;
  inputHex: string;
}

export interface TargetReport {
  target: string;
  inputs: number;
  ms: number;
  outcomes: Record<string, number>;
  crashes: number;
  uncoded: number;
  otherFindings: number;
  findings: FindingReport[];
}

function hexOf(input: Uint8Array | string | undefined): string {
  if (input === undefined) return '';
  const bytes =
    typeof input === 'string'
      ? Buffer.from(input, 'utf8')
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return bytes.toString('hex');
}

export async function runTarget(
  target: FuzzTarget,
  opts: {
    seed: string;
    inputs: number;
    firstIndex?: number;
    keepFindings?: number;
    onProgress?: (done: number) => void;
  },
): Promise<TargetReport> {
  const run = await target.open();
  const report: TargetReport = {
    target: target.name,
    inputs: 0,
    ms: 0,
    outcomes: {},
    crashes: 0,
    uncoded: 0,
    otherFindings: 0,
    findings: [],
  };
  const started = performance.now();
  const first = opts.firstIndex ?? 0;
  try {
    for (let i = first; i < first + opts.inputs; i++) {
      const slot: InputSlot = { input: undefined };
      let outcome: string;
      try {
        outcome = await run.one(Rng.forInput(opts.seed, target.name, i), slot);
      } catch (e) {
        const finding = e instanceof Finding ? e : new Finding('crash', `${(e as Error)?.stack ?? String(e)}`);
        if (finding.kind === 'crash') report.crashes++;
        else if (finding.kind === 'uncoded_error') report.uncoded++;
        else report.otherFindings++;
        if (report.findings.length < (opts.keepFindings ?? 20)) {
          report.findings.push({
            target: target.name,
            index: i,
            kind: finding.kind,
            detail: finding.message,
            inputHex: hexOf(slot.input),
          });
        }
        outcome = `finding:${finding.kind}`;
      }
      report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
      report.inputs++;
      if (opts.onProgress && report.inputs % 10_000 === 0) opts.onProgress(report.inputs);
    }
  } finally {
    report.ms = performance.now() - started;
    await run.close();
  }
  return report;
}
