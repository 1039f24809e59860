/**
 * Streaming: a network run one time step at a time, for inputs that arrive one by one (sensor
 * readings, audio frames, a forecast fed its own predictions). {@link Stepper} keeps the state of
 * every layer between calls: `step(x_t)` returns `y_t` exactly as `net.apply` computes it over the
 * whole sequence (same equations, batch 1, zero initial state until the first `reset`).
 *
 * Where every cell is an Elman cell, LSTM or GRU with tanh/sigmoid activations and the backend is
 * cpu or wasm, a step runs the whole-sequence kernels (`src/fast/wasm/`) on one step, in a module
 * instance of its own: the weights are read once, when the stepper is made, and a step copies
 * `x_t` in, runs each layer and the output function on buffers allocated once, and creates no
 * tensor. Otherwise a step runs the cells' own `step` on tensors, keeping only the state.
 *
 * The weights are a snapshot: make a new stepper after training the network further. A stepper
 * reads values synchronously (the weights once, `y_t` every step on tensors), so on webgl and
 * webgpu, where reads must be asynchronous, `net.stepper()` throws and names `net.apply`.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from './activations.js';
import type { Cell, State } from './cells/cell.js';
import { show } from './check/index.js';
import { kindKernels, type Dims, type Inputs, type KindKernels } from './fast/wasm/kinds.js';
import { Arena, lanes, newSequenceInstance, type SequenceExports } from './fast/wasm/module.js';
import { fuse } from './fast/fused.js';
import { fastPathFactory } from './fast/index.js';
import { isSyncReadable, readSync } from './read.js';

/** What a stepper reads of a network: its cells by layer and direction, and the output function. */
export interface SteppedNetwork {
  readonly cells: readonly (readonly Cell[])[];
  readonly outputParams: { W_yh: tf.Variable; b_y: tf.Variable };
  readonly outputActivation: string;
}

/** A network run one step at a time (see the module documentation); made by `net.stepper()`. */
export interface Stepper {
  /** `y_t` (`outputSize` values) for `x_t` (`inputSize` values), the state carried to the next step. */
  step(x: ArrayLike<number>): Float32Array;
  /** Back to the zero state. */
  reset(): void;
  /** Frees what the stepper holds; `step` then throws. */
  dispose(): void;
  /** `'kernels'` (typed arrays and WebAssembly, no tensors) or `'tensors'` (the cells' `step`). */
  readonly engine: 'kernels' | 'tensors';
}

const WHERE = 'net.stepper';
const read = (t: tf.Tensor) => readSync(WHERE, 'net.apply on whole sequences', t) as Float32Array;

/** A {@link Stepper} of `net` (batch 1). */
export function stepper(net: SteppedNetwork): Stepper {
  if (net.cells[0].length !== 1) {
    throw new Error(`${WHERE}: a bidirectional network reads the whole sequence; only one direction can be streamed`);
  }
  const cells = net.cells.map((layer) => layer[0]);
  const params = net.outputParams;
  const [outputSize, width] = params.W_yh.shape;
  const inputSize = cells[0].inputSize;
  const g = outputFunction(net.outputActivation);
  const Wy = read(params.W_yh);
  const by = read(params.b_y);
  const y = new Float32Array(outputSize);
  /** `y = g(W_yh h + b_y)` into the reused `y`. */
  const output = (h: Float32Array) => {
    for (let o = 0; o < outputSize; o++) {
      let s = by[o];
      for (let j = 0, row = o * width; j < width; j++) s += Wy[row + j] * h[j];
      y[o] = s;
    }
    g(y);
    return y.slice();
  };
  const kinds = cells.map((cell) => kindKernels(cell.config));
  const wasm = kinds.every((k) => k !== undefined) && isSyncReadable() ? newSequenceInstance() : null;
  const engine = wasm ? kernelEngine(wasm, cells, kinds as KindKernels[], output) : tensorEngine(cells, output);
  let live = true;
  return {
    engine: engine.name,
    step: (x) => {
      if (!live) throw new Error(`${WHERE}: step() after dispose()`);
      if (x === null || typeof x !== 'object' || x.length !== inputSize) {
        throw new TypeError(`${WHERE}: step expected x_t to hold inputSize = ${inputSize} numbers, got ${show(x)}`);
      }
      return engine.step(x);
    },
    reset: () => engine.reset(),
    dispose: () => {
      live = false;
      engine.dispose();
    },
  };
}

interface Engine {
  name: 'kernels' | 'tensors';
  step(x: ArrayLike<number>): Float32Array;
  reset(): void;
  dispose(): void;
}

