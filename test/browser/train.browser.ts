/**
 * A training step on the page's backend: BPTT with `tf.variableGrads` over the unrolled graph
 * and an optimizer update lower the loss, and the loop leaks no tensors; a soak of `rt.train`
 * keeps tensors (and, on WebGL, the bytes held in textures) flat.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from 'tfjs-recurrent';
import { SIZES } from './fixtures.js';

const { batch, time, inputSize, units, outputSize } = SIZES;

/** Defines this file's tests (called by page.ts: the bundler drops side-effect-only imports). */
export function trainingSuite(): void {
  describe('training step', () => {
    for (const cell of ['elman', 'lstm', 'gru'] as const) {
      it(`${cell}: gradient steps lower the MSE and leak no tensors`, async () => {
        const net = rt.network({ cell, inputSize, units, outputSize, seed: 3 });
        const x = tf.randomNormal([batch, time, inputSize], 0, 1, 'float32', 1);
        const y = tf.randomNormal([batch, time, outputSize], 0, 0.5, 'float32', 2);
        const optimizer = tf.train.adam(0.05);
        const loss = () => tf.losses.meanSquaredError(y, net.predict(x)) as tf.Scalar;
        const step = async () => {
          const { value, grads } = tf.variableGrads(loss, Object.values(net.params));
          optimizer.applyGradients(grads as Record<string, tf.Variable>);
          const v = (await value.data())[0];
          tf.dispose([value, ...Object.values(grads)]);
          return v;
        };
        const first = await step(); // also creates Adam's slots
        const tensors = tf.memory().numTensors;
        let last = first;
        for (let i = 0; i < 5; i++) last = await step();
        expect(tf.memory().numTensors).to.equal(tensors);
        expect(last).to.be.below(first);
        optimizer.dispose();
        tf.dispose([x, y]);
        net.dispose();
      });
    }

    it("rt.train's Adam (one program per output on GPUs) gives tfjs's own Adam's weights", async () => {
      // The same full-batch steps twice: rt.train, and tf.variableGrads with the optimizer's own update.
      const make = () => rt.network({ cell: 'lstm', inputSize, units, outputSize, seed: 12 });
      const [ours, theirs] = [make(), make()];
      const x = tf.randomNormal([batch, time, inputSize], 0, 1, 'float32', 5);
      const y = tf.randomNormal([batch, time, outputSize], 0, 0.5, 'float32', 6);
      const [ourAdam, tfjsAdam] = [tf.train.adam(0.02), tf.train.adam(0.02)];
      const options = { loss: 'mse' as const, optimizer: ourAdam, epochs: 4, batchSize: batch, shuffle: false };
      await rt.train(ours, { x, y }, { ...options, progress: false });
      for (let epoch = 0; epoch < 4; epoch++) {
        const loss = () => tf.losses.meanSquaredError(y, theirs.predict(x)) as tf.Scalar;
        const { value, grads } = tf.variableGrads(loss, Object.values(theirs.params));
        tfjsAdam.applyGradients(grads as Record<string, tf.Variable>);
        tf.dispose([value, ...Object.values(grads)]);
      }
      for (const [name, value] of Object.entries(theirs.params)) {
        const [a, b] = [await value.data(), await ours.params[name as keyof typeof ours.params].data()];
        const scale = Math.max(...Array.from(a, Math.abs));
        const diff = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
        expect(diff / scale, name).to.be.below(1e-5);
      }
      tf.dispose([x, y]);
      [ourAdam, tfjsAdam].forEach((o) => o.dispose());
      [ours, theirs].forEach((n) => n.dispose());
    });

    it('soak: 200 rt.train steps keep tensors (and WebGL texture bytes) flat', async () => {
      const net = rt.network({ cell: 'lstm', inputSize, units, outputSize, seed: 5 });
      const x = tf.randomNormal([10 * batch, time, inputSize], 0, 1, 'float32', 3);
      const y = tf.randomNormal([10 * batch, time, outputSize], 0, 0.5, 'float32', 4);
      const perEpoch: { tensors: number; gpuBytes: number }[] = [];
      const gpuBytes = () => (tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number }).numBytesInGPU ?? 0;
      const history = await rt.train(
        net,
        { x, y },
        {
          loss: 'mse',
          epochs: 20,
          batchSize: batch,
          seed: 1,
          clipNorm: 1,
          progress: false,
          callbacks: {
            onEpochEnd: () => void perEpoch.push({ tensors: tf.memory().numTensors, gpuBytes: gpuBytes() }),
          },
        },
      );
      expect(history.history.loss).to.have.length(20);
      expect(history.history.loss[19]).to.be.below(history.history.loss[0]);
      // From the second epoch on (Adam's slots exist), nothing grows.
      for (const e of perEpoch.slice(2)) {
        expect(e.tensors, 'live tensors').to.equal(perEpoch[1].tensors);
        expect(e.gpuBytes, 'bytes in WebGL textures').to.equal(perEpoch[1].gpuBytes);
      }
      tf.dispose([x, y]);
      net.dispose();
    });
  });
}
