import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';

/** Runs `fn` on `backend` and returns its result as nested arrays. */
async function on<T>(backend: string, fn: () => tf.Tensor): Promise<T> {
  await rt.backends.use(backend);
  const t = fn();
  const values = (await t.array()) as T;
  t.dispose();
  return values;
}

describe('wasm kernels tfjs-backend-wasm lacks', () => {
  let previous: string;
  before(() => {
    previous = tf.getBackend() ?? 'cpu';
  });
  after(async () => {
    await rt.backends.use(previous);
  });

  it('UnsortedSegmentSum equals the cpu backend, ids out of range dropped', async () => {
    for (const ids of [
      [0, 2, 2, 5, -1, 1],
      [3, 3, 0, 3, 1, 1],
    ]) {
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor3d(
            Array.from({ length: 6 * 2 * 3 }, (_, i) => Math.sin(i + 1)),
            [6, 2, 3],
          );
          return tf.unsortedSegmentSum(x, tf.tensor1d(ids, 'int32'), 4);
        });
      const expected = await on<number[][][]>('cpu', run);
      const got = await on<number[][][]>('wasm', run);
      expect(got.flat(2)).to.have.length(4 * 2 * 3);
      got.flat(2).forEach((v, i) => expect(v).to.be.closeTo(expected.flat(2)[i], 1e-6));
    }
  });

  it('a model with tf.layers.embedding and our LSTM trains on wasm with the gradients of the cpu backend', async () => {
    const build = () => {
      const model = tf.sequential({
        layers: [
          tf.layers.embedding({
            inputDim: 7,
            outputDim: 3,
            inputLength: 5,
            embeddingsInitializer: tf.initializers.randomUniform({ seed: 1 }),
          }),
          rt.layers.lstm({ units: 4, seed: 2 }),
          tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        ],
      });
      return model;
    };
    const grads = async (backend: string) => {
      await rt.backends.use(backend);
      const model = build();
      const x = tf.tensor2d(
        [
          [1, 2, 3, 2, 6],
          [0, 4, 4, 5, 1],
        ],
        [2, 5],
        'int32',
      );
      const y = tf.tensor2d([
        [1, 0],
        [0, 1],
      ]);
      const before = tf.memory().numTensors;
      const { grads: g, value } = tf.variableGrads(
        () => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar,
      );
      const embedding = (await g[model.layers[0].weights[0].name].array()) as number[][];
      Object.values(g).forEach((t) => t.dispose());
      value.dispose();
      expect(tf.memory().numTensors).to.equal(before);
      tf.dispose([x, y]);
      model.dispose();
      return embedding;
    };
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    expect(cpu.flat().some((v) => v !== 0)).to.equal(true);
    cpu.flat().forEach((v, i) => expect(wasm.flat()[i]).to.be.closeTo(v, 1e-6));
  });
});
