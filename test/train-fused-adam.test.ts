import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { adamInJs, adamNumbers, applyGradients } from '../src/train/fused-adam.js';
import { adamInWasm } from '../src/fast/wasm/adam.js';
import { lossAndProbe } from '../src/train/probe.js';
import { prng } from '../src/init.js';
import { describeOnBackends } from './helpers/backends.js';

const SHAPES = [[3, 8], [8], [5, 2, 3], []];

function values(seed: number, shapes: number[][]): tf.Tensor[] {
  const rand = prng(seed);
  return shapes.map((s) =>
    tf.tensor(
      Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => 2 * rand() - 1),
      s,
    ),
  );
}

/** Variables (fresh, one set per optimizer) and the gradients of `steps` updates, seeded. */
function problem(steps: number) {
  const start = values(1, SHAPES);
  const make = () => start.map((t) => t.variable(true));
  const grads = Array.from({ length: steps }, (_, k) => values(100 + k, SHAPES));
  return { make, grads, dispose: () => tf.dispose([...start, ...grads.flat()]) };
}

async function state(optimizer: tf.Optimizer): Promise<Float32Array[]> {
  const weights = await optimizer.getWeights();
  return Promise.all(weights.map(async (w) => (await w.tensor.data()).slice() as Float32Array));
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a.map((x) => x.length)).to.deep.equal(b.map((x) => x.length));
  let d = 0;
  a.forEach((x, i) => x.forEach((v, j) => (d = Math.max(d, Math.abs(v - b[i][j])))));
  return d;
}

