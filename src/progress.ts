import type { Logger } from 'pino';

/*
 * Progress of a long walk over heights (verify, index rebuild, block sync): height, target,
 * rate and ETA. On a terminal a cli-progress bar; otherwise (a service, a pipe, a log file) log
 * lines, at most one per `logEveryMs` plus the first and the last, so a log keeps the same figures.
 */

export interface ProgressFigures {
  height: number;
  target: number;
  blocksPerSecond: number;
  /** Seconds left at the rate so far; null before anything was done. */
  etaS: number | null;
}

/** Rate and ETA from the heights done since `startHeight`, over wall-clock time (never consensus). */
export class ProgressMeter {
  private readonly startedAt: number;
  private readonly startHeight: number;
  private readonly now: () => number;
  target: number;

  constructor(startHeight: number, target: number, now: () => number = () => performance.now()) {
    this.startHeight = startHeight;
    this.target = target;
    this.now = now;
    this.startedAt = now();
  }

  figures(height: number): ProgressFigures {
    const elapsedMs = Math.max(1, this.now() - this.startedAt);
    const perSecond = (1000 * (height - this.startHeight)) / elapsedMs;
    return {
      height,
      target: this.target,
      blocksPerSecond: Math.round(perSecond * 10) / 10,
      etaS: perSecond > 0 ? Math.round(Math.max(0, this.target - height) / perSecond) : null,
    };
  }
}

export interface ProgressReporter {
  update(height: number): void;
  /** The last figures, drawn or logged once more; the bar is left on screen. */
  done(height: number): void;
}

export interface ProgressOptions {
  /** What is being done, e.g. "verify": the bar's label and the log lines' message. */
  label: string;
  startHeight: number;
  target: number;
  /** Where log lines go when `stream` is not a terminal. */
  logger: Logger;
  /** Default process.stderr; a bar is drawn only when it is a TTY. */
  stream?: NodeJS.WriteStream;
  logEveryMs?: number;
}

/** cli-progress is loaded only when a bar is drawn (the CLI loads nothing a command does not use). */
export async function createProgress(opts: ProgressOptions): Promise<ProgressReporter> {
  const stream = opts.stream ?? process.stderr;
  const meter = new ProgressMeter(opts.startHeight, opts.target);
  if (stream.isTTY) {
    const { default: cliProgress } = await import('cli-progress');
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${opts.label} [{bar}] height {value}/{total} | {rate} blocks/s | ETA {etaText}`,
        clearOnComplete: false,
        hideCursor: true,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    const payload = (height: number) => {
      const f = meter.figures(height);
      return { rate: f.blocksPerSecond, etaText: f.etaS === null ? '?' : `${f.etaS}s` };
    };
    bar.start(opts.target, opts.startHeight, payload(opts.startHeight));
    return {
      update: (height) => bar.update(height, payload(height)),
      done: (height) => {
        bar.update(height, payload(height));
        bar.stop();
      },
    };
  }
  const every = opts.logEveryMs ?? 1000;
  let lastLog = -Infinity;
  const log = (height: number, force: boolean) => {
    const now = performance.now();
    if (!force && now - lastLog < every) return;
    lastLog = now;
    opts.logger.info(meter.figures(height), opts.label);
  };
  log(opts.startHeight, true);
  return { update: (height) => log(height, false), done: (height) => log(height, true) };
}
