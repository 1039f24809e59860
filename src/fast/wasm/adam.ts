/**
 * tfjs's Adam update in our WebAssembly module (`assembly/adam.ts`), on copies in its memory: for
 * the 74,000 numbers of the LSTM 128 bench network, 2.8 ms a step in typed-array JavaScript on
 * this project's machine. `src/train/fused-adam.ts` holds the equations and the JavaScript it is
 * tested against, to the bit.
 */
import { Arena, sequenceModule } from './module.js';

/** An update's numbers, each already rounded to float32 (see `assembly/adam.ts`). */
export interface AdamNumbers {
  b1: number;
  b2: number;
  c1: number;
  c2: number;
  d1: number;
  d2: number;
  eps: number;
  step: number;
}

/**
 * `x1, m1, v1` ← one update of `x, m, v` by the gradient `g` (the outputs may be the inputs); false
 * (nothing written) where the module does not run.
 */
export function adamInWasm(k: AdamNumbers, given: readonly Float32Array[], out: readonly Float32Array[]): boolean {
  const wasm = sequenceModule();
  if (!wasm) return false;
  const n = given[0].length;
  const arena = new Arena(wasm);
  const at = given.map((values) => {
    const to = arena.alloc(n);
    arena.view(to, n).set(values);
    return to;
  });
  wasm.adam(n, ...at, k.b1, k.b2, k.c1, k.c2, k.d1, k.d2, k.eps, k.step);
  out.forEach((values, i) => values.set(arena.view(at[i], n)));
  return true;
}