/**
 * Steps on the whole-sequence kernels with T = B = 1: per layer its padded weights, `x_t` (layer
 * 0's) or the layer below's `h_t`, the state before the step and after it (swapped each step),
 * and the forward's scratch arrays, all allocated once.
 */
function kernelEngine(
  wasm: SequenceExports,
  cells: Cell[],
  kinds: KindKernels[],
  output: (h: Float32Array) => Float32Array,
): Engine {
  const arena = new Arena(wasm);
  const x0 = arena.alloc(lanes(cells[0].inputSize));
  let below = x0;
  const layers = cells.map((cell, l) => {
    const kind = kinds[l];
    const { inputSize: I, units: U } = cell;
    const d: Dims = { T: 1, B: 1, I, U, Ip: lanes(I), Up: lanes(U) };
    const [G, F] = [kind.gates, kind.recurrentGates];
    const w = fuse(cell.params, fastPathFactory(cell.kind)!(cell.config).layout, U);
    const put = (t: tf.Tensor | undefined, rows: number, blocks: number, rowsTo = rows) =>
      t ? arena.put(read(t), rows, blocks, U, rowsTo) : 0;
    const p: Inputs = {
      X: below,
      WxT: put(w.WxT, I, G, d.Ip),
      b: put(w.b, 1, G),
      WhT: put(w.WhT, U, F, d.Up),
      bh: put(w.bh, 1, F),
      WnhT: put(w.separate.n, U, 1, d.Up),
      h0: arena.alloc(d.Up),
      c0: arena.alloc(d.Up),
      K: 0,
    };
    tf.dispose([w.WxT, w.b, w.WhT, w.bh, ...Object.values(w.separate)].filter((t) => t !== undefined));
    const sizes = kind.kept(d);
    const k = Object.fromEntries(Object.entries(sizes).map(([name, size]) => [name, arena.alloc(size)]));
    below = k.H;
    return { kind, d, p, k, U };
  });
  const h = new Float32Array(cells[cells.length - 1].units);
  const engine: Engine = {
    name: 'kernels',
    step: (x) => {
      arena.view(x0, x.length).set(x);
      for (const { kind, d, p, k } of layers) {
        kind.forward(wasm, d, p, k);
        // The state after the step becomes the state before the next.
        arena.view(p.h0, d.Up).set(arena.view(k.H, d.Up));
        if (k.Cs) arena.view(p.c0, d.Up).set(arena.view(k.Cs, d.Up));
      }
      const top = layers[layers.length - 1];
      h.set(arena.view(top.k.H, top.U));
      return output(h);
    },
    reset: () => {
      for (const { d, p } of layers) {
        arena.view(p.h0, d.Up).fill(0);
        arena.view(p.c0, d.Up).fill(0);
      }
    },
    dispose: () => undefined,
  };
  engine.reset();
  return engine;
}

/** Steps on tensors: each cell's `step` in a `tf.tidy`, keeping only the states. */
function tensorEngine(cells: Cell[], output: (h: Float32Array) => Float32Array): Engine {
  let states: State[] = [];
  const reset = () => {
    tf.dispose(states.flatMap((s) => Object.values(s)));
    states = cells.map((cell) => cell.initialState(1));
    for (const s of states) Object.values(s).forEach((t) => tf.keep(t));
  };
  reset();
  return {
    name: 'tensors',
    step: (x) => {
      const next = tf.tidy(() => {
        let input = tf.tensor2d(Float32Array.from(x), [1, x.length]);
        return cells.map((cell, l) => {
          const state = cell.step(input, states[l]);
          input = state.h;
          return state;
        });
      });
      tf.dispose(states.flatMap((s) => Object.values(s)));
      states = next;
      return output(read(states[states.length - 1].h));
    },
    reset,
    dispose: () => tf.dispose(states.flatMap((s) => Object.values(s))),
  };
}

/** The output activation on a typed array in place: common ones in JavaScript, others through tfjs. */
function outputFunction(name: string): (y: Float32Array) => void {
  const each = (f: (v: number) => number) => (y: Float32Array) => y.forEach((v, i) => (y[i] = f(v)));
  switch (name) {
    case 'linear':
      return () => undefined;
    case 'tanh':
      return each(Math.tanh);
    case 'sigmoid':
      return each((v) => 1 / (1 + Math.exp(-v)));
    case 'relu':
      return each((v) => Math.max(v, 0));
    case 'softmax':
      return (y) => {
        const max = Math.max(...y);
        let sum = 0;
        y.forEach((v, i) => (sum += y[i] = Math.exp(v - max)));
        y.forEach((v, i) => (y[i] = v / sum));
      };
    default: {
      const g = getActivation(name);
      return (y) => tf.tidy(() => y.set(read(g(tf.tensor1d(y)))));
    }
  }
}
