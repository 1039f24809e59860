/**
 * The document's whole model: a recurrent cell and the output function
 *
 * $$
 * \begin{aligned}
 * h_t &= \mathrm{cell}(x_t, h_{t-1}) \\
 * y_t &= g(W_{yh} h_t + b_y)
 * \end{aligned}
 * $$
 *
 * | symbol | shape | |
 * |--------|-------|-|
 * | `W_yh` | `[outputSize, units]` | output weights (Glorot uniform) |
 * | `b_y`  | `[outputSize]` | output bias (zeros) |
 *
 * `x: [batch, time, inputSize]` gives `y: [batch, time, outputSize]`.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from './activations.js';
import type { Cell, CellConfig, CellKind, State } from './cells/cell.js';
import { createCell, CELL_KINDS } from './cells/create.js';
import { checkKeys, checkOneOf, checkPositiveInt, checkTensor } from './check.js';
import { freshSeed, initVariable, prng } from './init.js';
import { saveNetwork } from './io/network-io.js';
import { unroll } from './unroll.js';

export interface NetworkOptions {
  /** A cell kind, or a cell already built (its inputSize and units then apply). */
  cell: CellKind | Cell;
  inputSize?: number;
  units?: number;
  outputSize: number;
  /** f of the Elman cell, tanh of the LSTM/GRU (default `'tanh'`). */
  activation?: string;
  /** σ of the LSTM/GRU gates (default `'sigmoid'`). */
  recurrentActivation?: string;
  /** g (default `'linear'`). */
  outputActivation?: string;
  /** GRU only (default `true`). */
  resetAfter?: boolean;
  seed?: number;
}

/** What `model.json` stores of a network: enough to rebuild it. */
export interface NetworkConfig {
  cell: CellConfig;
  outputSize: number;
  outputActivation: string;
}

export type ApplyResult = {
  /** `[batch, time, outputSize]` */
  y: tf.Tensor3D;
  /** The cell's state after the last step. */
  state: State;
};

const NETWORK_KEYS = [
  'cell',
  'inputSize',
  'units',
  'outputSize',
  'activation',
  'recurrentActivation',
  'outputActivation',
  'resetAfter',
  'seed',
];

/** A cell plus `y_t = g(W_yh h_t + b_y)`. Build one with {@link network}. */
export class RecurrentNetwork {
  readonly cell: Cell;
  readonly outputSize: number;
  readonly outputActivation: string;
  /** The output weights `W_yh` and `b_y`. */
  readonly outputParams: { W_yh: tf.Variable; b_y: tf.Variable };
  private readonly g: (x: tf.Tensor) => tf.Tensor;

  constructor(
    cell: Cell,
    outputSize: number,
    outputActivation: string,
    outputParams: { W_yh: tf.Variable; b_y: tf.Variable },
  ) {
    this.cell = cell;
    this.outputSize = outputSize;
    this.outputActivation = outputActivation;
    this.g = getActivation(outputActivation);
    checkTensor('network', 'W_yh', outputParams.W_yh, [outputSize, cell.units]);
    checkTensor('network', 'b_y', outputParams.b_y, [outputSize]);
    this.outputParams = outputParams;
  }

  get inputSize(): number {
    return this.cell.inputSize;
  }

  get units(): number {
    return this.cell.units;
  }

  /** The cell's parameters plus `W_yh` and `b_y`, keyed by symbol. */
  get params(): Record<string, tf.Variable> {
    return { ...this.cell.params, ...this.outputParams };
  }

  get config(): NetworkConfig {
    return { cell: this.cell.config, outputSize: this.outputSize, outputActivation: this.outputActivation };
  }

  /** Runs the cell over `x` and the output function at every step. */
  apply(x: tf.Tensor, options: { initialState?: State } = {}): ApplyResult {
    checkKeys('net.apply', options, ['initialState']);
    checkTensor('net.apply', 'x', x, ['batch', 'time', this.inputSize]);
    return tf.tidy(() => {
      const { outputs, state } = unroll(this.cell, x, options);
      return { y: this.output(outputs), state };
    });
  }

