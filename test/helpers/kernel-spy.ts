import type { CellConfig, CellKind } from '../../src/cells/cell.js';
import { registerScanKernel, registerSequenceKernel } from '../../src/fast/index.js';
import { wasmSequenceKernel } from '../../src/fast/wasm/kernel.js';
import { wasmScanKernel } from '../../src/fast/wasm/scan-kernel.js';
import { webgpuSequenceKernel } from '../../src/fast/webgpu-sequence.js';

/** The kinds with a fused scan on cpu and wasm. */
export const FUSED_KINDS: readonly CellKind[] = ['mingru', 'minlstm', 'indrnn'];

interface Spy {
  runs: () => number;
  restore: () => void;
}

/** A registered kernel: whether it takes a sequence, and its run. */
interface Kernel<Args extends unknown[], Out> {
  fits(time: number, batch: number, masked: boolean): boolean;
  run(...args: Args): Out;
}

/**
 * Counts the runs of the kernels `factory` makes for `kinds` on `backend` until `restore()`
 * (which registers `factory` again); with `off`, none is registered meanwhile.
 */
function spyOn<Args extends unknown[], Out>(
  register: (kind: CellKind, backend: string, factory: (config: CellConfig) => Kernel<Args, Out> | undefined) => void,
  factory: (config: CellConfig) => Kernel<Args, Out> | undefined,
  kinds: readonly CellKind[],
  backend: string,
  off: boolean,
): Spy {
  let count = 0;
  for (const kind of kinds) {
    register(kind, backend, (config) => {
      const kernel = off ? undefined : factory(config);
      return (
        kernel && {
          fits: (time, batch, masked) => kernel.fits(time, batch, masked),
          run: (...args) => {
            count++;
            return kernel.run(...args);
          },
        }
      );
    });
  }
  return { runs: () => count, restore: () => kinds.forEach((kind) => register(kind, backend, factory)) };
}

/**
 * Counts the runs of the fused scan (`src/fast/wasm/scan-kernel.ts`) on `backend` until
 * `restore()`; with `off`, the fused scan is unregistered meanwhile (the scan in tf ops runs).
 */
export const spyOnScanKernel = (backend: string, off = false): Spy =>
  spyOn(registerScanKernel, wasmScanKernel, FUSED_KINDS, backend, off);

/**
 * Counts the runs of the whole-sequence kernel (`src/fast/wasm/kernel.ts`, on webgpu
 * `src/fast/webgpu-sequence.ts`) on `backend` until `restore()`; with `off`, it is unregistered
 * meanwhile.
 */
export const spyOnSequenceKernel = (backend: string, off = false): Spy =>
  spyOn(
    registerSequenceKernel,
    backend === 'webgpu' ? webgpuSequenceKernel : wasmSequenceKernel,
    ['elman', 'lstm', 'gru'],
    backend,
    off,
  );
