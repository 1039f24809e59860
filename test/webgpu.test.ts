// The webgpu backend in plain Node (Dawn, the optional peer `webgpu`): rt.backends.use('webgpu')
// sets it up; rt.train gives the cpu backend's losses; unroll matches the PyTorch references in
// outputs and gradients; the diagnostics' and interop's async variants give the cpu numbers and
// their sync twins refuse with a message naming them; a train step compiles, uploads and reads
// nothing per time step; and the tfjs AddN bug our `sum` avoids is pinned. Without a GPU,
// Chromium's SwiftShader Vulkan driver is used (VK_DRIVER_FILES, set here when unset). If webgpu
// cannot start here, the suite fails with the reason: it never skips.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { countWebGpu, type WebGpuCounts } from '../bench/gpu-counters.js';
import * as rt from '../src/index.js';
import { lossFunction } from '../src/objective/loss.js';
import { LOSS_OPS } from '../src/objective/loss-ops.js';
import { MAX_SUM_INPUTS, sum } from '../src/sum.js';
import { AdamConstants, adamInOps } from '../src/train/adam-ops.js';
import { adamState, applyGradients, makeMoments } from '../src/train/fused-adam.js';
import { FIXTURE_NAMES, loadFixture, torchKind } from './helpers/fixtures.js';
import { spyOnSequenceKernel } from './helpers/kernel-spy.js';
import { forgetRefusals, gpuOutput, recordDispatches, softwareAdapter, tfjsWebGPU } from '../src/fast/webgpu-passes.js';
import { sequenceSlices, slicing, webgpuSequenceKernel } from '../src/fast/webgpu-sequence.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD)) process.env.VK_DRIVER_FILES = SWIFTSHADER_ICD;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The GPU device of the running webgpu backend (for error scopes). */
interface ErrorScopes {
  pushErrorScope(filter: 'validation'): void;
  popErrorScope(): Promise<{ message: string } | null>;
}
const device = () => (tf.backend() as unknown as { device: ErrorScopes }).device;

/** Runs `f` on `backend` and comes back to webgpu (tensors made by f must stay on that backend). */
async function on<T>(backend: string, f: () => Promise<T>): Promise<T> {
  await rt.backends.use(backend);
  try {
    return await f();
  } finally {
    await rt.backends.use('webgpu');
  }
}