describe('train: Adam in our WebAssembly module (assembly/adam.ts)', () => {
  it('equals the JavaScript update to the bit: SIMD lanes and the rest, in place or not, wide ranges', () => {
    const rand = prng(7);
    for (const n of [1, 3, 8, 4099]) {
      const wide = () => Float32Array.from({ length: n }, () => (2 * rand() - 1) * 10 ** (8 * rand() - 6));
      const [x, m, g] = [wide(), wide(), wide()];
      const v = wide().map(Math.abs);
      for (const [acc1, acc2] of [
        [0.9, 0.999],
        [0.9 ** 40, 0.999 ** 40],
      ]) {
        const k = adamNumbers({ learningRate: 0.07, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, acc1, acc2);
        const js = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
        adamInJs(k, [x, m, v, g], js);
        const out = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
        expect(adamInWasm(k, [x, m, v, g], out), 'the module ran').to.equal(true);
        out.forEach((o, i) => expect(Array.from(o), `n ${n}, output ${i}`).to.deep.equal(Array.from(js[i])));
        const inPlace = [x.slice(), m.slice(), v.slice()];
        adamInWasm(k, [...inPlace, g], inPlace);
        inPlace.forEach((o, i) => expect(Array.from(o), `n ${n}, in place ${i}`).to.deep.equal(Array.from(js[i])));
      }
    }
  });
});

describeOnBackends('train: Adam in one kernel', ['cpu', 'wasm'], () => {
  const read = (vs: tf.Variable[]) => vs.map((v) => v.dataSync().slice() as Float32Array);

  it("equals tfjs's AdamOptimizer over many steps: variables, moments, iterations", async () => {
    const steps = 30;
    const { make, grads, dispose } = problem(steps);
    const [ours, theirs] = [make(), make()];
    const [a, b] = [tf.train.adam(0.05, 0.8, 0.95), tf.train.adam(0.05, 0.8, 0.95)];
    for (const g of grads) {
      applyGradients(a, ours, g);
      b.applyGradients(theirs.map((v, i) => ({ name: v.name, tensor: g[i] })));
    }
    expect(maxDiff(read(ours), read(theirs))).to.be.below(1e-6);
    expect(maxDiff(await state(a), await state(b))).to.be.below(1e-6);
    expect(a.iterations).to.equal(steps);
    dispose();
    tf.dispose([...ours, ...theirs]);
    a.dispose();
    b.dispose();
  });

  it('takes one kernel per update and leaks no tensor', async () => {
    const { make, grads, dispose } = problem(3);
    const vars = make();
    const optimizer = tf.train.adam(0.01);
    applyGradients(optimizer, vars, grads[0]); // makes the moments
    const before = tf.memory().numTensors;
    const profile = await tf.profile(() => applyGradients(optimizer, vars, grads[1]));
    expect(profile.kernels.map((k) => k.name)).to.deep.equal(['TfjsRecurrentAdam']);
    applyGradients(optimizer, vars, grads[2]);
    expect(tf.memory().numTensors).to.equal(before);
    dispose();
    tf.dispose(vars);
    optimizer.dispose();
  });

  it("continues tfjs's Adam from its saved weights (as a resumed checkpoint does)", async () => {
    const { make, grads, dispose } = problem(6);
    const [ours, theirs] = [make(), make()];
    const b = tf.train.adam(0.03);
    grads.slice(0, 3).forEach((g) => b.applyGradients(theirs.map((v, i) => ({ name: v.name, tensor: g[i] }))));
    ours.forEach((v, i) => v.assign(theirs[i]));
    const a = tf.train.adam(0.03);
    await a.setWeights(await b.getWeights());
    for (const g of grads.slice(3)) {
      applyGradients(a, ours, g);
      b.applyGradients(theirs.map((v, i) => ({ name: v.name, tensor: g[i] })));
    }
    expect(maxDiff(read(ours), read(theirs))).to.be.below(1e-6);
    expect(maxDiff(await state(a), await state(b))).to.be.below(1e-6);
    dispose();
    tf.dispose([...ours, ...theirs]);
    a.dispose();
    b.dispose();
  });

  it('leaves a subclass that overrides applyGradients, and other optimizers, to their own update', () => {
    const { make, grads, dispose } = problem(1);
    const calls: string[] = [];
    class Logged extends tf.AdamOptimizer {
      override applyGradients(g: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
        calls.push('adam');
        super.applyGradients(g);
      }
    }
    const vars = make();
    for (const optimizer of [new Logged(0.01, 0.9, 0.999), tf.train.sgd(0.1)]) {
      const before = read(vars);
      applyGradients(optimizer, vars, grads[0]);
      expect(maxDiff(read(vars), before)).to.be.above(0);
      optimizer.dispose();
    }
    expect(calls).to.deep.equal(['adam']);
    dispose();
    tf.dispose(vars);
  });

  it('probes the gradients in one kernel: the loss, and NaN exactly when an entry is not finite', async () => {
    const loss = tf.scalar(0.25);
    for (const bad of [null, Infinity, -Infinity, NaN]) {
      const g = [tf.tensor([1, -2, 3]), tf.tensor([[4, bad ?? 5]])];
      const profile = await tf.profile(() => lossAndProbe(loss, g));
      expect(profile.kernels.map((k) => k.name)).to.deep.equal(['TfjsRecurrentProbe']);
      const [value, probe] = (profile.result as tf.Tensor).dataSync();
      expect(value).to.equal(0.25);
      expect(Number.isNaN(probe)).to.equal(bad !== null);
      tf.dispose([...g, profile.result as tf.Tensor]);
    }
    loss.dispose();
  });

  it('trains a network with rt.train as the op-by-op Adam does', async () => {
    const x = tf.randomUniform([8, 5, 2], -1, 1, 'float32', 3);
    const y = tf.randomUniform([8, 5, 1], -1, 1, 'float32', 4);
    const trained = async (optimizer: tf.Optimizer) => {
      const net = rt.network({ cell: 'lstm', inputSize: 2, units: 6, outputSize: 1, seed: 2 });
      await rt.train(net, { x, y }, { loss: 'mse', epochs: 4, batchSize: 4, seed: 1, optimizer, progress: false });
      const w = Object.values(net.params).map((p) => p.dataSync().slice() as Float32Array);
      net.dispose();
      optimizer.dispose();
      return w;
    };
    // A subclass keeping Adam's arithmetic but not its applyGradients takes tfjs's op-by-op update.
    class OpByOp extends tf.AdamOptimizer {
      override applyGradients(g: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
        super.applyGradients(g);
      }
    }
    const before = tf.memory().numTensors;
    const [fused, plain] = [await trained(tf.train.adam(0.02)), await trained(new OpByOp(0.02, 0.9, 0.999))];
    expect(maxDiff(fused, plain)).to.be.below(1e-6);
    expect(tf.memory().numTensors).to.equal(before);
    tf.dispose([x, y]);
  });
});
