/**
 * Activation functions by name: the f and g of the Elman equations, the σ of the gates.
 *
 * Every name is a pure elementwise (or, for `softmax`, last-axis) map `Tensor -> Tensor`.
 * Models store the *name*, so a function registered with {@link registerActivation} saves and
 * loads like the built-in ones.
 */
import * as tf from '@tensorflow/tfjs';
import { show } from './check/index.js';

/** An activation: an elementwise (or last-axis) map. */
export type ActivationFn = (x: tf.Tensor) => tf.Tensor;

const registry = new Map<string, ActivationFn>([
  ['tanh', (x) => tf.tanh(x)],
  ['relu', (x) => tf.relu(x)],
  ['sigmoid', (x) => tf.sigmoid(x)],
  // Keras' piecewise-linear sigmoid: clip(0.2 x + 0.5, 0, 1).
  ['hardSigmoid', (x) => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1)],
  ['linear', (x) => x],
  ['softmax', (x) => tf.softmax(x)],
  ['elu', (x) => tf.elu(x)],
  // tfjs's own selu (scale 1.0507…, alpha 1.6733…): it has a gradient, a where(greater(x, 0), …) has none.
  ['selu', (x) => tf.selu(x)],
  ['softplus', (x) => tf.softplus(x)],
  ['softsign', (x) => tf.div(x, tf.add(1, tf.abs(x)))],
  ['swish', (x) => tf.mul(x, tf.sigmoid(x))],
  // The tanh approximation of GELU (Hendrycks & Gimpel 2016), as Keras' `approximate=True`.
  [
    'gelu',
    (x) =>
      tf.mul(
        tf.mul(0.5, x),
        tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))),
      ),
  ],
]);

const builtins = new Set(registry.keys());

/** The names an activation can be given by, built-in and registered. */
export function activationNames(): string[] {
  return [...registry.keys()];
}

/**
 * Registers `fn` under `name`, so that cells, layers and networks can name it and models that
 * use it save and load. Registering the same name again replaces a user function; built-in
 * names cannot be replaced.
 */
export function registerActivation(name: string, fn: ActivationFn): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`registerActivation: expected a non-empty name, got ${show(name)}`);
  }
  if (typeof fn !== 'function') {
    throw new TypeError(`registerActivation('${name}'): expected a function (x: Tensor) => Tensor, got ${typeof fn}`);
  }
  if (builtins.has(name)) {
    throw new Error(`registerActivation: '${name}' is a built-in activation and cannot be replaced`);
  }
  registry.set(name, fn);
}

/** The function registered under `name`; an unknown name is refused with the list of known ones. */
export function getActivation(name: string): ActivationFn {
  const fn = typeof name === 'string' ? registry.get(name) : undefined;
  if (fn === undefined) {
    throw new Error(
      `Unknown activation ${show(name)}: expected one of ${activationNames().join(', ')} ` +
        `(or a name registered with registerActivation)`,
    );
  }
  return fn;
}

/** `value` as the name of an activation, or an error from `where` that names the option `name`. */
export function checkActivation(where: string, name: string, value: unknown): string {
  try {
    getActivation(value as string);
  } catch (e) {
    throw new Error(`${where}: ${name}: ${(e as Error).message}`);
  }
  return value as string;
}
