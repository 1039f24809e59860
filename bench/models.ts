/**
 * The contenders, built for the same sizes and fed the same data: our network (a cell, `unroll`
 * and `y_t = W_yh h_t + b_y`, gradients by `tf.variableGrads`, Adam) and tfjs's own layers
 * (`tf.layers.simpleRNN/lstm/gru` with `returnSequences` and a dense output, glorotUniform
 * initialisers, sigmoid gates, Adam through `model.trainOnBatch`). Both minimise the mean squared
 * error at every step.
 */
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { lossFunction } from '../src/objective/loss.js';
import { AdamConstants } from '../src/train/adam-ops.js';
import { applyGradients } from '../src/train/fused-adam.js';

export type Kind = 'elman' | 'lstm' | 'gru';

export interface Sizes {
  batch: number;
  time: number;
  input: number;
  units: number;
  output: number;
}

/** One contender: a training step and a forward pass (each synchronised on its result). */
export interface Contender {
  train: () => Promise<void>;
  forward: () => Promise<void>;
  dispose: () => void;
}

/** Seeded inputs `[batch, time, input]` and targets `[batch, time, output]`. */
export function makeData(s: Sizes, seed = 1): { x: tf.Tensor3D; y: tf.Tensor3D } {
  return tf.tidy(() => ({
    x: tf.randomNormal([s.batch, s.time, s.input], 0, 1, 'float32', seed) as tf.Tensor3D,
    y: tf.randomNormal([s.batch, s.time, s.output], 0, 1, 'float32', seed + 1) as tf.Tensor3D,
  }));
}

/** Our network; `fast: false` runs the plain per-step graph instead of the whole-sequence gradient. */
export function ours(kind: Kind, s: Sizes, data: { x: tf.Tensor3D; y: tf.Tensor3D }, fast = true): Contender {
  const net = rt.network({ cell: kind, inputSize: s.input, units: s.units, outputSize: s.output, seed: 7 });
  // Adam as rt.train applies it (src/train/fused-adam.ts: one kernel on cpu/wasm, no uploads per update on GPUs).
  const [optimizer, constants] = [tf.train.adam(1e-3), new AdamConstants()];
  const vars = Object.values(net.params);
  // The mean square as rt.train computes it (src/objective/loss.ts: one kernel each way on cpu and
  // wasm; on a GPU, gradients that upload nothing but tfjs's seed).
  const mse = lossFunction('mse', 'bench');
  const loss = () => {
    const { outputs } = rt.unroll(net.cell, data.x, { fast });
    return mse(data.y, net.output(outputs));
  };
  return {
    train: async () => {
      const value = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(loss, vars);
        applyGradients(
          optimizer,
          vars,
          vars.map((v) => grads[v.name]),
          constants,
        );
        return value;
      });
      await value.data();
      value.dispose();
    },
    forward: async () => {
      const y = net.predict(data.x);
      await y.data();
      y.dispose();
    },
    dispose: () => {
      net.dispose();
      optimizer.dispose();
      constants.dispose();
    },
  };
}

/** tfjs's own recurrent layer plus a dense output, trained with `model.trainOnBatch`. */
export function tfLayers(kind: Kind, s: Sizes, data: { x: tf.Tensor3D; y: tf.Tensor3D }): Contender {
  const common = {
    units: s.units,
    returnSequences: true,
    inputShape: [s.time, s.input],
    kernelInitializer: 'glorotUniform' as const,
    recurrentInitializer: 'glorotUniform' as const,
  };
  const rnn =
    kind === 'elman'
      ? tf.layers.simpleRNN(common)
      : kind === 'lstm'
        ? tf.layers.lstm({ ...common, recurrentActivation: 'sigmoid' })
        : tf.layers.gru({ ...common, recurrentActivation: 'sigmoid' });
  const model = tf.sequential({ layers: [rnn, tf.layers.dense({ units: s.output })] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
  return {
    train: async () => {
      await model.trainOnBatch(data.x, data.y);
    },
    forward: async () => {
      const y = model.predict(data.x) as tf.Tensor;
      await y.data();
      y.dispose();
    },
    dispose: () => {
      model.optimizer.dispose();
      model.dispose();
    },
  };
}
