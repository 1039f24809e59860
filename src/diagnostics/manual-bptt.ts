/**
 * Backpropagation through time by hand: the gradient of the loss with respect to every
 * parameter of a {@link RecurrentNetwork}, derived from the equations and written with plain
 * tensor ops (no automatic differentiation anywhere), to set beside `tf.variableGrads`.
 *
 * With $z_t = W_{yh} h_t + b_y$, $\hat y_t = g(z_t)$ and $\delta^y_t = \partial L/\partial z_t$
 * (zero at every step but the last for `target: 'lastStep'`):
 * $$\frac{\partial L}{\partial W_{yh}} = \sum_t \delta^y_t h_t^\top, \qquad
 *   \frac{\partial L}{\partial b_y} = \sum_t \delta^y_t,$$
 * $$\frac{\partial L}{\partial h_t} = W_{yh}^\top \delta^y_t
 *   + \left.\frac{\partial L}{\partial h_t}\right|_{\text{through step } t+1}$$
 * (for the Elman cell the second term is $W_{hh}^\top \delta_{t+1}$), computed from t = T down
 * to 1; each cell's file (`manual/`) holds its step. Every weight gradient is a sum over t.
 */
import * as tf from '@tensorflow/tfjs';
import type { State } from '../cells/cell.js';
import { checkKeys } from '../check.js';
import { RecurrentNetwork } from '../network.js';
import { LOSS_NAMES, selectTarget, type LossName, type Target } from '../train/loss.js';
import { asTrainable, checkExample } from '../train/model.js';
import { requireOutputDerivative as derivative } from '../cells/derivatives.js';
import { type Grads, type ManualStep } from './manual/common.js';
import { manualElman } from './manual/elman.js';
import { manualGru } from './manual/gru.js';
import { manualLstm } from './manual/lstm.js';

export interface ManualBpttOptions {
  /** A built-in loss (its derivative is written by hand too). */
  loss: LossName;
  /** Default: `everyStep` when y has a time axis, else `lastStep`. */
  target?: Target;
}

/**
 * The hand-derived gradient of the loss with respect to every parameter of `net` (keys: the
 * symbols, as `net.params`), starting from a zero state.
 */
export function manualBPTT(
  net: RecurrentNetwork,
  x: tf.Tensor,
  y: tf.Tensor,
  options: ManualBpttOptions,
): Record<string, tf.Tensor> {
  const where = 'diagnostics.manualBPTT';
  if (!(net instanceof RecurrentNetwork)) throw new TypeError(`${where}: expected a RecurrentNetwork (rt.network)`);
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${where}: expected options { loss, target? }`);
  checkKeys(where, options, ['loss', 'target']);
  if (!LOSS_NAMES.includes(options.loss)) {
    throw new Error(
      `${where}: expected loss to be one of ${LOSS_NAMES.join(', ')} (a function has no hand-written derivative), ` +
        `got ${typeof options.loss === 'function' ? 'a function' : JSON.stringify(options.loss)}`,
    );
  }
  const { target } = checkExample(where, asTrainable(where, net), x, y, options.loss, options.target);
  const step = manualStep(where, net);
  const dg = derivative(where, net.outputActivation);

  return tf.tidy(() => {
    const { W_yh } = net.outputParams;
    const [batch, time] = x.shape as [number, number, number];
    const units = net.units;
    const out = net.outputSize;

    // Forward, keeping every step's cache.
    let state: State = net.cell.initialState(batch);
    const caches: unknown[] = [];
    const hs: tf.Tensor2D[] = [];
    for (const x_t of tf.unstack(x, 1) as tf.Tensor2D[]) {
      const r = step.forward(x_t, state);
      caches.push(r.cache);
      hs.push(r.state.h);
      state = r.state;
    }
    const H = tf.stack(hs, 1).reshape([batch * time, units]) as tf.Tensor2D;
    const yHat = net.output(H).reshape([batch, time, out]); // ŷ_t = g(W_yh h_t + b_y)

    // δ^y_t = ∂L/∂ŷ_t ⊙ g'(z_t), and the output weights.
    const dz = tf.mul(lossGradient(options.loss, target, y, yHat), dg(yHat)).reshape([batch * time, out]);
    const grads: Grads = {
      W_yh: tf.matMul(dz, H, true, false),
      b_y: tf.sum(dz, 0),
    };

    // Back through time: ∂L/∂h_t = W_yh^T δ^y_t + what flows back from step t+1.
    const fromOutput = tf.unstack(tf.matMul(dz, W_yh).reshape([batch, time, units]), 1) as tf.Tensor2D[];
    let dh: tf.Tensor2D = tf.zeros([batch, units]);
    let dc: tf.Tensor2D | undefined = net.cell.stateNames.includes('c') ? tf.zeros([batch, units]) : undefined;
    for (let t = time - 1; t >= 0; t--) {
      const back = step.backward(tf.add(fromOutput[t], dh) as tf.Tensor2D, dc, caches[t], grads);
      dh = back.dh;
      dc = back.dc;
    }
    return Object.fromEntries(Object.keys(net.params).map((k) => [k, grads[k]]));
  });
}

/** The cell's step by hand, for its kind. */
function manualStep(where: string, net: RecurrentNetwork): ManualStep<unknown> {
  const config = net.cell.config;
  const p = net.params;
  const make = { elman: manualElman, lstm: manualLstm, gru: manualGru }[config.kind];
  return make(where, config, p) as ManualStep<unknown>;
}

/**
 * `∂L/∂ŷ` of the built-in losses, by hand, placed at every step (`everyStep`) or at the last
 * (`lastStep`, zeros elsewhere):
 * mse $\frac{2}{N}(\hat y - y)$ over N entries; softmax cross-entropy
 * $\frac{1}{R}(\mathrm{softmax}(\hat y) - y)$ over R rows (one-hot y for the sparse form).
 */
function lossGradient(loss: LossName, target: Target, y: tf.Tensor, yHat: tf.Tensor): tf.Tensor {
  const seen = selectTarget(yHat, target);
  let d: tf.Tensor;
  if (loss === 'mse') {
    d = tf.mul(tf.sub(seen, y), 2 / seen.size);
  } else {
    const classes = seen.shape[seen.rank - 1];
    const p =
      loss === 'softmaxCrossEntropy' ? y : tf.oneHot(tf.cast(y.flatten(), 'int32'), classes).reshape(seen.shape);
    d = tf.div(tf.sub(tf.softmax(seen), p), seen.size / classes);
  }
  if (target === 'everyStep') return d;
  const [batch, time, out] = yHat.shape;
  return tf.concat([tf.zeros([batch, time - 1, out]), d.reshape([batch, 1, out])], 1);
}
