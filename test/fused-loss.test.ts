// Our losses as one kernel each way (src/objective/fused-loss.ts: mse on cpu and wasm, the
// cross-entropies on cpu): equal to their readable form in tf ops (LOSS_OPS) in value and in the
// gradients of predictions and labels, over odd shapes, unnormalised label rows and class indices
// out of range; they leak no tensors, and rt.train runs them (not the tf ops) where they exist.
// The same for the GPU backends' form (src/objective/loss-ops.ts: tf ops differentiated by hand),
// checked here on cpu: the gradients are backend-independent tf ops.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { lossFunction } from '../src/objective/loss.js';
import { handDifferentiated, LOSS_OPS, type OurLossName } from '../src/objective/loss-ops.js';

import { describeOnBackends } from './helpers/backends.js';
import { expectRelClose } from './helpers/close.js';

/** Labels and predictions of a case (seeded). */
interface Case {
  name: string;
  loss: OurLossName;
  data: () => { y: tf.Tensor; p: tf.Tensor };
}

const normal = (shape: number[], seed: number, scale = 1) => tf.randomNormal(shape, 0, scale, 'float32', seed);

const CASES: Case[] = [
  { name: 'mse [3, 7, 5]', loss: 'mse', data: () => ({ y: normal([3, 7, 5], 1), p: normal([3, 7, 5], 2) }) },
  { name: 'mse [1]', loss: 'mse', data: () => ({ y: tf.tensor1d([0.25]), p: tf.tensor1d([-1.5]) }) },
  {
    name: 'mse [2, 9] int32 labels',
    loss: 'mse',
    data: () => ({ y: tf.range(0, 18, 1, 'int32').reshape([2, 9]), p: normal([2, 9], 3, 5) }),
  },
  {
    name: 'softmaxCrossEntropy [4, 5, 7], probabilities',
    loss: 'softmaxCrossEntropy',
    data: () => ({ y: tf.softmax(normal([4, 5, 7], 4)), p: normal([4, 5, 7], 5, 3) }),
  },
  {
    name: 'softmaxCrossEntropy [6, 3], rows not summing to 1, large logits',
    loss: 'softmaxCrossEntropy',
    data: () => ({ y: tf.randomUniform([6, 3], 0, 2, 'float32', 6), p: normal([6, 3], 7, 40) }),
  },
  {
    name: 'sparseSoftmaxCrossEntropy [8, 16, 65] (a char LM)',
    loss: 'sparseSoftmaxCrossEntropy',
    data: () => ({ y: tf.randomUniform([8, 16], 0, 65, 'int32', 8), p: normal([8, 16, 65], 9, 2) }),
  },
  {
    name: 'sparseSoftmaxCrossEntropy [5, 4], float indices, one fractional, two out of range',
    loss: 'sparseSoftmaxCrossEntropy',
    data: () => ({ y: tf.tensor1d([0, 3, 2.7, -1, 4]), p: normal([5, 4], 10) }),
  },
];

/** The loss's value and its gradients for predictions and labels (float labels only: the others are constants). */
function valueAndGrads(f: (y: tf.Tensor, p: tf.Tensor) => tf.Scalar, y: tf.Tensor, p: tf.Tensor): tf.Tensor[] {
  if (y.dtype !== 'float32') {
    const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => f(y, q))(p);
    return [value, grad];
  }
  const { value, grads } = tf.valueAndGrads((yy: tf.Tensor, q: tf.Tensor) => f(yy, q))([y, p]);
  return [value, ...grads];
}

/** Kernels the tf ops of the losses run (and their gradients). */
const OPS_KERNELS = [
  'SquaredDifference',
  'Mean',
  'Sum',
  'LogSoftmax',
  'Softmax',
  'Exp',
  'Log',
  'Max',
  'OneHot',
  'Mul',
  'Sub',
];

/** The names of the kernels `f` runs. */
async function kernelsOf(f: () => tf.TensorContainer | Promise<tf.TensorContainer>): Promise<string[]> {
  const info = await tf.profile(async () => {
    const result = await f();
    tf.dispose(result);
  });
  return info.kernelNames;
}

/**
 * Our kernels for `loss` on `backend` with labels of `dtype`, forward and gradient: on wasm the
 * mean square of float32 labels keeps its differences for its own gradient kernel.
 */
const kernelNames = (loss: OurLossName, backend: string, dtype = 'float32') =>
  loss !== 'mse'
    ? ['TfjsRecurrentCrossEntropy', 'TfjsRecurrentLossGrad']
    : backend === 'wasm' && dtype === 'float32'
      ? ['TfjsRecurrentMseInPlace', 'TfjsRecurrentMseGrad']
      : ['TfjsRecurrentMse', 'TfjsRecurrentLossGrad'];

/** Whether `loss` has a fused kernel on `backend`. */
const isFused = (loss: OurLossName, backend: string) => loss === 'mse' || backend === 'cpu';

