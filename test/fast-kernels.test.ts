// The fast path's own kernels (src/fast/split.ts, src/fast/matmul.ts) against tfjs's ops: same
// values and same gradients, on the cpu and wasm backends.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { matMul } from '../src/fast/matmul.js';
import { split, unstack } from '../src/fast/split.js';
import { describeOnBackends } from './helpers/backends.js';
import { expectAbsClose, expectRelClose } from './helpers/close.js';

describeOnBackends('fast kernels', ['cpu', 'wasm'], () => {
  it('split equals tf.split along every axis, sizes given or counted, and so do their gradients', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([3, 8, 6], 0, 1, 'float32', 1);
      const cases: [number | number[], number][] = [
        [4, 1],
        [[1, 5, 2], 1],
        [[2, 1], 0],
        [3, 2],
        [[6], 2],
      ];
      for (const [sizes, axis] of cases) {
        const ours = split(x, sizes, axis);
        const theirs = tf.split(x, sizes, axis);
        expect(ours.map((t) => t.shape)).to.deep.equal(theirs.map((t) => t.shape));
        ours.forEach((t, i) => expectAbsClose(t, theirs[i], 0, `piece ${i} of ${JSON.stringify(sizes)} on ${axis}`));
        const weights = theirs.map((t, i) => tf.randomNormal(t.shape, 0, 1, 'float32', 10 + i));
        const loss = (parts: (x: tf.Tensor) => tf.Tensor[]) => (v: tf.Tensor) =>
          tf.addN(parts(v).map((p, i) => tf.sum(tf.mul(p, weights[i])))) as tf.Scalar;
        // tfjs 4.22's own split gradient fails for a single piece (it gets a tensor, not a list).
        const expected = theirs.length > 1 ? tf.grad(loss((v) => tf.split(v, sizes, axis)))(x) : weights[0];
        expectAbsClose(tf.grad(loss((v) => split(v, sizes, axis)))(x), expected, 1e-6, 'gradient');
      }
    });
  });

  it('unstack equals tf.unstack, one step included, with its gradient', () => {
    tf.tidy(() => {
      for (const shape of [
        [5, 2, 3],
        [1, 4, 2],
      ]) {
        const x = tf.randomNormal(shape, 0, 1, 'float32', 2);
        const ours = unstack(x);
        expect(ours.length).to.equal(shape[0]);
        ours.forEach((t, i) => expectAbsClose(t, tf.squeeze(tf.slice(x, i, 1), [0]), 0, `step ${i}`));
        const w = tf.randomNormal(shape.slice(1), 0, 1, 'float32', 3);
        const g = tf.grad((v: tf.Tensor) => tf.addN(unstack(v).map((p, i) => tf.sum(tf.mul(p, tf.mul(w, i + 1))))))(x);
        const expected = tf.stack(ours.map((_, i) => tf.mul(w, i + 1)));
        expectAbsClose(g, expected, 1e-6, 'gradient');
      }
    });
  });

  it('matMul equals tf.matMul with either operand transposed (or both), plus a bias, and so do the gradients', () => {
    tf.tidy(() => {
      const [M, K, N] = [6, 9, 7];
      for (const [tA, tB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const a = tf.randomNormal(tA ? [K, M] : [M, K], 0, 1, 'float32', 4);
        const b = tf.randomNormal(tB ? [N, K] : [K, N], 0, 1, 'float32', 5);
        const bias = tf.randomNormal([N], 0, 1, 'float32', 6);
        const w = tf.randomNormal([M, N], 0, 1, 'float32', 7);
        expectRelClose(matMul(a, b, tA, tB), tf.matMul(a, b, tA, tB), 1e-6, `product ${tA} ${tB}`);
        expectRelClose(matMul(a, b, tA, tB, bias), tf.add(tf.matMul(a, b, tA, tB), bias), 1e-6, 'with bias');
        const loss = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(f(a, b), w)) as tf.Scalar;
        const ours = tf.grads(loss((a, b) => matMul(a, b, tA, tB)))([a, b]);
        const theirs = tf.grads(loss((a, b) => tf.matMul(a, b, tA, tB)))([a, b]);
        expectRelClose(ours[0], theirs[0], 1e-5, `d/da ${tA} ${tB}`);
        expectRelClose(ours[1], theirs[1], 1e-5, `d/db ${tA} ${tB}`);
      }
    });
  });
});
