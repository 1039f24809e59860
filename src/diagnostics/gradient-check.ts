/**
 * Gradient checking: an analytic gradient (by default `tf.variableGrads`', or one you pass, such
 * as {@link manualBPTT}'s) against central finite differences,
 * $\frac{\partial L}{\partial \theta_i} \approx \frac{L(\theta + h e_i) - L(\theta - h e_i)}{2h}$,
 * on a sample of entries of every parameter.
 *
 * Float32-aware: the perturbed weights are float32, so the step actually taken is
 * `fround(θ+h) - fround(θ-h)`, not 2h; and the loss is known only to about its float32
 * rounding, so the numeric derivative carries an absolute error of about
 * $\epsilon_{32} |L| / h$. The relative error of an entry is
 * $|a - n| / \max(|a|, |n|, \text{floor})$, with a floor at least that rounding error divided
 * by the tolerance, so that tiny gradients are compared absolutely and noise is not flagged.
 * A tf.LayersModel is run with `training: false` (no dropout), for both gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { checkKeys, show } from '../check/index.js';
import { prng } from '../init.js';
import type { RecurrentNetwork } from '../network.js';
import { assertSyncReadable, runAsync, runSync, type Reader, type Values } from '../read.js';
import {
  asTrainable,
  checkExample,
  checkLoss,
  exampleValues,
  lossFunction,
  selectTarget,
  type LossFn,
  type LossName,
  type Target,
} from '../objective/index.js';

export interface GradientCheckOptions {
  loss: LossName | LossFn;
  /** Default: `everyStep` when y has a time axis, else `lastStep`. */
  target?: Target;
  /** The gradient to check, keyed as `perParam` names (symbols for a network). Default: tf.variableGrads. */
  gradients?: Record<string, tf.Tensor>;
  /** Entries checked per parameter (default 6): the largest-gradient entry and random ones. */
  samples?: number;
  /** The finite-difference step h (default 3e-3: small truncation error, loss changes well above float32 noise). */
  step?: number;
  /** Largest relative error that passes (default 1e-2). */
  tolerance?: number;
  /** Smallest denominator of the relative error (default 1e-4; raised to the float32 noise level). */
  floor?: number;
  /** Seeds the choice of entries (default 0). */
  seed?: number;
}

export interface GradientCheckEntry {
  param: string;
  /** Flat index into the parameter. */
  index: number;
  analytic: number;
  numeric: number;
  relativeError: number;
}

export interface GradientCheckResult {
  maxRelativeError: number;
  /** `maxRelativeError <= tolerance`. */
  passed: boolean;
  /** Number of entries checked. */
  checked: number;
  details: GradientCheckEntry[];
}

const EPS32 = 2 ** -23;

/**
 * Checks an analytic gradient of the loss against central finite differences.
 *
 * Synchronous: on cpu, wasm and tensorflow (tfjs-node). On webgpu and webgl it throws and names
 * {@link gradientCheckAsync}, which works everywhere.
 */
export function gradientCheck(
  model: RecurrentNetwork | tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  options: GradientCheckOptions,
): GradientCheckResult {
  const where = 'diagnostics.gradientCheck';
  assertSyncReadable(where, 'await rt.diagnostics.gradientCheckAsync(model, x, y, options)');
  return runSync(where, 'rt.diagnostics.gradientCheckAsync', check(where, model, x, y, options));
}

/** {@link gradientCheck}, read with `await data()`: works on every backend, webgpu and webgl included. */
export async function gradientCheckAsync(
  model: RecurrentNetwork | tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  options: GradientCheckOptions,
): Promise<GradientCheckResult> {
  return runAsync(check('diagnostics.gradientCheckAsync', model, x, y, options));
}