describeOnBackends('fused losses', ['cpu', 'wasm'], (backend) => {
  const cases = CASES.filter(({ loss }) => isFused(loss, backend));
  for (const { name, loss, data } of cases) {
    it(`${name}: value and gradients equal the tf ops'`, () => {
      tf.tidy(() => {
        const { y, p } = data();
        const fused = valueAndGrads(lossFunction(loss, 'test'), y, p);
        const ops = valueAndGrads(LOSS_OPS[loss], y, p);
        expect(fused.length).to.equal(ops.length);
        ['value', 'dL/dp', 'dL/dy'].slice(0, ops.length).forEach((what, i) => {
          expect(fused[i].shape, what).to.deep.equal(ops[i].shape);
          expectRelClose(fused[i], ops[i], 1e-6, what);
        });
        expect(fused[0].dataSync()[0]).to.be.a('number').and.satisfy(Number.isFinite);
      });
    });
  }

  it('mse keeps its differences for the gradient in data tfjs does not track, freed after the gradient', () => {
    const { y, p } = CASES.find((c) => c.loss === 'mse')!.data();
    const mse = lossFunction('mse', 'test');
    const before = tf.backend().numDataIds();
    tf.dispose(tf.grads((y: tf.Tensor, p: tf.Tensor) => mse(y, p))([y, p]));
    tf.dispose(tf.grad((p: tf.Tensor) => mse(y, p))(p));
    tf.dispose(mse(y, p));
    expect(tf.backend().numDataIds(), 'data left in the backend').to.equal(before);
    tf.dispose([y, p]);
  });

  it('runs one kernel forward and one for the gradient of the predictions, none of the tf ops (where fused)', async () => {
    for (const { loss, data } of CASES) {
      const { y, p } = data();
      const fused = isFused(loss, backend);
      const names = await kernelsOf(() => {
        const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => lossFunction(loss, 'test')(y, q))(p);
        return [value, grad];
      });
      const ours = kernelNames(loss, backend, y.dtype);
      expect(
        names.filter((k) => ours.includes(k)),
        loss,
      ).to.deep.equal(fused ? ours : []);
      expect(
        names.some((k) => OPS_KERNELS.includes(k)),
        loss,
      ).to.equal(!fused);
      tf.dispose([y, p]);
    }
  });

  it('leaves no tensors behind', () => {
    for (const { loss, data } of cases) {
      const { y, p } = data();
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        valueAndGrads(lossFunction(loss, 'test'), y, p);
      });
      expect(tf.memory().numTensors, loss).to.equal(before);
      tf.dispose([y, p]);
    }
  });

  it('rt.train runs them where they exist, else the tf ops (mse every step; sparse cross-entropy at the last step)', async () => {
    const runs = [
      {
        loss: 'mse' as const,
        y: normal([6, 5, 2], 12),
        net: rt.network({ cell: 'mingru', inputSize: 3, units: 4, outputSize: 2, seed: 1 }),
      },
      {
        loss: 'sparseSoftmaxCrossEntropy' as const,
        y: tf.tensor1d([0, 2, 1, 2, 0, 1]),
        net: rt.network({ cell: 'lstm', inputSize: 3, units: 4, outputSize: 3, seed: 2 }),
      },
    ];
    const x = normal([6, 5, 3], 11);
    for (const { loss, y, net } of runs) {
      const names = await kernelsOf(async () => {
        // SGD: the readable step, which runs the loss function (rt.train's one-kernel step for
        // small networks with Adam, src/train/fused-step.ts, computes the mean square itself).
        const options = { loss, optimizer: 'sgd' as const, epochs: 2, batchSize: 3, progress: false, seed: 1 };
        await rt.train(net, { x, y }, options);
        return [];
      });
      const [ours, gradient] = kernelNames(loss, backend);
      const theirs = loss === 'mse' ? 'SquaredDifference' : 'OneHot';
      const fused = isFused(loss, backend);
      expect(names.includes(ours), `${loss} fused`).to.equal(fused);
      expect(names.includes(gradient), `${loss} fused gradient`).to.equal(fused);
      expect(names.includes(theirs), `${loss} tf ops`).to.equal(!fused);
      net.dispose();
      y.dispose();
    }
    x.dispose();
  });
});

describe('losses differentiated by hand (the GPU backends’ gradients, run here on cpu)', () => {
  for (const { name, loss, data } of CASES) {
    it(`${name}: value and gradients equal the tf ops', with no tensor left behind`, () => {
      const { y, p } = data();
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const hand = valueAndGrads((y, p) => handDifferentiated(loss, y, p)!, y, p);
        const ops = valueAndGrads(LOSS_OPS[loss], y, p);
        expect(hand.length).to.equal(ops.length);
        ['value', 'dL/dp', 'dL/dy'].slice(0, ops.length).forEach((what, i) => {
          expect(hand[i].shape, what).to.deep.equal(ops[i].shape);
          // The mean square's gradient rounds as tfjs's does: equal to the bit.
          if (loss === 'mse') expect([...hand[i].dataSync()], what).to.deep.equal([...ops[i].dataSync()]);
          expectRelClose(hand[i], ops[i], 1e-6, what);
        });
      });
      // Outside a tidy too: the value, and a gradient.
      handDifferentiated(loss, y, p)!.dispose();
      tf.grad((q: tf.Tensor) => handDifferentiated(loss, y, q)!)(p).dispose();
      expect(tf.memory().numTensors, 'tensors').to.equal(before);
      tf.dispose([y, p]);
    });
  }

  it('take no part where the shapes are not the loss’s (broadcast labels, or predictions)', () => {
    tf.tidy(() => {
      const [a, b] = [normal([1, 4], 1), normal([3, 4], 2)];
      expect(handDifferentiated('mse', a, b)).to.equal(null);
      expect(handDifferentiated('mse', b, a)).to.equal(null);
      expect(handDifferentiated('sparseSoftmaxCrossEntropy', tf.zeros([3, 4]), b)).to.equal(null);
    });
  });
});

describe('fused losses elsewhere', () => {
  it('fall back to the tf ops where the shapes are not the loss’s (broadcast labels)', () => {
    tf.tidy(() => {
      const [y, p] = [normal([1, 4], 1), normal([3, 4], 2)];
      expectRelClose(lossFunction('mse', 'test')(y, p), LOSS_OPS.mse(y, p), 1e-6);
    });
  });
});
