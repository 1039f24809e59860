/**
 * The options tfjs's recurrent layers take beyond the equations, for ours: initializers,
 * regularizers and constraints of the weights, `useBias`, `unitForgetBias`, dropout, and the
 * options that change nothing here (`implementation`, `unroll`) or only the input shape
 * (`inputDim`, `inputLength`).
 *
 * Initializers, regularizers and constraints are resolved by tfjs itself (a name such as
 * `'orthogonal'`, a `{ className, config }` object, or a `tf.initializers` / `tf.regularizers` /
 * `tf.constraints` instance), and each sees the weights as tfjs's layer holds them: the fused view
 * of a group of per-symbol parameters,
 *
 * | group       | view                                  | per-symbol parameters               |
 * |-------------|---------------------------------------|-------------------------------------|
 * | `kernel`    | `[inputSize, G*units]` = `[W_ax; …]^T` | `W_kx` (a column block each)        |
 * | `recurrent` | `[units, G*units]` = `[W_ah; …]^T`    | `W_kh`                              |
 * | `bias`      | `[B*units]` = `[b_a, …]`               | `b_k` (and the GRU's `b_nh` last)   |
 *
 * in the cell's gate order (LSTM i, f, g, o as tfjs's i, f, c, o; GRU z, r, n as tfjs's z, r, h).
 * So an initializer draws the fused matrix tfjs would draw (an orthogonal one stays orthogonal) and
 * the parameters are its slices; a regularizer's penalty is the one tfjs computes on the fused
 * weight; a constraint projects the fused weight (e.g. `maxNorm` over axis 0 of the kernel).
 */
import * as tf from '@tensorflow/tfjs';
import { recurrentBiasOf, type CellConfig, type CellDefinition, type CellKind } from '../cells/cell.js';
import { checkBoolean, checkOneOf, checkPositiveInt, fmt, show } from '../check/index.js';
import { checkDropoutFunc, checkRate, type DropoutFunc } from './dropout.js';
import type { LayerArgs } from './base.js';

type DenseArgs = NonNullable<Parameters<typeof tf.layers.dense>[0]>;
/** An initializer as tfjs takes one: a name, a `{ className, config }` object, or an instance. */
export type InitializerArg = NonNullable<DenseArgs['kernelInitializer']> | tf.serialization.ConfigDict;
/** A regularizer as tfjs takes one: a name (`'l1l2'`), a `{ className, config }` object, or an instance. */
export type RegularizerArg = NonNullable<DenseArgs['kernelRegularizer']> | tf.serialization.ConfigDict;
/** A constraint as tfjs takes one: a name (`'maxNorm'`, `'nonNeg'`, …), an object, or an instance. */
export type ConstraintArg = NonNullable<DenseArgs['kernelConstraint']> | tf.serialization.ConfigDict;

type TfjsInitializer = ReturnType<typeof tf.initializers.zeros>;
type TfjsRegularizer = ReturnType<typeof tf.regularizers.l1l2>;
type TfjsConstraint = ReturnType<typeof tf.constraints.maxNorm>;

/** The weight groups tfjs's layers hold: `kernel`, `recurrent_kernel`, `bias`. */
export type WeightGroup = 'kernel' | 'recurrent' | 'bias';
const GROUPS: readonly WeightGroup[] = ['kernel', 'recurrent', 'bias'];

/** The options of this file, as tfjs's recurrent layers name them. */
export interface TfjsRecurrentArgs {
  /** `false`: no biases (default `true`). */
  useBias?: boolean;
  /** Draws the fused kernel `[inputSize, G*units]` (default: ours, Glorot uniform per symbol, seeded). */
  kernelInitializer?: InitializerArg;
  /** Draws the fused recurrent kernel `[units, G*units]` (default: ours, orthogonal per symbol, seeded). */
  recurrentInitializer?: InitializerArg;
  /** Draws the fused bias (default zeros; the LSTM's `b_f` ones with `unitForgetBias`). */
  biasInitializer?: InitializerArg;
  /** A penalty on the fused kernel, added to the training loss (`model.fit`, `rt.train`). */
  kernelRegularizer?: RegularizerArg;
  /** A penalty on the fused recurrent kernel. */
  recurrentRegularizer?: RegularizerArg;
  /** A penalty on the fused bias. */
  biasRegularizer?: RegularizerArg;
  /** A penalty on the layer's outputs while training (tf.keras 2: each output's penalty over the batch size). */
  activityRegularizer?: RegularizerArg;
  /** Projects the fused kernel after every update (and every write, as tfjs's `LayerVariable`). */
  kernelConstraint?: ConstraintArg;
  /** Projects the fused recurrent kernel after every update. */
  recurrentConstraint?: ConstraintArg;
  /** Projects the fused bias after every update. */
  biasConstraint?: ConstraintArg;
  /** The fraction of the inputs' units dropped while training (one mask per sequence; default 0). */
  dropout?: number;
  /** The fraction of `h_{t-1}`'s units dropped in the recurrent terms while training (default 0). */
  recurrentDropout?: number;
  /** Makes the dropout masks: `(ones, rate) => mask` (default: drawn from the layer's `seed`). */
  dropoutFunc?: DropoutFunc;
  /** Accepted as tfjs does; changes nothing (the whole sequence runs as one loop either way). */
  unroll?: boolean;
  /** With `inputLength`, the input shape `[inputLength, inputDim]` of a first layer (Keras 1's form). */
  inputDim?: number;
  /** See `inputDim`. */
  inputLength?: number;
}

