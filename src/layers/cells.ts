/**
 * The cells as `tf.layers.RNNCell`s, for tfjs's own loop: `tf.layers.rnn({ cell })`,
 * `tf.layers.rnn({ cell: [a, b] })` and `tf.layers.stackedRNNCells({ cells })`, in `model.fit`,
 * `model.save` and `tf.loadLayersModel`, as tfjs's `simpleRNNCell`, `lstmCell` and `gruCell` are.
 *
 * A cell takes the options of the layer of its kind ({@link RecurrentLayer}) but those of the loop
 * (`returnSequences`, `returnState`, `stateful`, `goBackwards`: `tf.layers.rnn`'s), and dropout
 * (a clear error in a cell, never ignored): Keras draws a dropout mask once per sequence, and
 * `tf.layers.rnn` tells its cell nowhere that a sequence starts (tfjs's own cells keep their first
 * mask for every later call); `rt.layers.lstm({ dropout })` and the others draw them per call.
 * Its weights are the layer's, by symbol (`W_hx`, `W_hh`, `b_h`, …) and created the same way;
 * `setWeights` also takes tfjs's and Keras's layout (`[kernel, recurrent_kernel, bias]`; inside
 * `tf.layers.rnn`, call the cell's: tfjs's RNN checks the shapes against its own). One call is
 * one step of the cell's equations (`cell.step` of `src/cells`): `[x_t, h_{t-1}]`
 * (`[x_t, h_{t-1}, c_{t-1}]` for the LSTM) to `[h_t, h_t]` (`[h_t, h_t, c_t]`), tfjs's convention
 * of the output first, then the states.
 *
 * Class names: `RecurrentElmanCell`, `RecurrentLSTMCell`, `RecurrentGRUCell` (never tfjs's
 * `SimpleRNNCell`, `LSTMCell`, `GRUCell`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell, CellKind, State } from '../cells/cell.js';
import { fmt, inapplicable, show } from '../check/index.js';
import { registerOnce, type Kwargs } from './base.js';
import {
  RecurrentLayer,
  type ElmanLayerArgs,
  type GruLayerArgs,
  type LstmLayerArgs,
  type RecurrentLayerArgs,
} from './recurrent.js';

/** Options of the layers that belong to the loop over time, `tf.layers.rnn`'s, not to a cell. */
const LOOP_KEYS = ['returnSequences', 'returnState', 'stateful', 'goBackwards'] as const;
type LoopKey = (typeof LOOP_KEYS)[number];
/** Options of every layer that the cell keeps for itself (the rest configure its equations). */
const OWN_KEYS = ['name', 'trainable', 'dtype'] as const;
/** Layer options applied by the layer's loop, which a cell does not run. */
const DROPOUT_KEYS = ['dropout', 'recurrentDropout', 'dropoutFunc'] as const;

export type ElmanCellArgs = Omit<ElmanLayerArgs, LoopKey>;
export type LstmCellArgs = Omit<LstmLayerArgs, LoopKey>;
export type GruCellArgs = Omit<GruLayerArgs, LoopKey>;

/** A cell as a `tf.layers.RNNCell`; see the module documentation. */
export class RecurrentCell extends tf.layers.RNNCell {
  readonly kind: CellKind;
  readonly units: number;
  /** `units`, or `[units, units]` for the LSTM (h and c): what `tf.layers.rnn` reads. */
  stateSize: number | number[];
  /** The layer whose options, weights and cell this cell has; it is never applied itself. */
  private readonly layer: RecurrentLayer;