/** Checks the arguments (at once), then the computation, which yields what it reads. */
function check(
  where: string,
  model: RecurrentNetwork | tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  options: GradientCheckOptions,
): Reader<GradientCheckResult> {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: expected options { loss, ... }`);
  checkKeys(where, options, ['loss', 'target', 'gradients', 'samples', 'step', 'tolerance', 'floor', 'seed']);
  const samples = positive(where, 'samples', options.samples, 6, true);
  const h = positive(where, 'step', options.step, 3e-3);
  const tolerance = positive(where, 'tolerance', options.tolerance, 1e-2);
  const floor = positive(where, 'floor', options.floor, 1e-4);
  const loss = checkLoss(where, options.loss);
  const trainable = asTrainable(where, model);
  const { target, predShape } = checkExample(where, trainable, x, y, loss, options.target);
  const given = checkGiven(where, trainable.names, trainable.variables, options.gradients);
  const lossFn = lossFunction(loss, where);
  const f = () => lossFn(y, selectTarget(trainable.forward(x, { training: false }).y, target));

  return (function* (): Reader<GradientCheckResult> {
    yield* exampleValues(where, x, y, loss, predShape[predShape.length - 1]);
    const evaluate = function* (): Generator<readonly tf.Tensor[], number, Values[]> {
      const value = tf.tidy(f);
      try {
        return (yield [value])[0][0];
      } finally {
        value.dispose();
      }
    };
    const analytic = given ? ((yield given) as Float32Array[]) : yield* variableGradients(trainable.variables, f);
    const rand = prng(options.seed ?? 0);
    const details: GradientCheckEntry[] = [];

    for (const [p, variable] of trainable.variables.entries()) {
      const original = (yield [variable])[0].slice() as Float32Array;
      const grad = analytic[p];
      try {
        for (const index of chooseEntries(grad, samples, rand)) {
          const values = original.slice();
          const plus = Math.fround(original[index] + h);
          const minus = Math.fround(original[index] - h);
          values[index] = plus;
          setValues(variable, values);
          const lPlus = yield* evaluate();
          values[index] = minus;
          setValues(variable, values);
          const lMinus = yield* evaluate();
          const numeric = (lPlus - lMinus) / (plus - minus);
          const noise = (4 * EPS32 * Math.max(Math.abs(lPlus), Math.abs(lMinus))) / (plus - minus);
          const denominator = Math.max(Math.abs(grad[index]), Math.abs(numeric), floor, noise / tolerance);
          details.push({
            param: trainable.names[p],
            index,
            analytic: grad[index],
            numeric,
            relativeError: Math.abs(grad[index] - numeric) / denominator,
          });
        }
      } finally {
        setValues(variable, original);
      }
    }
    const maxRelativeError = Math.max(...details.map((d) => d.relativeError));
    return { maxRelativeError, passed: maxRelativeError <= tolerance, checked: details.length, details };
  })();
}

function setValues(variable: tf.Variable, values: Float32Array): void {
  const t = tf.tensor(values, variable.shape);
  variable.assign(t);
  t.dispose();
}

/** The gradients given to check, in the variables' order, after checking them; undefined when none. */
function checkGiven(
  where: string,
  names: string[],
  variables: tf.Variable[],
  given: Record<string, tf.Tensor> | undefined,
): tf.Tensor[] | undefined {
  if (given === undefined) return undefined;
  if (given === null || typeof given !== 'object') {
    throw new TypeError(`${where}: expected gradients to be a record of tensors keyed ${names.join(', ')}`);
  }
  return names.map((name, i) => {
    const g = given[name];
    if (!(g instanceof tf.Tensor) || g.isDisposed || !tf.util.arraysEqual(g.shape, variables[i].shape)) {
      throw new Error(
        `${where}: expected gradients.${name} to be a tf.Tensor of shape [${variables[i].shape.join(', ')}]`,
      );
    }
    return g;
  });
}

/** `tf.variableGrads`' gradient values, one flat array per variable (zeros where the loss does not reach). */
function* variableGradients(
  variables: tf.Variable[],
  f: () => tf.Scalar,
): Generator<readonly tf.Tensor[], Float32Array[], Values[]> {
  const { value, grads } = tf.variableGrads(f, variables);
  try {
    const reached = variables.filter((v) => grads[v.name]);
    const values = yield reached.map((v) => grads[v.name]);
    return variables.map((v) => {
      const k = reached.indexOf(v);
      return k >= 0 ? (values[k] as Float32Array) : new Float32Array(v.size);
    });
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}

/** The entry with the largest |gradient| and random distinct others, `samples` in all. */
function chooseEntries(grad: Float32Array, samples: number, rand: () => number): number[] {
  if (grad.length <= samples) return Array.from(grad, (_, i) => i);
  let largest = 0;
  for (let i = 1; i < grad.length; i++) if (Math.abs(grad[i]) > Math.abs(grad[largest])) largest = i;
  const chosen = new Set([largest]);
  while (chosen.size < samples) chosen.add(Math.floor(rand() * grad.length));
  return [...chosen];
}

function positive(where: string, name: string, value: unknown, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new RangeError(
      `${where}: expected ${name} to be a positive ${integer ? 'integer' : 'number'}, got ${show(value)}`,
    );
  }
  return value;
}
