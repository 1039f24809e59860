/**
 * Progress bars on stderr, one per model, while the command line trains. Where stderr is not a
 * terminal (a pipe, a CI log) each model prints one line when it finishes instead.
 */
import cliProgress from 'cli-progress';

/** The bar of one model. */
export interface Tracker {
  /** `value` steps done in `seconds`; `loss` the latest training loss. */
  update(value: number, loss: number, seconds: number): void;
  /** Marks the model finished, with a one-line summary. */
  done(summary: string): void;
}

/** A set of bars that stay on screen together; call {@link Bars.stop} when done. */
export class Bars {
  private readonly multi: cliProgress.MultiBar | null;

  constructor(interactive = process.stderr.isTTY === true) {
    this.multi = interactive
      ? new cliProgress.MultiBar(
          {
            format: '{name} |{bar}| {value}/{total} {unit} | loss {loss} | {seconds}s{summary}',
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: false,
            barsize: 20,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  /** A bar for `name` over `total` steps (shown at 0 until it starts). */
  add(name: string, total: number, unit = 'steps'): Tracker {
    const bar = this.multi?.create(total, 0, { name: name.padEnd(6), unit, loss: '-', seconds: 0, summary: '' });
    return {
      update(value, loss, seconds) {
        bar?.update(value, { loss: loss.toPrecision(4), seconds: Math.round(seconds) });
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