  /** `y_t = g(W_yh h_t + b_y)` for `h: [batch, time, units]` (or `[batch, units]`). */
  output<T extends tf.Tensor>(h: T): T {
    return applyOutput(h, this.outputParams.W_yh, this.outputParams.b_y, this.g);
  }

  /** `y` at every step, `[batch, time, outputSize]`. */
  predict(x: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => this.apply(x).y);
  }

  /** Saves to a tf.io handler or URL (`file://dir` in Node, `indexeddb://name`, `downloads://`). */
  async save(handlerOrUrl: string | tf.io.IOHandler): Promise<tf.io.SaveResult> {
    return saveNetwork(this, handlerOrUrl);
  }

  /** The same model built from tfjs's own layers (see `toLayersModel` in `interop/`). */
  toLayersModel(): tf.LayersModel {
    return toLayersModelImpl(this);
  }

  dispose(): void {
    this.cell.dispose();
    this.outputParams.W_yh.dispose();
    this.outputParams.b_y.dispose();
  }
}

/**
 * The output function `y_t = g(W_yh h_t + b_y)` applied along the last axis of `h`
 * (`[batch, time, units]` or `[batch, units]`), with `W_yh: [outputSize, units]`. Shared by the
 * network and the `output` layer.
 */
export function applyOutput<T extends tf.Tensor>(
  h: T,
  W_yh: tf.Tensor,
  b_y: tf.Tensor,
  g: (x: tf.Tensor) => tf.Tensor,
): T {
  return tf.tidy(() => {
    const [outputSize, units] = W_yh.shape;
    const flat = h.reshape([-1, units]) as tf.Tensor2D;
    const a = tf.add(tf.matMul(flat, W_yh as tf.Tensor2D, false, true), b_y);
    return g(a).reshape([...h.shape.slice(0, -1), outputSize]) as T;
  });
}

/** Set by `interop/layers-model.ts`, which the package index loads; keeps this file free of tf.layers. */
let toLayersModelImpl: (net: RecurrentNetwork) => tf.LayersModel = () => {
  throw new Error('toLayersModel: import tfjs-recurrent (the package index) to enable it');
};
export function setToLayersModel(fn: (net: RecurrentNetwork) => tf.LayersModel): void {
  toLayersModelImpl = fn;
}

/** Builds a {@link RecurrentNetwork}. */
export function network(options: NetworkOptions): RecurrentNetwork {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `network: expected options { cell, inputSize, units, outputSize, ... }, got ${String(options)}`,
    );
  }
  checkKeys('network', options, NETWORK_KEYS);
  // The output options first: a refusal then leaves no cell behind.
  const outputSize = checkPositiveInt('network', 'outputSize', options.outputSize);
  const outputActivation = options.outputActivation ?? 'linear';
  getActivation(outputActivation);
  const seed = options.seed ?? freshSeed();
  const cell =
    typeof options.cell === 'string'
      ? createCell(
          {
            kind: checkOneOf('network', 'cell', options.cell, CELL_KINDS),
            inputSize: checkPositiveInt('network', 'inputSize', options.inputSize),
            units: checkPositiveInt('network', 'units', options.units),
            activation: options.activation ?? 'tanh',
            recurrentActivation: options.cell === 'elman' ? undefined : options.recurrentActivation,
            resetAfter: options.cell === 'gru' ? options.resetAfter : undefined,
          },
          { seed },
        )
      : checkCellObject(options.cell);
  const rand = prng(seed + 7919);
  return new RecurrentNetwork(cell, outputSize, outputActivation, {
    W_yh: initVariable('W_yh', 'glorotUniform', [outputSize, cell.units], rand),
    b_y: initVariable('b_y', 'zeros', [outputSize], rand),
  });
}

function checkCellObject(cell: unknown): Cell {
  const c = cell as Cell;
  if (c === null || typeof c !== 'object' || typeof c.recur !== 'function' || typeof c.units !== 'number') {
    throw new TypeError(`network: expected cell to be 'elman', 'lstm', 'gru' or a Cell, got ${String(cell)}`);
  }
  return c;
}
