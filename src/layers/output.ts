/**
 * The network's output function as a layer:
 *
 * $$y_t = g(W_{yh} h_t + b_y)$$
 *
 * at every step of `h: [batch, time, unitsIn]`, or once for `h: [batch, unitsIn]`.
 *
 * | weight | shape | |
 * |--------|-------|-|
 * | `W_yh` | `[units, unitsIn]` | the document's orientation: `W_yh h_t`, computed as `H W_yh^T` (Keras's Dense kernel is its transpose) (Glorot uniform) |
 * | `b_y`  | `[units]` | bias (zeros) |
 *
 * Class name `RecurrentOutput`. A mask passes through unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { getActivation } from '../activations.js';
import { checkKeys, checkPositiveInt, checkSeed, fmt, show } from '../check/index.js';
import { freshSeed, initValues, prng } from '../init.js';
import { applyOutput } from '../output.js';
import {
  checkActivation,
  checkLayerName,
  defaultName,
  checkSetWeights,
  guardWrites,
  initializerFrom,
  LAYER_ARG_KEYS,
  registerOnce,
  singleInput,
  singleShape,
  type LayerArgs,
} from './base.js';

export interface OutputLayerArgs extends LayerArgs {
  /** The size of y. */
  units: number;
  /** g, by name (default `'linear'`; `'softmax'` for classes). */
  activation?: string;
  /** Seed of the initial `W_yh`. */
  seed?: number;
}

const WHERE = 'layers.output';

/** `y_t = g(W_yh h_t + b_y)` as a `tf.layers.Layer`; see the module documentation. */
export class RecurrentOutput extends tf.layers.Layer {
  static className = 'RecurrentOutput';
  readonly units: number;
  readonly activation: string;
  readonly seed: number | undefined;
  private readonly g: (x: tf.Tensor) => tf.Tensor;
  private W_yh: tf.LayerVariable | null = null;
  private b_y: tf.LayerVariable | null = null;

  constructor(args: OutputLayerArgs) {
    if (args === null || typeof args !== 'object') {
      throw new TypeError(`${WHERE}: expected an options object { units, activation? }, got ${show(args)}`);
    }
    checkKeys(WHERE, args, ['units', 'activation', 'seed', ...LAYER_ARG_KEYS]);
    super({ ...args, name: args.name === undefined ? defaultName('output') : checkLayerName(WHERE, args.name) });
    this.units = checkPositiveInt(WHERE, 'units', args.units);
    this.activation = checkActivation(WHERE, 'activation', args.activation ?? 'linear');
    this.g = getActivation(this.activation);
    this.seed = args.seed === undefined ? undefined : checkSeed(WHERE, args.seed);
    this.supportsMasking = true;
  }

  /** Creates `W_yh: [units, unitsIn]` (seeded Glorot uniform) and `b_y: [units]` (zeros). */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(WHERE, inputShape);
    const unitsIn = shape[shape.length - 1];
    if ((shape.length !== 2 && shape.length !== 3) || unitsIn === null) {
      throw new RangeError(
        `${WHERE}: expected input of shape [batch, time, units] or [batch, units], got ${fmt(shape)}`,
      );
    }
    const wShape = [this.units, unitsIn];
    const glorot = () => tf.tensor(initValues('glorotUniform', wShape, prng(this.seed ?? freshSeed())), wShape);
    this.W_yh = guardWrites(WHERE, this.addWeight('W_yh', wShape, 'float32', initializerFrom(glorot)));
    this.b_y = guardWrites(WHERE, this.addWeight('b_y', [this.units], 'float32', tf.initializers.zeros()));
    this.built = true;
  }

  /** The input shape with the last axis `units`. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [...singleShape(WHERE, inputShape).slice(0, -1), this.units];
  }

  /** `g(W_yh h + b_y)` along the last axis of `h`. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const h = singleInput(WHERE, inputs);
    if (this.W_yh === null || this.b_y === null) throw new Error(`${WHERE}: the layer is not built yet`);
    const unitsIn = this.W_yh.shape[1];
    if ((h.rank !== 2 && h.rank !== 3) || h.shape[h.rank - 1] !== unitsIn) {
      throw new RangeError(
        `${WHERE}: expected h of shape [batch, time, ${unitsIn}] or [batch, ${unitsIn}], got ${fmt(h.shape)}`,
      );
    }
    return applyOutput(h, this.W_yh.read(), this.b_y.read(), this.g);
  }

  /** Checks the values (count, shapes, dtype: see `checkSetWeights`), then sets them. */
  override setWeights(weights: tf.Tensor[]): void {
    checkSetWeights(WHERE, this, weights);
    super.setWeights(weights);
  }

  /** `units`, `activation` (and `seed`), for saving. */
  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { units: this.units, activation: this.activation };
    if (this.seed !== undefined) config.seed = this.seed;
    return { ...super.getConfig(), ...config };
  }
}

registerOnce(RecurrentOutput);