/** The error `f` throws (fails the test when it does not). */
async function thrown(f: () => unknown): Promise<Error> {
  try {
    await f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

/** `max |a - b| / max |b|`. */
function relative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = Number.MIN_VALUE;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe('webgpu in Node (Dawn)', () => {
  let previous: string;
  before(async function () {
    this.timeout(60_000);
    await tf.ready();
    previous = tf.getBackend();
    await rt.backends.use('webgpu'); // throws with the reason when webgpu cannot start here
  });
  after(async () => {
    await rt.backends.use(previous);
  });

  it('use("webgpu") runs it, and available() lists it', () => {
    expect(tf.getBackend()).to.equal('webgpu');
    expect(rt.backends.available()).to.include('webgpu');
  });

  describe('sums of many tensors', () => {
    it('pins the tfjs bug: tf.addN of 9 tensors is an invalid pipeline and reads wrong numbers', async () => {
      const ts = Array.from({ length: 9 }, (_, i) => tf.fill([4], i + 1));
      await Promise.all(ts.map((t) => t.data())); // the inputs are on the GPU before the bad op
      device().pushErrorScope('validation');
      const s = tf.addN(ts);
      const got = Array.from(await s.data());
      const error = await device().popErrorScope();
      tf.dispose([s, ...ts]);
      // When these fail, tfjs-backend-webgpu has fixed AddN: sum() may go back to one tf.addN.
      expect(error?.message, 'the validation error').to.match(/storage buffers/);
      expect(got, 'the values read').to.not.deep.equal([45, 45, 45, 45]);
    });

    it(`our sum adds any number of tensors right, at most ${MAX_SUM_INPUTS} per op`, async () => {
      for (const n of [1, 2, 7, 8, 9, 15, 50]) {
        const ts = Array.from({ length: n }, (_, i) => tf.fill([3, 2], i + 1));
        device().pushErrorScope('validation');
        const s = sum(ts);
        const got = Array.from(await s.data());
        const error = await device().popErrorScope();
        tf.dispose([s, ...ts]);
        expect(error, `no validation error for ${n}`).to.equal(null);
        expect(got, `sum of ${n}`).to.deep.equal(new Array(6).fill((n * (n + 1)) / 2));
      }
    });
  });

  describe('rt.train gives the cpu losses (1e-5 relative)', () => {
    for (const cell of ['lstm', 'gru'] as const) {
      it(`${cell}: 3 epochs, Adam, clipNorm`, async () => {
        const [n, time, inputSize, units, outputSize] = [16, 6, 3, 8, 2];
        const x = Array.from({ length: n * time * inputSize }, (_, i) => Math.sin(1.7 * i));
        const y = Array.from({ length: n * time * outputSize }, (_, i) => 0.5 * Math.cos(0.9 * i));
        const losses = async () => {
          const net = rt.network({ cell, inputSize, units, outputSize, seed: 3 });
          const data = { x: tf.tensor3d(x, [n, time, inputSize]), y: tf.tensor3d(y, [n, time, outputSize]) };
          try {
            const history = await rt.train(net, data, {
              loss: 'mse',
              epochs: 3,
              batchSize: 8,
              learningRate: 0.02,
              clipNorm: 0.5,
              seed: 1,
              progress: false,
            });
            return history.history.loss;
          } finally {
            tf.dispose([data.x, data.y]);
            net.dispose();
          }
        };
        const cpu = await on('cpu', losses);
        const gpu = await losses();
        expect(gpu.every(Number.isFinite), `finite losses: ${gpu.join(', ')}`).to.equal(true);
        expect(gpu[2]).to.be.below(gpu[0]);
        expect(relative(gpu, cpu), `webgpu ${gpu.join(', ')} vs cpu ${cpu.join(', ')}`).to.be.at.most(1e-5);
      });
    }
  });

  describe("our losses differentiated by hand (src/objective/loss-ops.ts): the tf ops' numbers, 1 upload where tfjs's gradients make 4", () => {
    const cases = [
      { loss: 'mse', y: () => tf.randomNormal([4, 6, 3], 0, 1, 'float32', 1) },
      { loss: 'softmaxCrossEntropy', y: () => tf.softmax(tf.randomNormal([4, 6, 3], 0, 1, 'float32', 1)) },
      { loss: 'sparseSoftmaxCrossEntropy', y: () => tf.floor(tf.randomUniform([4, 6], 0, 3, 'float32', 1)) },
    ] as const;
    for (const { loss, y: labels } of cases) {
      it(loss, async () => {
        const [y, p] = [labels(), tf.randomNormal([4, 6, 3], 0, 2, 'float32', 2)];
        await Promise.all([y.data(), p.data()]); // on the GPU before counting
        const gradient = (f: (y: tf.Tensor, p: tf.Tensor) => tf.Scalar) => async () => {
          const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => f(y, q))(p);
          const got = [await value.data(), await grad.data()];
          tf.dispose([value, grad]);
          return got;
        };
        tf.env().set('WEBGPU_CPU_FORWARD', false);
        try {
          const [hand, ops] = [gradient(lossFunction(loss, 'test')), gradient(LOSS_OPS[loss])];
          const [[value, dp], [opsValue, opsDp]] = [await hand(), await ops()];
          expect(relative(value, opsValue), 'value').to.be.at.most(1e-6);
          expect(relative(dp, opsDp), 'dL/dp').to.be.at.most(1e-5);
          const [ours, theirs] = [await countWebGpu(hand), await countWebGpu(ops)];
          expect([ours.uploads, theirs.uploads], "uploads: ours (the seed dy), the tf ops'").to.deep.equal([1, 4]);
        } finally {
          tf.env().set('WEBGPU_CPU_FORWARD', true);
          tf.dispose([y, p]);
        }
      });
    }
  });

  it("rt.train's batch reads once and uploads one number, tfjs's seed of the gradient", async () => {
    // Per batch, counted at 1 and 3 batches of an epoch, with tfjs's CPU hand-off of small ops off
    // (it uploads their results): the finiteness probe's zeros are made on the GPU (a zero per
    // gradient was uploaded before), and so are the loss gradient's numbers (4 uploads before: the
    // mean square's count, its ones, its 2, and the seed). One read: the loss and the probe; the
    // data's values are checked whole, once a call (a read per batch before).
    const net = rt.network({ cell: 'lstm', inputSize: 3, units: 4, outputSize: 2, seed: 3 });
    const gradients = Object.keys(net.params).length;
    const uploads = async (rows: number) => {
      const data = {
        x: tf.randomNormal([rows, 5, 3], 0, 1, 'float32', 1) as tf.Tensor3D,
        y: tf.randomNormal([rows, 5, 2], 0, 1, 'float32', 2) as tf.Tensor3D,
      };
      const train = () =>
        rt.train(net, data, { loss: 'mse', epochs: 1, batchSize: 4, shuffle: false, progress: false });
      try {
        await train();
        return await countWebGpu(train);
      } finally {
        tf.dispose([data.x, data.y]);
      }
    };
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    try {
      const [one, three] = [await uploads(4), await uploads(12)];
      const perBatch = (counts: 'uploads' | 'reads') => (three[counts] - one[counts]) / 2;
      expect(perBatch('uploads'), `uploads per batch (${gradients} gradients)`).to.equal(1);
      expect(perBatch('reads'), 'reads per batch').to.equal(1);
    } finally {
      tf.env().set('WEBGPU_CPU_FORWARD', true);
      net.dispose();
    }
  });

  describe('parity with PyTorch through rt.unroll (compareWithPyTorchAsync)', () => {
    for (const name of FIXTURE_NAMES) {
      it(`${name}: loss, outputs and states (1e-5), gradients (1e-4 relative)`, async () => {
        const f = loadFixture(name);
        const before = tf.memory().numTensors;
        const d = await rt.interop.compareWithPyTorchAsync(f);
        expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
        expect(d.loss, 'loss').to.be.at.most(1e-4 * Math.max(1, Math.abs(f.loss_value)));
        for (const key of ['outputs', 'h_T', 'c_T'] as const) if (key in d) expect(d[key], key).to.be.at.most(1e-5);
        expect(Object.keys(d.grads).sort()).to.deep.equal(Object.keys(f.grads).sort());
        for (const [param, r] of Object.entries(d.grads)) expect(r, `dL/d${param}`).to.be.at.most(1e-4);
        for (const key of ['grad_x', 'grad_h0', 'grad_c0'] as const) {
          if (key in d) expect(d[key], key).to.be.at.most(1e-4);
        }
      });
    }

    it('toPyTorchAsync gives the weights back; the sync compareWithPyTorch and toPyTorch refuse, naming them', async () => {
      const f = loadFixture('gru');
      const cell = rt.interop.fromPyTorch(torchKind(f), f.params);
      try {
        const back = await rt.interop.toPyTorchAsync(cell);
        expect(
          relative((back.weight_hh_l0 as number[][]).flat(), (f.params.weight_hh_l0 as number[][]).flat()),
        ).to.be.below(1e-7);
        expect((await thrown(() => rt.interop.toPyTorch(cell))).message).to.match(
          /toPyTorch: .*'webgpu' backend.*use await rt\.interop\.toPyTorchAsync\(model\) instead/,
        );
      } finally {
        cell.dispose();
      }
      expect((await thrown(() => rt.interop.compareWithPyTorch(f))).message).to.match(
        /compareWithPyTorch: .*'webgpu'.*compareWithPyTorchAsync/,
      );
    });
  });

  describe('the whole-sequence kernel (src/fast/webgpu-sequence.ts) agrees with the plain path', () => {
    // Sizes that take each of its variants: 1 or 4 units an invocation (units a multiple of 4 or
    // not), 1 or 4 batch rows (batch below 64 or not, with rows left over), with biases and
    // without, the products' sums in 1, 2, 4 or 8 slices: fixed (2 slices of scalar sums, 8 of
    // sums of 3 and 8 terms), or as chosen on a GPU's adapter (this one is a CPU's, where the sums
    // are not sliced: 64 units take 2 forward, 8, 4 and 2 back for the LSTM, GRU and Elman RNN; 40
    // units 1 forward, 4, 2 and 1 back, with 4 rows and invocations past the last unit); one after
    // the other, so no size may be baked into a program it caches.
    const sizes = [
      [4, 6, 5, true, 2],
      [3, 5, 8, false, 8],
      [66, 3, 13, true, undefined],
      [5, 4, 64, true, 'gpu'],
      [66, 3, 40, true, 'gpu'],
    ] as const;
    /** The slices of `how` in force (`fixed`, or `'gpu'`: as chosen on a GPU's adapter); returns what undoes it. */
    const slicedAs = (how: (typeof sizes)[number][4]) => {
      // tfjs's own AdapterInfo (its methods used elsewhere): its fields changed, then put back.
      const adapter = tfjsWebGPU(tf.backend()).adapterInfo!;
      const { vendor, architecture } = adapter;
      if (how === 'gpu') Object.assign(adapter, { vendor: 'a GPU', architecture: '' });
      else slicing.fixed = how;
      return () => {
        Object.assign(adapter, { vendor, architecture });
        delete slicing.fixed;
      };
    };
    for (const kind of ['elman', 'lstm', 'gru'] as const) {
      it(`${kind}: outputs, last state (1e-5) and the gradients of x, the first state and every weight (1e-4 relative), reverse; a mask takes the step kernels`, async () => {
        for (const [batch, time, units, useBias, slices] of sizes) {
          const cell = rt.cells[kind]({ inputSize: 3, units, useBias, seed: units });
          // Biases of their own (a cell starts with zeros, or ones in the LSTM's forget gate).
          for (const [name, p] of Object.entries(cell.params)) {
            if (name.startsWith('b')) tf.tidy(() => p.assign(tf.randomNormal(p.shape, 0, 1, 'float32', units)));
          }
          const x = tf.variable(tf.randomNormal([batch, time, 3], 0, 1, 'float32', 5));
          const h = tf.variable(tf.randomNormal([batch, units], 0, 1, 'float32', 8));
          const c = tf.variable(tf.randomNormal([batch, units], 0, 1, 'float32', 9));
          const [h0, c0] = [h, c] as tf.Tensor[] as tf.Tensor2D[];
          const initialState = kind === 'lstm' ? { h: h0, c: c0 } : { h: h0 };
          const R = tf.randomNormal([batch, time, units], 0, 1, 'float32', 6);
          const S = tf.randomNormal([batch, units], 0, 1, 'float32', 7);
          const someMasked = tf.randomUniform([batch, time], 0, 1, 'float32', 3).greater(0.3).toFloat();
          const variables = [x, ...Object.values(initialState), ...Object.values(cell.params)] as tf.Variable[];
          const spy = spyOnSequenceKernel('webgpu');
          const unslice = slicedAs(slices);
          try {
            for (const [reverse, mask] of [
              [false, undefined],
              [true, undefined],
              [false, someMasked],
            ] as const) {
              const what = `[${batch}, ${time}] × ${units} units, biases: ${useBias}, slices: ${slices ?? 'chosen'}, reverse: ${reverse}, mask: ${mask !== undefined}`;
              const loss = (fast: boolean) => () => {
                const { outputs, state } = rt.unroll(cell, x as tf.Tensor3D, { reverse, mask, fast, initialState });
                const last = Object.values(state).map((v) => tf.sum(tf.mul(v, S)));
                return tf.addN([tf.sum(tf.mul(outputs, R)), ...last]) as tf.Scalar;
              };
              const runs = spy.runs();
              const tensors = tf.memory().numTensors;
              const [fast, plain] = [true, false].map((f) => tf.variableGrads(loss(f), variables));
              expect(spy.runs() - runs, `kernel runs (${what})`).to.equal(mask ? 0 : 1);
              expect(relative(await fast.value.data(), await plain.value.data()), `loss (${what})`).to.be.below(1e-5);
              for (const v of variables) {
                const err = relative(await fast.grads[v.name].data(), await plain.grads[v.name].data());
                expect(err, `dL/d${v.name} (${what})`).to.be.below(1e-4);
              }
              tf.dispose([fast.value, plain.value, ...Object.values(fast.grads), ...Object.values(plain.grads)]);
              expect(tf.memory().numTensors, `tensors left behind (${what})`).to.equal(tensors);
            }
          } finally {
            unslice();
            spy.restore();
            tf.dispose([x, h, c, R, S, someMasked]);
            cell.dispose();
          }
        }
      });
    }
    it("slices its sums only on a GPU's adapter, where a step has too few invocations to fill it", () => {
      const chosen = () =>
        (
          [
            ['lstm', 32, 128],
            ['lstm', 256, 512],
            ['gru', 5, 64],
            ['lstm', 66, 40],
            ['elman', 1024, 1024],
          ] as const
        ).map(([kind, batch, units]) => Object.values(sequenceSlices(kind, batch, units)));
      // [forward, backward]: 4 units × 1 or 4 rows an invocation, up to 32768 invocations, 32 terms a slice.
      const onGpu = [
        [4, 8],
        [4, 4],
        [2, 4],
        [1, 4],
        [1, 1],
      ];
      const software = softwareAdapter(tfjsWebGPU(tf.backend()));
      if (process.env.VK_DRIVER_FILES?.includes('swiftshader'))
        expect(software, 'SwiftShader: software').to.equal(true);
      expect(chosen(), `on this adapter (software: ${software})`).to.deep.equal(
        software ? onGpu.map(() => [1, 1]) : onGpu,
      );
      const undo = slicedAs('gpu');
      try {
        expect(chosen(), "on a GPU's adapter").to.deep.equal(onGpu);
      } finally {
        undo();
      }
    });

    it('reads an int32 x as its numbers (tfjs casts it to float32 by relabelling its int32 buffer)', async () => {
      const cell = rt.cells.gru({ inputSize: 2, units: 4, seed: 1 });
      const values = [1, 2, 3, 4, 5, 6, -7, 8, 9, 0, 1, -2];
      const spy = spyOnSequenceKernel('webgpu');
      try {
        const [ints, floats] = await Promise.all(
          (['int32', 'float32'] as const).map((dtype) =>
            rt.unroll(cell, tf.tensor3d(values, [2, 3, 2], dtype)).outputs.data(),
          ),
        );
        expect(spy.runs(), 'kernel runs').to.equal(2);
        expect(Array.from(ints)).to.deep.equal(Array.from(floats));
      } finally {
        spy.restore();
        cell.dispose();
      }
    });

    it('under tf.profile: the same outputs and gradients, and its GPU time where the adapter has timestamps', async () => {
      // While tfjs times kernels, the kernel's dispatches get a pass of their own (src/fast/webgpu-passes.ts).
      const cell = rt.cells.lstm({ inputSize: 3, units: 8, seed: 2 });
      const x = tf.randomNormal([4, 5, 3], 0, 1, 'float32', 5) as tf.Tensor3D;
      const loss = () => tf.sum(tf.square(rt.unroll(cell, x).outputs)) as tf.Scalar;
      const step = () => tf.variableGrads(loss, Object.values(cell.params));
      try {
        const plain = step();
        const profile = await tf.profile(() => {
          const profiled = step();
          return [profiled.value, ...Object.values(profiled.grads)];
        });
        const profiled = profile.result as tf.Tensor[];
        const expected = [plain.value, ...Object.values(plain.grads)];
        for (let i = 0; i < expected.length; i++) {
          expect(Array.from(await profiled[i].data()), `result ${i}`).to.deep.equal(
            Array.from(await expected[i].data()),
          );
        }
        const ours = profile.kernels.filter((k) => k.name.startsWith('TfjsRecurrentSequence'));
        expect(ours.map((k) => k.name)).to.deep.equal(['TfjsRecurrentSequence', 'TfjsRecurrentSequenceBack']);
        const timestamps = (tf.backend() as unknown as { supportTimestampQuery: boolean }).supportTimestampQuery;
        for (const k of ours) {
          const ms = await k.kernelTimeMs;
          expect(ms, `${k.name}'s GPU ms`).to.satisfy((v: number) => (timestamps ? v > 0 : v === 0));
        }
        tf.dispose([...expected, ...profiled]);
      } finally {
        x.dispose();
        cell.dispose();
      }
    });
  });

  it('a program of ours the GPU refuses is logged, then refused by name; an LSTM takes the step kernels after its own is refused', async () => {
    const backend = tfjsWebGPU(tf.backend());
    const logged: string[] = [];
    const error = console.error;
    console.error = (...a: unknown[]) => void logged.push(a.join(' '));
    const out = gpuOutput(backend, [4]);
    // Not WGSL: the device refuses the pipeline, and says so only after the call.
    const broken = (key: string) => ({
      key,
      code: () => 'fn main( {',
      bindings: [['out', true]] as const,
      dispatch: [1, 1] as [number, number],
    });
    const sequenceKernel = () => webgpuSequenceKernel(rt.cells.lstm({ inputSize: 2, units: 4 }).config)!;
    try {
      expect(sequenceKernel().fits(3, 2, false), 'before').to.equal(true);
      recordDispatches(backend, broken('tfjsRecurrentTestBroken'), [out], [[0]]);
      recordDispatches(backend, broken('tfjsRecurrentSequence_lstm_test'), [out], [[0]]);
      // The queue takes the (invalid) commands, the error scopes settle.
      backend.endComputePassEncoder();
      backend.submitQueue();
      for (let i = 0; i < 100 && logged.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(logged.join('\n')).to.contain('the GPU refused the program tfjsRecurrentTestBroken');
      expect(() => recordDispatches(backend, broken('tfjsRecurrentTestBroken'), [out], [[0]])).to.throw(
        /the GPU refused the program tfjsRecurrentTestBroken/,
      );
      expect(sequenceKernel().fits(3, 2, false), 'after its program was refused').to.equal(false);
    } finally {
      console.error = error;
      backend.disposeData(out.dataId);
      forgetRefusals();
    }
  });

  describe('the step kernels (src/fast/step-kernels.ts) agree with the plain path', () => {
    // Where the whole-sequence kernel does not run (here: unregistered; elsewhere: masks).
    let spy: ReturnType<typeof spyOnSequenceKernel>;
    before(() => (spy = spyOnSequenceKernel('webgpu', true)));
    after(() => spy.restore());
    const kinds = ['elman', 'lstm', 'gru'] as const;
    // Two sizes one after the other: tfjs caches a pipeline by shader key, so no size may be baked in.
    for (const [kind, units] of kinds.flatMap((k) => [[k, 5] as const, [k, 7] as const])) {
      it(`${kind}, ${units} units: outputs (1e-5) and gradients (1e-4 relative), with and without masks, reverse`, async () => {
        const cell = rt.cells[kind]({ inputSize: 3, units, seed: units });
        const x = tf.randomNormal([4, 6, 3], 0, 1, 'float32', 5) as tf.Tensor3D;
        const someMasked = tf.tensor2d(
          [1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1],
          [4, 6],
        );
        const R = tf.randomNormal([4, 6, units], 0, 1, 'float32', 6);
        try {
          for (const [reverse, mask] of [
            [false, undefined],
            [true, undefined],
            [false, someMasked],
            [true, someMasked],
          ] as const) {
            const what = `reverse: ${reverse}, mask: ${mask !== undefined}`;
            const loss = (fast: boolean) => () =>
              tf.sum(tf.mul(rt.unroll(cell, x, { reverse, mask, fast }).outputs, R)) as tf.Scalar;
            const profile = await tf.profile(() => tf.tidy(() => rt.unroll(cell, x, { reverse, mask }).outputs.sum()));
            const steps = profile.kernels.filter((k) => k.name === 'TfjsRecurrentStep').length;
            expect(steps, `step kernels in a forward pass (${what})`).to.equal(kind === 'lstm' ? 12 : 6);
            const [fast, plain] = [loss(true), loss(false)].map((f) => tf.tidy(() => f()));
            expect(relative(await fast.data(), await plain.data()), `loss (${what})`).to.be.below(1e-5);
            const [gFast, gPlain] = [true, false].map((f) => tf.variableGrads(loss(f)));
            for (const [symbol, v] of Object.entries(cell.params)) {
              const err = relative(await gFast.grads[v.name].data(), await gPlain.grads[v.name].data());
              expect(err, `dL/d${symbol} (${what})`).to.be.below(1e-4);
            }
            tf.dispose([
              fast,
              plain,
              gFast.value,
              gPlain.value,
              ...Object.values(gFast.grads),
              ...Object.values(gPlain.grads),
            ]);
          }
        } finally {
          tf.dispose([x, someMasked, R]);
          cell.dispose();
        }
      });
    }
  });

  describe('a train step and a forward pass compile, upload and read nothing per time step (after warm-up; a forward uploads nothing)', () => {
    // Counted on the backend (bench/gpu-counters.ts) at T and 2T steps: what grows with T is
    // programs only (and no tensor is left behind). A shader key that varied with the step, a constant made per step, or a
    // read inside the loop would show here.
    const [batch, inputSize, units, time] = [4, 3, 8, 3];
    /** The costs of the 3rd train step and forward pass of a fresh network on `steps` steps. */
    const costs = async (cell: 'lstm' | 'gru', steps: number) => {
      const net = rt.network({ cell, inputSize, units, outputSize: 2, seed: 1 });
      const x = tf.randomNormal([batch, steps, inputSize], 0, 1, 'float32', 2) as tf.Tensor3D;
      const y = tf.randomNormal([batch, steps, 2], 0, 1, 'float32', 3) as tf.Tensor3D;
      const optimizer = tf.train.adam(0.01);
      const train = async () => {
        const loss = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(
            () => tf.losses.meanSquaredError(y, net.output(rt.unroll(net.cell, x).outputs)) as tf.Scalar,
            Object.values(net.params),
          );
          optimizer.applyGradients(grads as Record<string, tf.Variable>);
          return value;
        });
        await loss.data();
        loss.dispose();
      };
      const forward = async () => {
        const out = net.predict(x);
        await out.data();
        out.dispose();
      };
      try {
        for (const f of [train, train, forward, forward]) await f();
        const tensors = tf.memory().numTensors;
        const counted = { train: await countWebGpu(train), forward: await countWebGpu(forward) };
        tf.env().set('WEBGPU_CPU_FORWARD', false);
        const forwardNoHandoff = await forward() // x's first upload
          .then(() => countWebGpu(forward))
          .finally(() => tf.env().set('WEBGPU_CPU_FORWARD', true));
        expect(tf.memory().numTensors, `tensors left behind (T = ${steps})`).to.equal(tensors);
        return { ...counted, forwardNoHandoff };
      } finally {
        tf.dispose([x, y]);
        optimizer.dispose();
        net.dispose();
      }
    };
    // Programs per step: the whole-sequence kernel's one dispatch a step forward, and one back.
    const perStepAtMost = { train: 2, forward: 1 };
    for (const cell of ['lstm', 'gru'] as const) {
      it(`${cell}: no pipeline, upload or read grows with T; at most ${perStepAtMost.train} programs a step (${perStepAtMost.forward} forward)`, async function () {
        this.timeout(120_000);
        const [short, long] = [await costs(cell, time), await costs(cell, 2 * time)];
        for (const call of ['train', 'forward'] as const) {
          const [a, b]: WebGpuCounts[] = [short[call], long[call]];
          expect([a.pipelines, b.pipelines], `${call}: pipelines compiled at T, 2T`).to.deep.equal([0, 0]);
          expect(b.uploads, `${call}: uploads at 2T (at T: ${a.uploads})`).to.equal(a.uploads);
          // The forward makes its constants (first states, missing biases) on the GPU: tf.fill, not
          // tf.zeros. (tfjs hands small ops on CPU-held values to the CPU and uploads their results:
          // the test's 36 inputs go through that, so the count is taken with that hand-off off.)
          if (call === 'forward') expect(short.forwardNoHandoff.uploads, 'forward: uploads').to.equal(0);
          expect(b.buffersCreated, `${call}: buffers created at 2T (at T: ${a.buffersCreated})`).to.equal(
            a.buffersCreated,
          );
          expect([a.reads, b.reads], `${call}: reads at T, 2T`).to.deep.equal([1, 1]);
          const perStep = (b.programs - a.programs) / time;
          expect(perStep, `${call}: programs per time step`).to.be.at.most(perStepAtMost[call]);
        }
      });
    }
  });

  describe("rt.train's Adam gives tfjs's Adam to the bit and uploads none of its numbers", () => {
    // Two copies of a network, one updated by tfjs's Adam, one by ours, from the same gradients.
    const compare = async (update: (adam: tf.Optimizer, vars: tf.Variable[], grads: tf.Tensor[]) => void) => {
      const make = () => rt.network({ cell: 'lstm', inputSize: 3, units: 4, outputSize: 2, seed: 8 });
      const [theirs, ours] = [make(), make()];
      const [tfjsAdam, ourAdam] = [tf.train.adam(0.01), tf.train.adam(0.01)];
      const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 9);
      const gradsOf = (net: rt.RecurrentNetwork) =>
        tf.variableGrads(() => tf.sum(tf.square(net.predict(x))) as tf.Scalar, Object.values(net.params)).grads;
      const counts = { theirs: [] as WebGpuCounts[], ours: [] as WebGpuCounts[] };
      for (let step = 0; step < 5; step++) {
        const [g1, g2] = [gradsOf(theirs), gradsOf(ours)];
        const vars = Object.values(ours.params);
        counts.theirs.push(await countWebGpu(async () => tfjsAdam.applyGradients(g1 as Record<string, tf.Variable>)));
        const grads = vars.map((v) => g2[v.name]);
        counts.ours.push(await countWebGpu(async () => update(ourAdam, vars, grads)));
        tf.dispose([...Object.values(g1), ...Object.values(g2)]);
      }
      for (const [name, value] of Object.entries(theirs.params)) {
        const [a, b] = [await value.data(), await ours.params[name as keyof typeof ours.params].data()];
        expect(Array.from(b), name).to.deep.equal(Array.from(a));
      }
      // tfjs's makes a scalar of every number on every update (pinned: 6 per variable and 2 more).
      const variables = Object.keys(ours.params).length;
      const uploads = (c: WebGpuCounts[]) => c.slice(2).map((u) => u.uploads);
      expect(uploads(counts.theirs), "tfjs's uploads per update").to.deep.equal([0, 0, 0].map(() => 6 * variables + 2));
      tf.dispose(x);
      [tfjsAdam, ourAdam].forEach((o) => o.dispose());
      [theirs, ours].forEach((n) => n.dispose());
      return { variables, uploads: uploads(counts.ours), programs: counts.ours.map((c) => c.programs) };
    };

    it("in tfjs's ops with our scalars (src/train/adam-ops.ts, the path of other backends)", async () => {
      const constants = new AdamConstants();
      const { uploads } = await compare((optimizer, vars, grads) => {
        const adam = adamState(optimizer)!;
        makeMoments(adam, vars);
        adamInOps(adam, vars, grads, constants);
      });
      // Ours are made on the first update and each uploaded once, when a GPU program first reads it
      // (the first update's small ops on CPU-held scalars run on the CPU): none from the third on.
      expect(uploads, 'our uploads per update from the third').to.deep.equal([0, 0, 0]);
      constants.dispose();
    });

    it('in one dispatch per variable (src/train/adam-programs.ts, what applyGradients runs here)', async () => {
      const { variables, uploads, programs } = await compare((adam, vars, grads) => applyGradients(adam, vars, grads));
      expect(uploads, 'uploads per update from the third').to.deep.equal([0, 0, 0]);
      // x', m', v' of a variable in one, and accBeta1', accBeta2' in one (tfjs's: 14 per variable and 4 more).
      expect(programs.slice(1), 'programs per update').to.deep.equal([0, 0, 0, 0].map(() => variables + 1));
    });

    it('on a variable of more entries than 65535 workgroups take in a row (a second row of them)', async () => {
      const shape = [2049, 2048]; // 64 × 65535 = 4194240 entries in a row of workgroups
      const [theirs, ours] = [0, 1].map(() => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 3)));
      const g = tf.randomNormal(shape, 0, 1, 'float32', 4);
      const [tfjsAdam, ourAdam] = [tf.train.adam(0.01), tf.train.adam(0.01)];
      try {
        for (let step = 0; step < 2; step++) {
          tfjsAdam.applyGradients([{ name: theirs.name, tensor: g }]);
          applyGradients(ourAdam, [ours], [g]);
        }
        const [a, b] = [await theirs.data(), await ours.data()];
        let differ = 0;
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
        expect(differ, 'entries that differ').to.equal(0);
      } finally {
        tf.dispose([theirs, ours, g]);
        [tfjsAdam, ourAdam].forEach((o) => o.dispose());
      }
    });
  });

  describe('diagnostics: the async variants give the cpu numbers', () => {
    const [B, T, I, U, O] = [3, 6, 3, 5, 2];
    const example = async (cell: 'lstm' | 'elman' = 'lstm') => ({
      net: rt.network({ cell, inputSize: I, units: U, outputSize: O, seed: 4 }),
      x: tf.tensor3d(
        Array.from({ length: B * T * I }, (_, i) => Math.sin(i)),
        [B, T, I],
      ),
      y: tf.tensor3d(
        Array.from({ length: B * T * O }, (_, i) => Math.cos(i)),
        [B, T, O],
      ),
    });

    it('gradientNormsAsync equals gradientNorms on cpu (1e-5 relative); gradientNorms refuses here', async () => {
      const run = async (sync: boolean) => {
        const { net, x, y } = await example();
        try {
          return sync
            ? rt.diagnostics.gradientNorms(net, x, y, { loss: 'mse' })
            : await rt.diagnostics.gradientNormsAsync(net, x, y, { loss: 'mse' });
        } finally {
          tf.dispose([x, y]);
          net.dispose();
        }
      };
      const cpu = await on('cpu', () => run(true));
      const gpu = await run(false);
      expect(gpu.perStep).to.have.length(T);
      expect(relative(gpu.perStep, cpu.perStep), 'perStep').to.be.at.most(1e-5);
      expect(Object.keys(gpu.perParam)).to.deep.equal(Object.keys(cpu.perParam));
      expect(relative(Object.values(gpu.perParam), Object.values(cpu.perParam)), 'perParam').to.be.at.most(1e-5);
      expect((await thrown(() => run(true))).message).to.match(
        /diagnostics\.gradientNorms: .*'webgpu'.*use await rt\.diagnostics\.gradientNormsAsync\(model, x, y, options\) instead/,
      );
    });

    it('gradientCheckAsync passes here as on cpu, at the same entries; gradientCheck refuses here', async () => {
      const run = async (sync: boolean) => {
        const { net, x, y } = await example('elman'); // few parameters: each probe is a forward pass and a read
        const options = { loss: 'mse' as const, samples: 2 };
        try {
          return sync
            ? rt.diagnostics.gradientCheck(net, x, y, options)
            : await rt.diagnostics.gradientCheckAsync(net, x, y, options);
        } finally {
          tf.dispose([x, y]);
          net.dispose();
        }
      };
      const cpu = await on('cpu', () => run(true));
      const gpu = await run(false);
      expect(gpu.passed, `max relative error ${gpu.maxRelativeError}`).to.equal(true);
      expect(gpu.checked).to.equal(cpu.checked);
      expect(gpu.details.map((d) => [d.param, d.index])).to.deep.equal(cpu.details.map((d) => [d.param, d.index]));
      expect(
        relative(
          gpu.details.map((d) => d.analytic),
          cpu.details.map((d) => d.analytic),
        ),
        'analytic gradients',
      ).to.be.at.most(1e-5);
      expect((await thrown(() => run(true))).message).to.match(/gradientCheck: .*'webgpu'.*gradientCheckAsync/);
    });
  });
});

describe('webgpu in Node without the packages', () => {
  it('use("webgpu") says exactly what to install', function () {
    this.timeout(30_000);
    // A child process in which `webgpu` cannot be resolved (a resolve hook hides it).
    const hook =
      'data:text/javascript,export async function resolve(s, c, next) {' +
      " if (s === 'webgpu') throw new Error('Cannot find package webgpu'); return next(s, c); }";
    const script =
      "import { register } from 'node:module'; register(" +
      JSON.stringify(hook) +
      ");\nconst rt = await import('./src/index.ts');\n" +
      "await rt.backends.use('webgpu').then(() => console.log('started'), (e) => console.log(e.message));";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 25_000,
    });
    expect(r.stdout, r.stderr).to.contain('npm install webgpu @tensorflow/tfjs-backend-webgpu');
  });
});
