/**
 * The terminal progress bar of `rt.train`: one bar per epoch, left on screen when the epoch ends
 * (as Keras prints one line per epoch). `cli-progress` is loaded only when a bar is drawn, so the
 * library's import stays light and bundles for browsers.
 */
import type { SingleBar } from 'cli-progress';
import { lazyImport } from '../lazy-import.js';

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

/** A bar on stdout. */
export async function createProgress(): Promise<Progress> {
  type CliProgress = typeof import('cli-progress');
  const cliProgress = await lazyImport<CliProgress & { default?: CliProgress }>('cli-progress');
  const { SingleBar, Presets } = cliProgress.default ?? cliProgress;
  let bar: SingleBar | null = null;
  let value = 0;
  const format = (loss: number) => (Number.isFinite(loss) ? loss.toPrecision(4) : String(loss));
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
      bar!.update(value, { loss: format(loss) });
    },
    epochEnd({ loss, valLoss }) {
      bar!.update(value, { loss: format(loss), val: valLoss === undefined ? '' : ` | val ${format(valLoss)}` });
      bar!.stop();
      bar = null;
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