  constructor(kind: CellKind, args: GruCellArgs) {
    const where = `layers.${kind}Cell`;
    if (args === null || typeof args !== 'object') {
      throw new TypeError(`${where}: expected an options object { units, ... }, got ${show(args)}`);
    }
    const given = args as Record<string, unknown>;
    for (const key of LOOP_KEYS) {
      if (key in given) {
        throw inapplicable(where, key, given[key], 'to a cell, one step of the equations: give it to tf.layers.rnn');
      }
    }
    for (const key of DROPOUT_KEYS) {
      const value = given[key];
      if (value !== undefined && value !== null && value !== 0) {
        throw inapplicable(
          where,
          key,
          value,
          `to a cell here: tf.layers.rnn gives a cell no start of sequence to draw its mask at; ` +
            `use rt.layers.${kind}({ ${key} }) instead of tf.layers.rnn`,
        );
      }
    }
    const own = Object.fromEntries(OWN_KEYS.filter((k) => k in given).map((k) => [k, given[k]]));
    super(own);
    const options = Object.fromEntries(
      Object.entries(given).filter(([k]) => !(OWN_KEYS as readonly string[]).includes(k)),
    );
    this.layer = new RecurrentLayer(kind, { ...(options as unknown as RecurrentLayerArgs), name: this.name });
    this.kind = kind;
    this.units = this.layer.units;
    this.stateSize = kind === 'lstm' ? [this.units, this.units] : this.units;
  }

  private get where(): string {
    return `layers.${this.kind}Cell '${this.name}'`;
  }

  /** The cell of equations (its parameters are this cell's weights); `null` until built. */
  get cell(): Cell | null {
    return this.layer.cell;
  }

  /** Creates the weights for steps `x_t: [batch, features]`, as the layer of this kind does. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length !== 2 || shape[1] === null) {
      throw new RangeError(`${this.where}: expected steps of shape [batch, features], got ${fmt(shape)}`);
    }
    this.layer.build([shape[0], null, shape[1]]);
    this.built = true;
  }

  override get trainableWeights(): tf.LayerVariable[] {
    return this.trainable ? this.layer.trainableWeights : [];
  }

  override get nonTrainableWeights(): tf.LayerVariable[] {
    return this.trainable ? this.layer.nonTrainableWeights : this.layer.weights;
  }

  /** Ours (one per symbol, as `getWeights()` gives them) or tfjs's and Keras's layout; see `RecurrentLayer.setWeights`. */
  override setWeights(weights: tf.Tensor[]): void {
    this.layer.setWeights(weights);
  }

  /** One step of the equations: `[x_t, h]` (`[x_t, h, c]`) to `[h_t, h_t]` (`[h_t, h_t, c_t]`). */
  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor[] {
    const cell = this.layer.cell;
    if (cell === null) throw new Error(`${this.where}: the cell is not built yet; use it in tf.layers.rnn`);
    const [x, ...states] = Array.isArray(inputs) ? inputs : [inputs];
    if (states.length !== cell.stateNames.length) {
      throw new Error(
        `${this.where}: expected inputs [x_t, ${cell.stateNames.join(', ')}], got ${states.length + 1} tensor(s)`,
      );
    }
    const state = Object.fromEntries(cell.stateNames.map((n, i) => [n, states[i]])) as unknown as State;
    const next = cell.step(x as tf.Tensor2D, state);
    return [next.h, ...cell.stateNames.map((n) => next[n] as tf.Tensor2D)];
  }

  /** The options of its equations and weights, for saving (tfjs's RNN saves its cell's config). */
  override getConfig(): tf.serialization.ConfigDict {
    const config = { ...this.layer.getConfig() };
    for (const key of [...LOOP_KEYS, ...OWN_KEYS, 'batchInputShape']) delete config[key];
    return { ...super.getConfig(), ...config };
  }
}

/** The Elman cell `h_t = f(W_hx x_t + W_hh h_{t-1} + b_h)` as a `tf.layers.RNNCell`. */
export class RecurrentElmanCell extends RecurrentCell {
  static className = 'RecurrentElmanCell';
  constructor(args: ElmanCellArgs) {
    super('elman', args);
  }
}

/** The LSTM cell (`rt.cells.lstm`'s equations) as a `tf.layers.RNNCell`. */
export class RecurrentLSTMCell extends RecurrentCell {
  static className = 'RecurrentLSTMCell';
  constructor(args: LstmCellArgs) {
    super('lstm', args);
  }
}

/** The GRU cell (`rt.cells.gru`'s equations) as a `tf.layers.RNNCell`. */
export class RecurrentGRUCell extends RecurrentCell {
  static className = 'RecurrentGRUCell';
  constructor(args: GruCellArgs) {
    super('gru', args);
  }
}

registerOnce(RecurrentElmanCell);
registerOnce(RecurrentLSTMCell);
registerOnce(RecurrentGRUCell);
