/**
 * The cells as `tf.layers.Layer`s: one generic layer, {@link RecurrentLayer}, adapts any cell to
 * tf.layers, and three thin subclasses give each kind its class name for saving and loading.
 *
 * The layer's weights are the cell's parameters, named by their symbols (`W_hx`, `W_hh`, `b_h`;
 * `W_ix` … `b_o`; `W_zx` … `b_n`, `b_nh`) and in the document's orientation (`W_hx: [units,
 * inputSize]`, not Keras's `kernel: [inputSize, units]`). `build()` creates them with the cell's
 * seeded initialisers (Glorot uniform inputs, orthogonal recurrences, zero biases, LSTM `b_f = 1`),
 * `call()` runs {@link unroll}: the layer itself has no loop.
 *
 * tfjs's other options (`useBias`, initializers, regularizers, constraints, `dropout`,
 * `recurrentDropout`, `dropoutFunc`, `unitForgetBias`, `implementation`, `unroll`, `inputDim`,
 * `inputLength`) act as in tfjs (Keras where tfjs ignores one), on the fused view of the weights
 * tfjs's layer holds: see `./options.ts` and `./dropout.ts`.
 *
 * Semantics follow tfjs's own recurrent layers:
 * - input `[batch, time, features]`; output `h_T: [batch, units]`, or `h_t` at every step
 *   `[batch, time, units]` with `returnSequences`;
 * - `returnState` appends the final state: `[y, h]`, or `[y, h, c]` for the LSTM;
 * - `goBackwards` processes the sequence from the last step to the first and, with
 *   `returnSequences`, returns the outputs in processing order (the first row belongs to x_T);
 * - a mask (from `tf.layers.masking`) makes padded steps carry the state and the output forward;
 * - `stateful` keeps the final state of each batch as the initial state of the next; the batch
 *   size must then be fixed (`batchInputShape`), and `resetStates()` sets the state to zeros.
 *
 * Class names: `RecurrentElman`, `RecurrentLSTM`, `RecurrentGRU` (never tfjs's `SimpleRNN`,
 * `LSTM`, `GRU`, which registering would silently replace).
 */
import * as tf from '@tensorflow/tfjs';
import { checkCellSize, type Cell, type CellConfig, type CellKind, type State } from '../cells/cell.js';
import { createCell, DEFAULT_ACTIVATION, definitionOf, paramShapes } from '../cells/kinds.js';
import {
  checkBoolean,
  checkKeys,
  checkPositiveInt,
  checkSeed,
  checkTensor,
  describe,
  fmt,
  show,
} from '../check/index.js';
import { freshSeed } from '../init.js';
import { paramsFromKeras } from '../interop/keras.js';
import { unroll } from '../unroll.js';
import {
  checkActivation,
  checkLayerName,
  checkSetWeights,
  defaultName,
  guardWrites,
  initializerFrom,
  LAYER_ARG_KEYS,
  registerOnce,
  singleShape,
  type DisposeResult,
  type Kwargs,
  type LayerArgs,
} from './base.js';
import { dropoutMask } from './dropout.js';
import {
  activityPenalty,
  addRegularizers,
  constrainWrites,
  initialValues,
  optionKeys,
  optionsConfig,
  weightOptions,
  withInputDims,
  type ImplementationArg,
  type TfjsRecurrentArgs,
  type UnitForgetBiasArg,
  type WeightOptions,
} from './options.js';

/** Options of every recurrent layer. */
export interface RecurrentLayerArgs extends LayerArgs, TfjsRecurrentArgs {
  /** The size of h. */
  units: number;
  /** f of the Elman cell; the tanh of the LSTM and GRU (default `'tanh'`). */
  activation?: string;
  /** Return `h_t` at every step instead of the last one (default `false`). */
  returnSequences?: boolean;
  /** Also return the final state (default `false`). */
  returnState?: boolean;
  /** Carry the final state of a batch into the next (default `false`). */
  stateful?: boolean;
  /** Process the sequence backwards (default `false`). */
  goBackwards?: boolean;
  /**
   * Seed of the initial weights (where no tfjs initializer is given) and of the dropout masks. With
   * `goBackwards` the seed is offset, so that the two halves of a `tf.layers.bidirectional`
   * wrapper (same config, `goBackwards` flipped) start different.
   */
  seed?: number;
}

export type ElmanLayerArgs = RecurrentLayerArgs;

