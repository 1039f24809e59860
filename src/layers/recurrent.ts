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
import { createCell, definitionOf, paramShapes } from '../cells/kinds.js';
import { checkBoolean, checkKeys, checkPositiveInt, checkSeed, checkTensor, fmt, show } from '../check/index.js';
import { freshSeed } from '../init.js';
import { unroll } from '../unroll.js';
import {
  checkActivation,
  checkSetWeights,
  guardWrites,
  initializerFrom,
  LAYER_ARG_KEYS,
  registerOnce,
  singleInput,
  singleShape,
  type DisposeResult,
  type Kwargs,
  type LayerArgs,
} from './base.js';

/** Options of every recurrent layer. */
export interface RecurrentLayerArgs extends LayerArgs {
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
   * Seed of the initial weights. With `goBackwards` the seed is offset, so that the two halves of
   * a `tf.layers.bidirectional` wrapper (same config, `goBackwards` flipped) start different.
   */
  seed?: number;
}

export type ElmanLayerArgs = RecurrentLayerArgs;

export interface LstmLayerArgs extends RecurrentLayerArgs {
  /** σ of the gates (default `'sigmoid'`; tfjs's own LSTM defaults to `'hardSigmoid'`). */
  recurrentActivation?: string;
}

export interface GruLayerArgs extends LstmLayerArgs {
  /** The reset gate after the recurrent matMul (default `true`, as PyTorch and Keras 3). */
  resetAfter?: boolean;
}

const COMMON_KEYS = ['units', 'activation', 'returnSequences', 'returnState', 'stateful', 'goBackwards', 'seed'];
const KIND_KEYS: Record<CellKind, readonly string[]> = {
  elman: [],
  lstm: ['recurrentActivation'],
  gru: ['recurrentActivation', 'resetAfter'],
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
    checkKeys(where, args, [...COMMON_KEYS, ...KIND_KEYS[kind], ...LAYER_ARG_KEYS]);
    super(args);
    this.kind = kind;
    this.units = checkPositiveInt(where, 'units', args.units);
    this.activation = checkActivation(where, 'activation', args.activation ?? 'tanh');
    this.recurrentActivation =
      kind === 'elman'
        ? undefined
        : checkActivation(where, 'recurrentActivation', args.recurrentActivation ?? 'sigmoid');
    this.resetAfter = kind === 'gru' ? checkBoolean(where, 'resetAfter', args.resetAfter ?? true) : undefined;
    this.returnSequences = checkBoolean(where, 'returnSequences', args.returnSequences ?? false);
    this.returnState = checkBoolean(where, 'returnState', args.returnState ?? false);
    this.goBackwards = checkBoolean(where, 'goBackwards', args.goBackwards ?? false);
    this._stateful = checkBoolean(where, 'stateful', args.stateful ?? false);
    this.seed = args.seed === undefined ? undefined : checkSeed(where, args.seed);
    this.supportsMasking = true;
  }

  private get where(): string {
    return `layers.${this.kind} '${this.name}'`;
  }

  /** `h`, or `h` and `c` for the LSTM. */
  private get stateCount(): number {
    return this.kind === 'lstm' ? 2 : 1;
  }

  /** The cell, or a clear error before `build()`. */
  private builtCell(): Cell {
    if (this.cell === null) throw new Error(`${this.where}: the layer is not built yet; apply it to an input first`);
    return this.cell;
  }

  /** Creates the weights (the cell's parameters, seeded) and the cell that reads them. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(this.where, inputShape);
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
    };
    const seed = this.seed === undefined ? freshSeed() : this.seed + (this.goBackwards ? BACKWARD_SEED_OFFSET : 0);
    // The cell's seeded initialisers, drawn only if tfjs asks for initial values.
    const seeded: { cell?: Cell } = {};
    const params: Record<string, tf.Variable> = {};
    for (const [symbol, shape] of paramShapes(config)) {
      const initial = initializerFrom(() => (seeded.cell ??= createCell(config, { seed })).params[symbol].clone());
      params[symbol] = guardWrites(this.where, this.addWeight(symbol, shape, 'float32', initial)).read() as tf.Variable;
    }
    seeded.cell?.dispose();
    this.cell = createCell(config, { params });
    this.built = true;
    if (this.stateful) this.resetStates();
  }

  /** `[batch, time, units]` or `[batch, units]`, followed by `[batch, units]` per state with `returnState`. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const [batch, time] = singleShape(this.where, inputShape);
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

  /** Runs {@link unroll} over `x: [batch, time, features]`; see the module documentation for what it returns. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const cell = this.builtCell();
      if (kwargs.initialState != null) {
        throw new Error(
          `${this.where}: initialState is not supported by the layer; use rt.unroll(cell, x, { initialState })`,
        );
      }
      const x = singleInput(this.where, inputs);
      checkTensor(this.where, 'x', x, [this.stateful ? this.batchSize : 'batch', 'time', cell.inputSize]);
      const mask = (Array.isArray(kwargs.mask) ? kwargs.mask[0] : kwargs.mask) ?? undefined;
      const initialState = this.stateful ? this.currentState() : undefined;
      const { outputs, state } = unroll(cell, x, { initialState, reverse: this.goBackwards, mask });
      const states = cell.stateNames.map((name) => state[name] as tf.Tensor2D);
      if (this.stateful) this.carryStates(states, kwargs.training === true);
      // unroll keeps input order; tfjs's goBackwards returns processing order.
      const sequence = this.goBackwards ? tf.reverse(outputs, 1) : outputs;
      const y = this.returnSequences ? sequence : state.h;
      return this.returnState ? [y, ...states] : y;
    });
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
    if (result.refCountAfterDispose === 0) this.disposeStates();
    return result;
  }

  /** Checks the values (count, shapes, dtype: see `checkSetWeights`), then sets them. */
  override setWeights(weights: tf.Tensor[]): void {
    checkSetWeights(this.where, this, weights);
    super.setWeights(weights);
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
    return { ...super.getConfig(), ...config };
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