/** LSTM only: `b_f` starts at ones (default `true`, as Keras; tfjs's own LSTM leaves it `false`). */
export interface UnitForgetBiasArg {
  unitForgetBias?: boolean;
}

/** LSTM and GRU: accepted (1 or 2; 0 as tfjs, deprecated); changes nothing, as in tfjs. */
export interface ImplementationArg {
  implementation?: number;
}

const COMMON_KEYS = [
  'useBias',
  'kernelInitializer',
  'recurrentInitializer',
  'biasInitializer',
  'kernelRegularizer',
  'recurrentRegularizer',
  'biasRegularizer',
  'activityRegularizer',
  'kernelConstraint',
  'recurrentConstraint',
  'biasConstraint',
  'dropout',
  'recurrentDropout',
  'dropoutFunc',
  'unroll',
  'inputDim',
  'inputLength',
] as const;

/** The option keys of this file a layer of `kind` accepts (the cells with gates `W_kx`, `W_kh`, `b_k`: Elman, LSTM, GRU). */
export function optionKeys(kind: CellKind): string[] {
  if (kind !== 'elman' && kind !== 'lstm' && kind !== 'gru') return [];
  if (kind === 'lstm') return [...COMMON_KEYS, 'unitForgetBias', 'implementation'];
  if (kind === 'gru') return [...COMMON_KEYS, 'implementation'];
  return [...COMMON_KEYS];
}

/** The options of this file, resolved. */
export interface WeightOptions {
  useBias: boolean;
  initializers: Partial<Record<WeightGroup, TfjsInitializer>>;
  regularizers: Partial<Record<WeightGroup, TfjsRegularizer>>;
  activityRegularizer?: TfjsRegularizer;
  constraints: Partial<Record<WeightGroup, TfjsConstraint>>;
  /** LSTM only. */
  unitForgetBias?: boolean;
  dropout: number;
  recurrentDropout: number;
  dropoutFunc?: DropoutFunc;
  implementation?: number;
  unroll?: boolean;
}

const FIELD = { initializers: 'Initializer', regularizers: 'Regularizer', constraints: 'Constraint' } as const;
/** The layer name of the tfjs Dense layer that resolves an option; a given name takes no uid from tfjs. */
const PROBE_NAME = 'rt_option_probe';

/**
 * Resolves a tfjs initializer, regularizer or constraint the way tfjs's layers do (tfjs does not
 * export its `getInitializer` and the like): a Dense layer, never built, takes it as its kernel's.
 */
function resolve<T>(where: string, key: string, value: unknown, field: keyof typeof FIELD): T {
  const option = `kernel${FIELD[field]}`;
  try {
    const probe = tf.layers.dense({ units: 1, name: PROBE_NAME, [option]: value }) as unknown as Record<string, T>;
    return probe[option];
  } catch (e) {
    // tfjs's first line, without its "This may be due to one of the following reasons:".
    const first = (e as Error).message.split('\n')[0].replace(/ This may be due to.*$/, '');
    throw new Error(`${where}: ${key}: ${first}`);
  }
}

