import type { CellKind } from '../../src/cells/cell.js';
import { registerScanKernel } from '../../src/fast/index.js';
import { wasmScanKernel } from '../../src/fast/wasm/scan-kernel.js';

/** The kinds with a fused scan on cpu and wasm. */
export const FUSED_KINDS: readonly CellKind[] = ['mingru', 'minlstm', 'indrnn'];

/**
 * Counts the runs of the fused scan (`src/fast/wasm/scan-kernel.ts`) on `backend` until
 * `restore()`; with `off`, the fused scan is unregistered meanwhile (the scan in tf ops runs).
 */
export function spyOnScanKernel(backend: string, off = false): { runs: () => number; restore: () => void } {
  let count = 0;
  for (const kind of FUSED_KINDS) {
    registerScanKernel(kind, backend, (config) => {
      const kernel = off ? undefined : wasmScanKernel(config);
      return (
        kernel && {
          fits: kernel.fits,
          run: (...args) => {
            count++;
            return kernel.run(...args);
          },
        }
      );
    });
  }
  return {
    runs: () => count,
    restore: () => FUSED_KINDS.forEach((kind) => registerScanKernel(kind, backend, wasmScanKernel)),
  };
}
