/**
 * Backpropagation through time by hand: the gradient of the loss with respect to every
 * parameter of a {@link RecurrentNetwork}, written with plain tensor ops step by step (no
 * automatic differentiation anywhere), to set beside `tf.variableGrads`.
 *
 * The forward is the cell's own equations on its per-symbol parameters (what `cell.step`
 * computes), keeping every quantity they name. The backward of one step is the cell kind's
 * hand-derived one (`src/fast/<kind>.ts`, the same the fast path runs over whole sequences); here
 * it runs one step at a time and every parameter's gradient is summed by hand, per symbol.
 *
 * With $z_t = W_{yh} h_t + b_y$, $\hat y_t = g(z_t)$ and $\delta^y_t = \partial L/\partial z_t$
 * (zero at every step but the last for `target: 'lastStep'`):
 * $$\frac{\partial L}{\partial W_{yh}} = \sum_t \delta^y_t h_t^\top, \qquad
 *   \frac{\partial L}{\partial b_y} = \sum_t \delta^y_t,$$
 * $$\frac{\partial L}{\partial h_t} = W_{yh}^\top \delta^y_t
 *   + \left.\frac{\partial L}{\partial h_t}\right|_{\text{through step } t+1},$$
 * computed from t = T down to 1. A gate's argument that received $\delta^k_t$ adds
 * $\delta^k_t x_t^\top$ to $\partial L/\partial W_{kx}$, $\delta^k_t$ to $\partial L/\partial b_k$,
 * and its recurrent half ($W_{kh} v_t$) adds $\delta_t v_t^\top$ to $\partial L/\partial W_{kh}$ and
 * $W_{kh}^\top \delta_t$ to the error of $v_t$.
 */