/** Checks and resolves the options of this file (all but `inputDim`, `inputLength`: see {@link withInputDims}). */
export function weightOptions(
  where: string,
  kind: CellKind,
  args: TfjsRecurrentArgs & UnitForgetBiasArg & ImplementationArg,
): WeightOptions {
  const options: WeightOptions = {
    useBias: checkBoolean(where, 'useBias', args.useBias ?? true),
    initializers: {},
    regularizers: {},
    constraints: {},
    dropout: checkRate(where, 'dropout', args.dropout ?? 0),
    recurrentDropout: checkRate(where, 'recurrentDropout', args.recurrentDropout ?? 0),
  };
  const dropoutFunc = checkDropoutFunc(where, args.dropoutFunc);
  if (dropoutFunc) options.dropoutFunc = dropoutFunc;
  for (const field of Object.keys(FIELD) as (keyof typeof FIELD)[]) {
    for (const group of GROUPS) {
      const key = `${group}${FIELD[field]}` as keyof TfjsRecurrentArgs;
      const value = args[key];
      if (value !== undefined && value !== null) {
        (options[field] as Record<string, unknown>)[group] = resolve(where, key, value, field);
      }
    }
  }
  if (args.activityRegularizer != null) {
    options.activityRegularizer = resolve(where, 'activityRegularizer', args.activityRegularizer, 'regularizers');
  }
  if (kind === 'lstm') options.unitForgetBias = checkBoolean(where, 'unitForgetBias', args.unitForgetBias ?? true);
  if (args.implementation !== undefined) {
    options.implementation = Number(checkOneOf(where, 'implementation', String(args.implementation), ['0', '1', '2']));
  }
  if (args.unroll !== undefined) options.unroll = checkBoolean(where, 'unroll', args.unroll);
  return options;
}

/**
 * The layer arguments with `inputDim` / `inputLength` turned into `batchInputShape`
 * (`[batchSize ?? null, inputLength ?? null, inputDim ?? null]`), as Keras 1 defined them (tfjs
 * types them and ignores them). Beside `inputShape` or `batchInputShape` they must agree.
 */
export function withInputDims<A extends LayerArgs & TfjsRecurrentArgs>(where: string, args: A): LayerArgs {
  const { inputDim, inputLength, ...rest } = args;
  if (inputDim === undefined && inputLength === undefined) return rest;
  const dim = inputDim === undefined ? null : checkPositiveInt(where, 'inputDim', inputDim);
  const length =
    inputLength === undefined || inputLength === null ? null : checkPositiveInt(where, 'inputLength', inputLength);
  const given = rest.batchInputShape ?? (rest.inputShape ? [null, ...rest.inputShape] : undefined);
  if (given) {
    const agree = given.length === 3 && [length, dim].every((d, i) => d === null || given[i + 1] === d);
    if (!agree) {
      throw new Error(
        `${where}: inputDim ${show(inputDim)} and inputLength ${show(inputLength)} disagree with the input shape ` +
          `${fmt(given)}; give one or the other`,
      );
    }
    return rest;
  }
  return { ...rest, batchInputShape: [rest.batchSize ?? null, length, dim] };
}

/** The options of this file for `getConfig` (initializers and the like as `{ className, config }`; `dropoutFunc`, a function, is not saved, as in tfjs). */
export function optionsConfig(options: WeightOptions): tf.serialization.ConfigDict {
  const serialize = (o: { getClassName(): string; getConfig(): tf.serialization.ConfigDict }) => ({
    className: o.getClassName(),
    config: o.getConfig(),
  });
  const config: tf.serialization.ConfigDict = { useBias: options.useBias };
  for (const field of Object.keys(FIELD) as (keyof typeof FIELD)[]) {
    for (const [group, value] of Object.entries(options[field])) config[`${group}${FIELD[field]}`] = serialize(value);
  }
  if (options.activityRegularizer) config.activityRegularizer = serialize(options.activityRegularizer);
  if (options.dropout > 0) config.dropout = options.dropout;
  if (options.recurrentDropout > 0) config.recurrentDropout = options.recurrentDropout;
  if (options.unitForgetBias !== undefined) config.unitForgetBias = options.unitForgetBias;
  if (options.implementation !== undefined) config.implementation = options.implementation;
  if (options.unroll !== undefined) config.unroll = options.unroll;
  return config;
}

/** The per-symbol parameters of a group, in the order of its fused view. */
function groupSymbols(def: CellDefinition, config: CellConfig, group: WeightGroup): string[] {
  if (group === 'kernel') return def.gates.map((k) => `W_${k}x`);
  if (group === 'recurrent') return def.gates.map((k) => `W_${k}h`);
  if (config.useBias === false) return [];
  return [...def.gates.map((k) => `b_${k}`), ...Object.values(recurrentBiasOf(def, config))];
}

/** The fused view of a group from its per-symbol values (see the module documentation). */
function fusedView(group: WeightGroup, values: readonly tf.Tensor[]): tf.Tensor {
  return group === 'bias' ? tf.concat(values as tf.Tensor[]) : tf.transpose(tf.concat(values as tf.Tensor[]));
}