export interface LstmLayerArgs extends RecurrentLayerArgs, UnitForgetBiasArg, ImplementationArg {
  /** σ of the gates (default `'sigmoid'`; tfjs's own LSTM defaults to `'hardSigmoid'`). */
  recurrentActivation?: string;
}

export interface GruLayerArgs extends Omit<LstmLayerArgs, 'unitForgetBias'> {
  /** The reset gate after the recurrent matMul (default `true`, as PyTorch and Keras 3). */
  resetAfter?: boolean;
}

const COMMON_KEYS = ['units', 'activation', 'returnSequences', 'returnState', 'stateful', 'goBackwards', 'seed'];
const KIND_KEYS: Record<CellKind, readonly string[]> = {
  elman: [],
  lstm: ['recurrentActivation'],
  gru: ['recurrentActivation', 'resetAfter'],
  mingru: ['recurrentActivation'],
  minlstm: ['recurrentActivation'],
  lru: [],
  indrnn: [],
};
/** Added to `seed` for a backward layer (a prime, so forward and backward seeds never meet). */
const BACKWARD_SEED_OFFSET = 104729;

/** A recurrent `tf.layers.Layer` over one of the cells; see the module documentation. */
export class RecurrentLayer extends tf.layers.Layer {
  readonly kind: CellKind;
  readonly units: number;
  readonly activation: string;
  /** σ of the gates (LSTM and GRU). */
  readonly recurrentActivation: string | undefined;
  /** GRU only. */
  readonly resetAfter: boolean | undefined;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly seed: number | undefined;
  /** tfjs's options beyond the equations (initializers, regularizers, constraints, dropout, …), resolved. */
  readonly options: WeightOptions;
  /** The dropout masks of the n-th training call are drawn from this seed and n. */
  private readonly dropoutSeed: number;
  private dropoutCalls = 0;
  /** The activity penalty of the last training call (a loss of the layer), or null. */
  private activityLoss: tf.Scalar | null = null;
  /** The cell whose parameters are this layer's weights; `null` until the layer is built. */
  cell: Cell | null = null;
  private batchSize: number | null = null;
  private states_: tf.Tensor2D[] | null = null;
  /**
   * Earlier states kept alive for backpropagation during training, with the gradient tape that
   * may need them; freed once that tape is done (see {@link freeFinishedStates}) or by `resetStates`.
   */
  private keptStates: { tape: unknown; states: tf.Tensor2D[] }[] = [];

  constructor(kind: CellKind, args: GruLayerArgs) {
    const where = `layers.${kind}`;
    if (args === null || typeof args !== 'object') {
      throw new TypeError(`${where}: expected an options object { units, ... }, got ${show(args)}`);
    }
    checkKeys(where, args, [...COMMON_KEYS, ...KIND_KEYS[kind], ...optionKeys(kind), ...LAYER_ARG_KEYS]);
    super({
      ...withInputDims(where, args),
      name: args.name === undefined ? defaultName(kind) : checkLayerName(where, args.name),
    });
    this.kind = kind;
    this.units = checkPositiveInt(where, 'units', args.units);
    this.activation = checkActivation(where, 'activation', args.activation ?? DEFAULT_ACTIVATION[kind]);
    this.recurrentActivation = !KIND_KEYS[kind].includes('recurrentActivation')
      ? undefined
      : checkActivation(where, 'recurrentActivation', args.recurrentActivation ?? 'sigmoid');
    this.resetAfter = kind === 'gru' ? checkBoolean(where, 'resetAfter', args.resetAfter ?? true) : undefined;
    this.returnSequences = checkBoolean(where, 'returnSequences', args.returnSequences ?? false);
    this.returnState = checkBoolean(where, 'returnState', args.returnState ?? false);
    this.goBackwards = checkBoolean(where, 'goBackwards', args.goBackwards ?? false);
    this._stateful = checkBoolean(where, 'stateful', args.stateful ?? false);
    this.seed = args.seed === undefined ? undefined : checkSeed(where, args.seed);
    this.options = weightOptions(where, kind, args);
    this.dropoutSeed =
      this.seed === undefined ? freshSeed() : this.seed + (this.goBackwards ? BACKWARD_SEED_OFFSET : 0);
    this.supportsMasking = true;
    // No constraint of its own (build() and call() check with messages that name the layer): an
    // input spec for tf.layers.bidirectional and apply() to append the initial states' specs to.
    this.inputSpec = [new tf.InputSpec({})];
  }