import * as tf from '@tensorflow/tfjs';
import { plainTerms, stateOf, type Quantities, type State } from '../cells/cell.js';
import { definitionOf } from '../cells/kinds.js';
import { checkKeys, show } from '../check/index.js';
import { requireOutputDerivative as derivative } from '../fast/derivatives.js';
import { fastPathFor } from '../fast/index.js';
import { separateGates } from '../fast/fused.js';
import { RecurrentNetwork } from '../network.js';
import {
  asTrainable,
  checkExample,
  exampleValues,
  LOSS_NAMES,
  selectTarget,
  type LossName,
  type Target,
} from '../objective/index.js';
import { isSyncReadable, runSync } from '../read.js';

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
  if (net.layers > 1 || net.bidirectional) {
    throw new Error(
      `${where}: the backward pass is written out for one layer in one direction; this network has ` +
        `${net.layers} layer(s)${net.bidirectional ? ', bidirectional' : ''} (gradientCheck checks any network)`,
    );
  }
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${where}: expected options { loss, target? }`);
  checkKeys(where, options, ['loss', 'target']);
  if (!LOSS_NAMES.includes(options.loss)) {
    throw new Error(
      `${where}: expected loss to be one of ${LOSS_NAMES.join(', ')} (a function has no hand-written derivative), ` +
        `got ${show(options.loss)}`,
    );
  }
  const { target, predShape } = checkExample(where, asTrainable(where, net), x, y, options.loss, options.target);
  // The values (finite x and y, labels the loss accepts) are checked where a synchronous read is
  // allowed; on webgpu and webgl (no synchronous read) NaN inputs give NaN gradients.
  if (isSyncReadable([x, y])) {
    runSync(where, 'a cpu or wasm backend', exampleValues(where, x, y, options.loss, predShape[predShape.length - 1]));
  }
  const config = net.cell.config;
  for (const name of [config.activation, config.recurrentActivation]) if (name !== undefined) derivative(where, name);
  const dg = derivative(where, net.outputActivation);
  const def = definitionOf(config.kind);
  const equations = def.equations(config);
  const recurrentBias = def.recurrentBias?.(config) ?? {};
  const path = fastPathFor(config);
  if (!path) {
    throw new Error(`${where}: no hand-derived backward pass for a ${config.kind} cell (only elman, lstm, gru)`);
  }
  const { layout, backward } = path;
  const separate = separateGates(layout);
  const p = net.params;

  return tf.tidy(() => {
    const { W_yh } = net.outputParams;
    const [batch, time] = x.shape as [number, number, number];
    const [units, out] = [net.units, net.outputSize];
    const xs = tf.unstack(x, 1) as tf.Tensor2D[];

    // Forward: the cell's equations step by step, keeping every quantity and the state before each step.
    const before: State[] = [];
    const quantities: Quantities[] = [];
    let state: State = net.cell.initialState(batch);
    for (const x_t of xs) {
      before.push(state);
      const q = equations(plainTerms(p, recurrentBias, x_t, state.h), state);
      quantities.push(q);
      state = stateOf(q);
    }
    const H = tf
      .stack(
        quantities.map((q) => q.h_t),
        1,
      )
      .reshape([batch * time, units]) as tf.Tensor2D;
    const yHat = net.output(H).reshape([batch, time, out]); // ŷ_t = g(W_yh h_t + b_y)

    // δ^y_t = ∂L/∂ŷ_t ⊙ g'(z_t), and the output weights.
    const dz = tf.mul(lossGradient(options.loss, target, y, yHat), dg(yHat)).reshape([batch * time, out]);
    const grads: Record<string, tf.Tensor> = { W_yh: tf.matMul(dz, H, true, false), b_y: tf.sum(dz, 0) };
    const add = (symbol: string, value: tf.Tensor) => {
      grads[symbol] = grads[symbol] === undefined ? value : tf.add(grads[symbol], value);
    };
    /** `δ^T v` for the rows of a batch. */
    const outer = (delta: tf.Tensor, v: tf.Tensor) => tf.matMul(delta as tf.Tensor2D, v as tf.Tensor2D, true, false);
    const gatesOf = (t: tf.Tensor2D, gates: readonly string[]) =>
      gates.length === 1 ? [t] : tf.split(t, gates.length, 1);
    const W = Object.fromEntries(separate.map((k) => [k, p[`W_${k}h`] as tf.Tensor2D]));

    // Back through time: ∂L/∂h_t = W_yh^T δ^y_t + what flows back from step t+1.
    const fromOutput = tf.unstack(tf.matMul(dz, W_yh).reshape([batch, time, units]), 1) as tf.Tensor2D[];
    let carry: Partial<State> = {};
    for (let t = time - 1; t >= 0; t--) {
      const g: State = { h: carry.h ? tf.add(fromOutput[t], carry.h) : fromOutput[t], c: carry.c };
      if (net.cell.stateNames.includes('c')) g.c ??= tf.zeros([batch, units]);
      const q = Object.fromEntries(backward!.keep.map((name) => [name, quantities[t][name]!]));
      const f = backward!.factors(before[t], q);
      const { hp, prev } = backward!.step(g, f, W);
      const xp = backward!.xp ? backward!.xp(g.h, hp, f) : hp;
      gatesOf(xp, layout.gates).forEach((delta, i) => {
        const k = layout.gates[i];
        add(`W_${k}x`, outer(delta, xs[t]));
        add(`b_${k}`, tf.sum(delta, 0));
      });
      let dh = prev.h;
      gatesOf(hp, layout.recurrentGates).forEach((delta, i) => {
        const k = layout.recurrentGates[i];
        add(`W_${k}h`, outer(delta, before[t].h));
        if (recurrentBias[k]) add(recurrentBias[k], tf.sum(delta, 0));
        const back = tf.matMul(delta, p[`W_${k}h`]) as tf.Tensor2D; // W_kh^T δ for every row
        dh = dh ? (tf.add(dh, back) as tf.Tensor2D) : back;
      });
      for (const [k, dW] of Object.entries(backward!.separate?.(xp, q) ?? {})) add(`W_${k}h`, dW);
      carry = { h: dh, c: prev.c };
    }
    return Object.fromEntries(Object.keys(p).map((k) => [k, grads[k]]));
  });
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
