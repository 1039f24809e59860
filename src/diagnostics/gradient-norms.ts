/**
 * How far the error reaches back in time: $\|\partial L / \partial h_t\|$ for every step t, the
 * picture of vanishing (and exploding) gradients.
 *
 * A zero tensor $p_t$ is added to every hidden state, $\tilde h_t = h_t + p_t$, inside the
 * unrolled loop (`unroll`'s `probe`), so that $\tilde h_t$ feeds both the output and the next
 * step. The loss does not change, and $\partial L / \partial p_t = \partial L / \partial h_t$
 * (the total derivative: through the output at t and through every later step). One backward
 * pass gives all T of them and the parameters' gradients together.
 *
 * In a stacked network $h_t$ is the top layer's (the one the output function reads); in a
 * bidirectional one it is $[\overrightarrow{h}_t; \overleftarrow{h}_t]$, each half probed, so
 * $\|\partial L/\partial h_t\|^2$ is the sum of the two halves' squared norms.
 */
import * as tf from '@tensorflow/tfjs';
import { checkKeys } from '../check/index.js';
import { RecurrentNetwork } from '../network.js';
import { assertSyncReadable, runAsync, runSync, type Reader } from '../read.js';
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

export interface GradientNormsOptions {
  loss: LossName | LossFn;
  /** Default: `everyStep` when y has a time axis, else `lastStep`. */
  target?: Target;
}

export interface GradientNorms {
  /** `perStep[t] = ||∂L/∂h_t||` (Frobenius norm over the batch), t = 0 .. T-1 (the document's t = 1 .. T). */
  perStep: number[];
  /** `||∂L/∂θ||` for every parameter, keyed by symbol. */
  perParam: Record<string, number>;
}

/**
 * The norms of `∂L/∂h_t` at every step and of every parameter's gradient, for a RecurrentNetwork.
 *
 * Synchronous: on cpu, wasm and tensorflow (tfjs-node). On webgpu and webgl it throws and names
 * {@link gradientNormsAsync}, which works everywhere.
 */
export function gradientNorms(
  model: RecurrentNetwork,
  x: tf.Tensor,
  y: tf.Tensor,
  options: GradientNormsOptions,
): GradientNorms {
  const where = 'diagnostics.gradientNorms';
  assertSyncReadable(where, 'await rt.diagnostics.gradientNormsAsync(model, x, y, options)');
  return runSync(where, 'rt.diagnostics.gradientNormsAsync', norms(where, model, x, y, options));
}

/** {@link gradientNorms}, read with `await data()`: works on every backend, webgpu and webgl included. */
export async function gradientNormsAsync(
  model: RecurrentNetwork,
  x: tf.Tensor,
  y: tf.Tensor,
  options: GradientNormsOptions,
): Promise<GradientNorms> {
  return runAsync(norms('diagnostics.gradientNormsAsync', model, x, y, options));
}

/** Checks the arguments (at once, not on the first read), then computes and reads the norms. */
function norms(
  where: string,
  model: RecurrentNetwork,
  x: tf.Tensor,
  y: tf.Tensor,
  options: GradientNormsOptions,
): Reader<GradientNorms> {
  if (!(model instanceof RecurrentNetwork)) {
    throw new TypeError(
      `${where}: expected a RecurrentNetwork (rt.network): the probes go inside its unrolled loop; ` +
        `for a tf.LayersModel use gradientCheck or tf.variableGrads`,
    );
  }
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${where}: expected options { loss, target? }`);
  checkKeys(where, options, ['loss', 'target']);
  const loss = checkLoss(where, options.loss);
  const trainable = asTrainable(where, model);
  const { target, predShape } = checkExample(where, trainable, x, y, loss, options.target);
  const lossFn = lossFunction(loss, where);
  const [batch, time] = x.shape as [number, number, number];

  const compute = () =>
    tf.tidy(() => {
      // probes[d * time + t] is added to h_t of direction d (1: the reverse cell) of the top layer.
      const probes = Array.from({ length: model.directions * time }, () => tf.zeros([batch, model.units]));
      const f = () => {
        const probe = (t: number, h: tf.Tensor2D, reverse: boolean) =>
          tf.add(h, probes[(reverse ? time : 0) + t]) as tf.Tensor2D;
        return lossFn(y, selectTarget(model.apply(x, { probe }).y, target));
      };
      const grads = tf.grads(f)([...probes, ...trainable.variables]);
      const squares = grads.slice(0, probes.length).map((g) => tf.sum(tf.square(g)));
      const perStep = Array.from({ length: time }, (_, t) =>
        tf.sqrt(model.directions === 2 ? tf.add(squares[t], squares[time + t]) : squares[t]),
      );
      return tf.stack([...perStep, ...grads.slice(probes.length).map((g) => tf.norm(g))]);
    });
  return (function* (): Reader<GradientNorms> {
    // NaN or Infinity in x or y would give NaN norms (and invalid labels a meaningless loss): refused first.
    yield* exampleValues(where, x, y, loss, predShape[predShape.length - 1]);
    const norms = compute();
    try {
      const values = Array.from((yield [norms])[0]);
      return {
        perStep: values.slice(0, time),
        perParam: Object.fromEntries(trainable.names.map((name, i) => [name, values[time + i]])),
      };
    } finally {
      norms.dispose();
    }
  })();
}
