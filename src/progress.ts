/**
 * Terminal progress bars, for `rt.train` and for the command line. `cli-progress` (an optional
 * peer dependency) is loaded only when a bar is drawn, so the library's import stays light and
 * bundles for browsers; where it is not installed, progress is one plain line per epoch.
 *
 * - {@link createProgress}: the bar of `rt.train` on stdout, one bar per epoch, left on screen when
 *   the epoch ends (as Keras prints one line per epoch).
 * - {@link epochLine}: the plain line of one finished epoch (logs, pipes, no `cli-progress`).
 * - {@link Bars}: bars on stderr, one per model, while the command line trains several. Where
 *   stderr is not a terminal (a pipe, a CI log) each model prints one line when it finishes instead.
 */
import type { MultiBar, SingleBar } from 'cli-progress';
import { isMissingPackage, isNode, lazyImport, nodeOnly } from './lazy-import.js';

type CliProgress = typeof import('cli-progress');

/** `cli-progress`, loaded on first use; null when it is not installed. */
async function cliProgress(): Promise<CliProgress | null> {
  const module = await lazyImport<CliProgress & { default?: CliProgress }>('cli-progress').catch((err: unknown) => {
    if (isMissingPackage(err, 'cli-progress')) return null;
    throw err;
  });
  return module && (module.default ?? module);
}

/** A loss as the bars show it. */
function formatLoss(loss: number): string {
  return Number.isFinite(loss) ? loss.toPrecision(4) : String(loss);
}

/** The progress of `rt.train`. */
export interface Progress {
  epochStart(epoch: number, epochs: number, batches: number | undefined): void;
  batchEnd(loss: number): void;
  epochEnd(logs: { loss: number; valLoss?: number }): void;
  stop(): void;
}

/** Whether a bar is drawn when `progress` is left out: in Node, when stdout is a terminal. */
export function defaultProgress(): boolean {
  return typeof process !== 'undefined' && process.stdout?.isTTY === true;
}

/**
 * The line of one finished epoch, e.g. `epoch 3/10: loss 2.345, val 2.412 (4.1 s)`.
 */
export function epochLine(epoch: number, epochs: number, logs: { loss: number; valLoss?: number }, ms: number): string {
  const val = logs.valLoss === undefined ? '' : `, val ${formatLoss(logs.valLoss)}`;
  return `epoch ${epoch + 1}/${epochs}: loss ${formatLoss(logs.loss)}${val} (${(ms / 1000).toFixed(1)} s)`;
}

/** One {@link epochLine} per epoch on stdout. */
function lineProgress(): Progress {
  let epoch = 0;
  let epochs = 0;
  let started = 0;
  return {
    epochStart(e, n) {
      [epoch, epochs, started] = [e, n, Date.now()];
    },
    batchEnd() {},
    epochEnd(logs) {
      process.stdout.write(`${epochLine(epoch, epochs, logs, Date.now() - started)}\n`);
    },
    stop() {},
  };
}

/**
 * The progress of `rt.train` on stdout: a bar per epoch, or one line per epoch where `cli-progress`
 * is not installed. Refused in a browser (there is no terminal), before training starts.
 */
export async function createProgress(): Promise<Progress> {
  if (!isNode()) {
    throw nodeOnly('train', 'progress: true (a bar on a terminal)', 'leave it out and follow training with callbacks');
  }
  const bars = await cliProgress();
  if (!bars) return lineProgress();
  const { SingleBar, Presets } = bars;
  let bar: SingleBar | null = null;
  let value = 0;
  return {
    epochStart(epoch, epochs, batches) {
      value = 0;
      const created = new SingleBar(
        {
          format: `epoch ${epoch + 1}/${epochs} |{bar}| {value}/{total} batches | loss {loss}{val}`,
          stream: process.stdout,
          hideCursor: true,
        },
        Presets.shades_classic,
      );
      created.start(batches ?? 0, 0, { loss: '-', val: '' });
      bar = created;
    },
    batchEnd(loss) {
      value += 1;
      if (value > bar!.getTotal()) bar!.setTotal(value);
      bar!.update(value, { loss: formatLoss(loss) });
    },
    epochEnd({ loss, valLoss }) {
      bar!.update(value, { loss: formatLoss(loss), val: valLoss === undefined ? '' : ` | val ${formatLoss(valLoss)}` });
      bar!.stop();
      bar = null;
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

/** The bar of one model in {@link Bars}. */
export interface Tracker {
  /** `value` steps done in `seconds`; `loss` the latest training loss. */
  update(value: number, loss: number, seconds: number): void;
  /** Marks the model finished, with a one-line summary. */
  done(summary: string): void;
}

/** Bars on stderr that stay on screen together: {@link Bars.create}, then {@link Bars.stop} when done. */
export class Bars {
  private constructor(private readonly multi: MultiBar | null) {}

  /**
   * Bars drawn when `interactive` (default: stderr is a terminal) and `cli-progress` is installed,
   * else one line per finished model.
   */
  static async create(interactive = process.stderr.isTTY === true): Promise<Bars> {
    const bars = interactive ? await cliProgress() : null;
    if (!bars) return new Bars(null);
    const { MultiBar, Presets } = bars;
    return new Bars(
      new MultiBar(
        {
          format: '{name} |{bar}| {value}/{total} {unit} | loss {loss} | {seconds}s{summary}',
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
          barsize: 20,
        },
        Presets.shades_classic,
      ),
    );
  }

  /** A bar for `name` over `total` steps (shown at 0 until it starts). */
  add(name: string, total: number, unit = 'steps'): Tracker {
    const bar = this.multi?.create(total, 0, { name: name.padEnd(6), unit, loss: '-', seconds: 0, summary: '' });
    return {
      update(value, loss, seconds) {
        bar?.update(value, { loss: formatLoss(loss), seconds: Math.round(seconds) });
      },
      done(summary) {
        if (bar) bar.update(bar.getTotal(), { summary: ` | ${summary}` });
        else process.stderr.write(`${name}: ${summary}\n`);
      },
    };
  }

  stop(): void {
    this.multi?.stop();
  }
}