  private get where(): string {
    return `layers.${this.kind} '${this.name}'`;
  }

  /** `h`, or `h` and `c` for the LSTM. */
  private get stateCount(): number {
    return definitionOf(this.kind).stateNames.length;
  }

  /** The cell, or a clear error before `build()`. */
  private builtCell(): Cell {
    if (this.cell === null) throw new Error(`${this.where}: the layer is not built yet; apply it to an input first`);
    return this.cell;
  }

  /** Creates the weights (the cell's parameters, seeded) and the cell that reads them. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = this.sequenceShape(inputShape);
    const inputSize = shape[2];
    if (shape.length !== 3 || inputSize === null) {
      throw new RangeError(`${this.where}: expected input of shape [batch, time, features], got ${fmt(shape)}`);
    }
    if (this.stateful) {
      if (shape[0] === null) {
        throw new Error(
          `${this.where}: a stateful layer needs a fixed batch size; give the first layer batchInputShape ` +
            `(e.g. [4, null, ${inputSize}]) or tf.input({ batchShape })`,
        );
      }
      this.batchSize = shape[0];
    }
    checkCellSize(this.where, definitionOf(this.kind), inputSize, this.units);
    const config: CellConfig = {
      kind: this.kind,
      inputSize,
      units: this.units,
      activation: this.activation,
      recurrentActivation: this.recurrentActivation,
      resetAfter: this.resetAfter,
      ...(!this.options.useBias && { useBias: false }),
    };
    const seed = this.seed === undefined ? freshSeed() : this.seed + (this.goBackwards ? BACKWARD_SEED_OFFSET : 0);
    const def = definitionOf(this.kind);
    // The initial values (the cell's seeded initialisers, tfjs's where given), drawn only if tfjs asks for them.
    const drawn: { values?: Record<string, tf.Tensor> } = {};
    const draw = () => {
      const seeded = createCell(config, { seed });
      const values = initialValues(def, config, this.options, seeded.params);
      seeded.dispose();
      return values;
    };
    const params: Record<string, tf.Variable> = {};
    for (const [symbol, shape] of paramShapes(config)) {
      const initial = initializerFrom(() => (drawn.values ??= draw())[symbol].clone());
      params[symbol] = guardWrites(this.where, this.addWeight(symbol, shape, 'float32', initial)).read() as tf.Variable;
    }
    tf.dispose(Object.values(drawn.values ?? {}));
    addRegularizers(this, def, config, this.options, params);
    constrainWrites(def, config, this.options, params);
    if (this.options.activityRegularizer) this.addLoss(() => this.takeActivityLoss());
    this.cell = createCell(config, { params });
    this.built = true;
    if (this.stateful) this.resetStates();
  }

  /** `[batch, time, units]` or `[batch, units]`, followed by `[batch, units]` per state with `returnState`. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const [batch, time] = this.sequenceShape(inputShape);
    const output = this.returnSequences ? [batch, time, this.units] : [batch, this.units];
    if (!this.returnState) return output;
    return [output, ...Array.from({ length: this.stateCount }, () => [batch, this.units])];
  }

  /** The input mask passes on with `returnSequences`; states and last steps carry none. */
  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const inputMask = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    const outputMask = this.returnSequences ? inputMask : null;
    const masks = this.returnState ? [outputMask, ...new Array<null>(this.stateCount).fill(null)] : outputMask;
    // tfjs represents "no mask" by null, which its types do not admit.
    return masks as tf.Tensor | tf.Tensor[];
  }

  /**
   * tfjs's `apply`, taking the initial state as tfjs's recurrent layers do: `apply(x, { initialState:
   * [h] })` (`[h, c]` for the LSTM), or `apply([x, h, c])`. Tensors reach `call()` through the
   * keyword arguments. Symbolic states (a `tf.input`, another layer's output) become inputs of the
   * layer's node, so the layers computing them belong to the model and their values reach `call()`
   * when it runs (tfjs passes the keyword arguments of a symbolic `apply` on to no layer but its
   * own `RNN`).
   */
  override apply(
    inputs: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[],
    kwargs?: Kwargs,
  ): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[] {
    const [x, ...inInputs] = Array.isArray(inputs) ? inputs : [inputs];
    const { initialState, ...rest } = kwargs ?? {};
    if (rest.constants != null) {
      throw new Error(`${this.where}: constants are not supported (by tfjs's recurrent layers neither)`);
    }
    if (inInputs.length > 0 && initialState != null) {
      throw new Error(`${this.where}: initialState given twice, as inputs after x and as { initialState }`);
    }
    const listed: unknown[] = initialState == null ? [] : Array.isArray(initialState) ? initialState : [initialState];
    const states = inInputs.length > 0 ? inInputs : listed;
    if (states.length === 0) return super.apply(x, rest);
    this.checkStateCount(states.length);
    const symbolic = x instanceof tf.SymbolicTensor;
    if (states.some((s) => s instanceof tf.SymbolicTensor !== symbolic)) {
      throw new TypeError(
        `${this.where}: expected x and initialState all symbolic (tf.input, a layer's output) or all ` +
          `tf.Tensors, got x ${symbolic ? 'symbolic' : 'a tf.Tensor'} and initialState ${states.map(describe).join(', ')}`,
      );
    }
    if (!symbolic) return super.apply(x, { ...rest, initialState: states as tf.Tensor[] });
    const symbolicStates = states as tf.SymbolicTensor[];
    const own = this.inputSpec;
    this.inputSpec = [...own, ...symbolicStates.map((s) => new tf.InputSpec({ shape: s.shape }))];
    try {
      return super.apply([x as tf.SymbolicTensor, ...symbolicStates], rest);
    } finally {
      this.inputSpec = own;
    }
  }

  /**
   * `[batch, time, features]`: the only input shape, or the first one when initial states follow
   * it (tf.layers.bidirectional hands its layers the states of both directions).
   */
  private sequenceShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return Array.isArray(inputShape[0]) ? (inputShape[0] as tf.Shape) : singleShape(this.where, inputShape);
  }

  private checkStateCount(count: number): void {
    if (count !== this.stateCount) {
      const names = definitionOf(this.kind).stateNames.join(', ');
      throw new Error(`${this.where}: expected initialState of ${this.stateCount} tensor(s) (${names}), got ${count}`);
    }
  }

  /** The initial state handed to `call()` (as inputs after x, or in its keyword arguments), checked; or undefined. */
  private givenState(states: unknown, batch: number): State | undefined {
    if (states == null) return undefined;
    const list: unknown[] = Array.isArray(states) ? states : [states];
    this.checkStateCount(list.length);
    const [h, c] = list.map(
      (s, i) =>
        checkTensor(this.where, `initialState[${i}]`, s, [
          this.stateful ? this.batchSize : batch,
          this.units,
        ]) as tf.Tensor2D,
    );
    return c ? { h, c } : { h };
  }

  /** Runs {@link unroll} over `x: [batch, time, features]`; see the module documentation for what it returns. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const training = kwargs.training === true;
    const out = tf.tidy(() => {
      const cell = this.builtCell();
      const [x, ...given] = Array.isArray(inputs) ? inputs : [inputs];
      checkTensor(this.where, 'x', x, [this.stateful ? this.batchSize : 'batch', 'time', cell.inputSize]);
      const mask = (Array.isArray(kwargs.mask) ? kwargs.mask[0] : kwargs.mask) ?? undefined;
      const initialState =
        this.givenState(given.length > 0 ? given : kwargs.initialState, x.shape[0]) ??
        (this.stateful ? this.currentState() : undefined);
      const { input, recurrentMask } = this.dropoutMasks(x, training);
      const { outputs, state } = unroll(cell, input, {
        initialState,
        reverse: this.goBackwards,
        mask,
        ...(recurrentMask && { recurrentMask }),
      });
      const states = cell.stateNames.map((name) => state[name] as tf.Tensor2D);
      if (this.stateful) this.carryStates(states, kwargs.training === true);
      // unroll keeps input order; tfjs's goBackwards returns processing order.
      const sequence = this.goBackwards ? tf.reverse(outputs, 1) : outputs;
      const y = this.returnSequences ? sequence : state.h;
      return this.returnState ? [y, ...states] : y;
    });
    const regularizer = this.options.activityRegularizer;
    // Kept: a model's apply (rt.train's forward) runs the layers in a tidy that would free it
    // before the layer's losses are read; the previous call's (its gradient done) is freed here.
    this.activityLoss?.dispose();
    this.activityLoss =
      training && regularizer ? tf.keep(activityPenalty(regularizer, Array.isArray(out) ? out : [out])) : null;
    return out;
  }

  /**
   * While training with `dropout` / `recurrentDropout`: the input with its mask applied (one
   * `[batch, features]` mask for every step) and the recurrent mask `[batch, units]`, new for each
   * call (from the layer's seed and the number of calls, or from `dropoutFunc`). Otherwise `x` as it is.
   */
  private dropoutMasks(x: tf.Tensor, training: boolean): { input: tf.Tensor; recurrentMask?: tf.Tensor2D } {
    const { dropout, recurrentDropout, dropoutFunc } = this.options;
    if (!training || (dropout === 0 && recurrentDropout === 0)) return { input: x };
    const call = this.dropoutCalls++;
    const [batch, , features] = x.shape;
    const mask = (name: string, rate: number, size: number) =>
      dropoutMask(this.where, name, [batch, size], rate, dropoutFunc, `${this.dropoutSeed}:${call}:${name}`);
    const input = dropout > 0 ? tf.mul(x, tf.expandDims(mask('dropout', dropout, features), 1)) : x;
    return recurrentDropout > 0
      ? { input, recurrentMask: mask('recurrentDropout', recurrentDropout, this.units) }
      : { input };
  }

  /** The activity penalty of the last training call, or 0 (a loss of the layer: `model.fit` and `rt.train` add it). */
  private takeActivityLoss(): tf.Scalar {
    return this.activityLoss && !this.activityLoss.isDisposed ? this.activityLoss : tf.scalar(0);
  }

  /** The current state of a stateful layer (`[h]` or `[h, c]`), or nulls when there is none. */
  get states(): (tf.Tensor2D | null)[] {
    return this.states_ ? [...this.states_] : new Array<null>(this.stateCount).fill(null);
  }

  private currentState(): State {
    const [h, c] = this.states_ as tf.Tensor2D[];
    return c ? { h, c } : { h };
  }

  /** Keeps copies of the new state; the old one is kept too while training (the tape needs it). */
  private carryStates(states: tf.Tensor2D[], training: boolean): void {
    this.freeFinishedStates();
    if (this.states_) {
      const tape = activeTape();
      if (training && tape !== null) this.keptStates.push({ tape, states: this.states_ });
      else tf.dispose(this.states_);
    }
    this.states_ = states.map((s) => tf.keep(s.clone()));
  }

  /**
   * Frees the kept states whose gradient tape is done. tfjs records a gradient computation
   * (`tf.variableGrads`, `optimizer.minimize`, `model.fit`'s step) on one tape, forward and
   * backward within one synchronous call; a new outermost computation starts a new tape. So a
   * state kept under another tape than the active one (or with none active) is needed no more.
   * Without this a stateful layer trained with `rt.train` or `model.fit` kept one tensor per
   * step until `resetStates()`.
   */
  private freeFinishedStates(): void {
    const tape = activeTape();
    const done = this.keptStates.filter((k) => k.tape !== tape);
    if (done.length === 0) return;
    tf.dispose(done.flatMap((k) => k.states));
    this.keptStates = this.keptStates.filter((k) => k.tape === tape);
  }

  /**
   * Sets the state of a stateful layer to zeros, or to `states` (`h`, or `[h, c]` for the LSTM,
   * each `[batchSize, units]`), and frees the states kept for training.
   */
  override resetStates(states?: tf.Tensor | tf.Tensor[]): void {
    if (!this.stateful) throw new Error(`${this.where}: resetStates() needs a layer created with stateful: true`);
    const cell = this.builtCell();
    const batch = this.batchSize as number;
    let next: tf.Tensor2D[];
    if (states === undefined) {
      next = cell.stateNames.map(() => tf.keep(tf.zeros([batch, this.units])));
    } else {
      const given = Array.isArray(states) ? states : [states];
      if (given.length !== this.stateCount) {
        throw new Error(
          `${this.where}: expected ${this.stateCount} state tensor(s) (${cell.stateNames.join(', ')}), got ${given.length}`,
        );
      }
      given.forEach((s, i) => checkTensor(this.where, `states[${i}]`, s, [batch, this.units]));
      next = given.map((s) => tf.keep(s.clone() as tf.Tensor2D));
    }
    this.disposeStates();
    this.states_ = next;
  }

  private disposeStates(): void {
    tf.dispose([...(this.states_ ?? []), ...this.keptStates.flatMap((k) => k.states)]);
    this.states_ = null;
    this.keptStates = [];
  }

  /** Disposes the weights (once no model holds the layer) and the stored states. */
  override dispose(): DisposeResult {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      this.disposeStates();
      this.activityLoss?.dispose();
      this.activityLoss = null;
    }
    return result;
  }

  /**
   * Sets the weights from ours (`getWeights()`: one per symbol, checked by `checkSetWeights`) or
   * from tfjs's and Keras's layout (`[kernel, recurrent_kernel, bias]`, or without bias; a GRU
   * with `resetAfter` takes Keras 3's `[2, 3 * units]` bias): `setWeights(tfjsLayer.getWeights())`
   * then computes what the tfjs layer computes (see `rt.interop.fromKeras` for the layout). When
   * both read the values (an Elman layer with `inputSize === units` has three square-matrix
   * weights either way), they are ours unless they are a tfjs layer's own variables (named
   * `…/kernel`).
   */
  override setWeights(weights: tf.Tensor[]): void {
    const symbols = this.weights.map((w) => w.originalName.split('/').pop() as string);
    if (Array.isArray(weights) && (weights.length === 2 || weights.length === 3) && !this.ours(weights)) {
      const values = paramsFromKeras(
        `${this.where}.setWeights`,
        this.kind,
        this.units,
        weights,
        this.resetAfter === true,
      );
      try {
        const unused = Object.keys(values).filter((k) => !symbols.includes(k) && weights.length === 3);
        if (unused.length > 0) {
          throw new Error(
            `${this.where}.setWeights: the Keras weights have a bias (${unused.join(', ')}), the layer has none`,
          );
        }
        const converted = symbols.map((k) => values[k]);
        checkSetWeights(`${this.where}.setWeights`, this, converted);
        super.setWeights(converted);
      } finally {
        tf.dispose(Object.values(values));
      }
      return;
    }
    if (Array.isArray(weights) && weights.length !== symbols.length) {
      throw new Error(
        `${this.where}.setWeights: expected ${symbols.length} weights (${symbols.join(', ')}) or Keras's ` +
          `[kernel, recurrent_kernel, bias] (2 without bias), got ${weights.length}`,
      );
    }
    checkSetWeights(this.where, this, weights);
    super.setWeights(weights);
  }

  /** Whether `values` read as our weights: their count and shapes, and not a tfjs layer's `kernel` variables. */
  private ours(values: tf.Tensor[]): boolean {
    const weights = this.weights;
    const first = values[0];
    const kerasNamed = first instanceof tf.Variable && /(^|\/)kernel(_\d+)?$/.test(first.name);
    return (
      !kerasNamed &&
      values.length === weights.length &&
      values.every((v, i) => v instanceof tf.Tensor && v.shape.join() === weights[i].shape.join())
    );
  }

  /** The options, for saving and for `tf.layers.bidirectional` (which rebuilds the layer from them). */
  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      units: this.units,
      activation: this.activation,
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      stateful: this.stateful,
      goBackwards: this.goBackwards,
    };
    if (this.recurrentActivation !== undefined) config.recurrentActivation = this.recurrentActivation;
    if (this.resetAfter !== undefined) config.resetAfter = this.resetAfter;
    if (this.seed !== undefined) config.seed = this.seed;
    // The options of ./options.ts only where the kind takes them (not the modern cells).
    return { ...super.getConfig(), ...config, ...(optionKeys(this.kind).length > 0 && optionsConfig(this.options)) };
  }
}

/** `h_t = f(W_hx x_t + W_hh h_{t-1} + b_h)` as a layer. */
export class RecurrentElman extends RecurrentLayer {
  static className = 'RecurrentElman';
  constructor(args: ElmanLayerArgs) {
    super('elman', args);
  }
}

/** The LSTM cell as a layer. */
export class RecurrentLSTM extends RecurrentLayer {
  static className = 'RecurrentLSTM';
  constructor(args: LstmLayerArgs) {
    super('lstm', args);
  }
}

/** The GRU cell as a layer. */
export class RecurrentGRU extends RecurrentLayer {
  static className = 'RecurrentGRU';
  constructor(args: GruLayerArgs) {
    super('gru', args);
  }
}

/** The gradient tape being recorded (an array tfjs replaces for every outermost gradient), or null. */
function activeTape(): unknown {
  const state = tf.engine().state;
  return state.gradientDepth > 0 ? state.activeTape : null;
}

registerOnce(RecurrentElman);
registerOnce(RecurrentLSTM);
registerOnce(RecurrentGRU);