/** The per-symbol values of a group's fused view. */
function splitView(group: WeightGroup, view: tf.Tensor, count: number): tf.Tensor[] {
  return group === 'bias' ? tf.split(view, count) : tf.split(tf.transpose(view), count);
}

/** The shape of a group's fused view. */
function viewShape(group: WeightGroup, config: CellConfig, count: number): number[] {
  if (group === 'kernel') return [config.inputSize, count * config.units];
  if (group === 'recurrent') return [config.units, count * config.units];
  return [count * config.units];
}

/**
 * The initial values of the parameters: `defaults` (our seeded initialisers) where no tfjs
 * initializer is given, the slices of the tfjs initializer's fused draw where one is; the LSTM's
 * `b_f` is ones with `unitForgetBias` (tfjs: the bias initializer draws `b_i` and `[b_g, b_o]`),
 * zeros without. Returns new tensors, by symbol.
 */
export function initialValues(
  def: CellDefinition,
  config: CellConfig,
  options: WeightOptions,
  defaults: Record<string, tf.Tensor>,
): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    if (def.shapes) return Object.fromEntries(Object.entries(defaults).map(([s, v]) => [s, v.clone()]));
    const values: Record<string, tf.Tensor> = {};
    for (const group of GROUPS) {
      const symbols = groupSymbols(def, config, group);
      const init = options.initializers[group];
      if (symbols.length === 0) continue;
      let parts: tf.Tensor[];
      if (group === 'bias' && options.unitForgetBias !== undefined) {
        parts = lstmBias(config.units, options.unitForgetBias, init);
      } else {
        parts = init
          ? splitView(group, init.apply(viewShape(group, config, symbols.length), 'float32'), symbols.length)
          : symbols.map((s) => defaults[s]);
      }
      symbols.forEach((s, i) => (values[s] = parts[i].clone()));
    }
    return values;
  });
}

/** `b_i, b_f, b_g, b_o` of an LSTM: `b_f` ones or zeros, the others from `init` (as tfjs draws them) or zeros. */
function lstmBias(units: number, unitForgetBias: boolean, init: TfjsInitializer | undefined): tf.Tensor[] {
  const draw = (n: number) => (init ? init.apply([n * units], 'float32') : tf.zeros([n * units]));
  if (!unitForgetBias) return tf.split(draw(4), 4);
  return [draw(1), tf.ones([units]), ...tf.split(draw(2), 2)];
}

/** Adds the regularizers' penalties on the fused views to the layer's losses (`model.fit` and `rt.train` add them to the loss). */
export function addRegularizers(
  layer: tf.layers.Layer,
  def: CellDefinition,
  config: CellConfig,
  options: WeightOptions,
  params: Record<string, tf.Variable>,
): void {
  for (const group of GROUPS) {
    const regularizer = options.regularizers[group];
    const symbols = groupSymbols(def, config, group);
    if (!regularizer || symbols.length === 0) continue;
    layer.addLoss(() =>
      tf.tidy(() =>
        regularizer.apply(
          fusedView(
            group,
            symbols.map((s) => params[s]),
          ),
        ),
      ),
    );
  }
}

/**
 * The activity penalty of one training call, as tf.keras 2 (which tfjs ports) adds it: for every
 * output tensor, the regularizer's penalty divided by the batch size.
 */
export function activityPenalty(regularizer: TfjsRegularizer, outputs: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    const each = outputs.map((y) => tf.div(regularizer.apply(y), y.shape[0]));
    return each.reduce((a, b) => tf.add(a, b)) as tf.Scalar;
  });
}

/**
 * Applies the constraints after every write of a group's parameters: when the last of them is
 * written (an optimizer's update walks the weights in order, so all are new by then; as does
 * `setWeights`), the fused view is projected and every parameter of the group set to its slice.
 * This is what Keras does after each update; tfjs's own `model.fit` applies no constraint (its
 * `LayerVariable` applies one only on `write`), so ours are projected in `model.fit` and `rt.train` alike.
 */
export function constrainWrites(
  def: CellDefinition,
  config: CellConfig,
  options: WeightOptions,
  params: Record<string, tf.Variable>,
): void {
  for (const group of GROUPS) {
    const constraint = options.constraints[group];
    const variables = groupSymbols(def, config, group).map((s) => params[s]);
    if (!constraint || variables.length === 0) continue;
    const assign = variables.map((v) => v.assign.bind(v));
    const last = variables.length - 1;
    variables[last].assign = (value: tf.Tensor) => {
      assign[last](value);
      tf.tidy(() => {
        const projected = constraint.apply(fusedView(group, variables));
        splitView(group, projected, variables.length).forEach((p, i) => assign[i](p));
      });
    };
  }
}
