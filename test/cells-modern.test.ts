// The modern cells (minGRU, minLSTM, LRU, IndRNN) against PyTorch float64 references written from
// the papers' equations (fixtures/pytorch-modern, scripts/pytorch-modern-fixtures.py), their scan
// (`fast`, the default: fused on cpu and wasm but for the LRU, test/scan-kernels.test.ts) against
// their step loop (`fast: false`), and the refusals.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { describeOnBackends } from './helpers/backends.js';
import { maxAbsDiff } from './helpers/close.js';
import { linearScanKernel } from '../src/fast/scan-kernel.js';
import { scanByPairs } from '../src/fast/scan.js';
import { spyOnScanKernel } from './helpers/kernel-spy.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = join(ROOT, 'fixtures', 'pytorch-modern');
const SCRIPT = join(ROOT, 'scripts', 'pytorch-modern-fixtures.py');
const NAMES = ['mingru', 'minlstm', 'lru', 'indrnn-relu', 'indrnn-linear'] as const;

type Nested = number | Nested[];
interface ModernFixture {
  cell: 'mingru' | 'minlstm' | 'lru' | 'indrnn';
  activation: string;
  shapes: { batch: number; time: number; input: number; hidden: number };
  params: Record<string, Nested>;
  x: Nested;
  h0: Nested;
  c0?: Nested;
  R: Nested;
  S: Nested;
  U?: Nested;
  outputs: Nested;
  h_T: Nested;
  c_T?: Nested;
  grads: Record<string, Nested>;
  grad_x: Nested;
  grad_h0: Nested;
  grad_c0?: Nested;
}

const load = (name: string) => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as ModernFixture;
const tensor = (v: Nested) => tf.tensor(v as number[]);
const variable = (v: Nested) => tf.tidy(() => tf.variable(tensor(v)));

function cellOf(f: ModernFixture): rt.Cell {
  const params = Object.fromEntries(Object.entries(f.params).map(([k, v]) => [k, variable(v)]));
  const { input: inputSize, hidden: units } = f.shapes;
  return rt.cells.createCell({ kind: f.cell, inputSize, units, activation: f.activation }, { params });
}

/** Outputs, final state and the gradients of the fixture's loss (keys: the symbols, x, h0, c0), on one path. */
function run(cell: rt.Cell, f: ModernFixture, fast: boolean) {
  const inputs: Record<string, tf.Variable> = { x: variable(f.x), h0: variable(f.h0) };
  if (f.c0) inputs.c0 = variable(f.c0);
  const out = tf.tidy(() => {
    let result: rt.UnrollResult | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const initialState = { h: inputs.h0 as tf.Tensor2D, ...(f.c0 ? { c: inputs.c0 as tf.Tensor2D } : {}) };
      result = rt.unroll(cell, inputs.x, { initialState, fast });
      [result.outputs, result.state.h, result.state.c].forEach((t) => t && tf.keep(t));
      const L = tf.add(tf.sum(tf.mul(result.outputs, tensor(f.R))), tf.sum(tf.mul(result.state.h, tensor(f.S))));
      return (f.U ? tf.add(L, tf.sum(tf.mul(result.state.c!, tensor(f.U)))) : L) as tf.Scalar;
    }, [...Object.values(cell.params), ...Object.values(inputs)]);
    const byName: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(cell.params)) byName[k] = grads[v.name];
    for (const [k, v] of Object.entries(inputs)) byName[k] = grads[v.name] ?? tf.zerosLike(v);
    return { value, outputs: result!.outputs, h: result!.state.h, c: result!.state.c, grads: byName };
  });
  tf.dispose(Object.values(inputs));
  return out;
}

const disposeRun = (r: ReturnType<typeof run>) => tf.dispose([r.value, r.outputs, r.h, r.c, ...Object.values(r.grads)]);

describeOnBackends('modern cells match PyTorch float64 references', ['cpu', 'wasm'], (backend) => {
  for (const name of NAMES) {
    // The step loop; the scan (fused for all but the LRU, src/fast/wasm/scan-kernel.ts); the scan in
    // tf ops for the fused ones that have it (IndRNN with ReLU has none: it otherwise loops).
    for (const path of ['step loop', 'scan', 'scan in tf ops'] as const) {
      if ((name === 'lru' || name === 'indrnn-relu') && path === 'scan in tf ops') continue;
      it(`${name} (${path}): outputs and state to 1e-5, gradients to 1e-4`, () => {
        const f = load(name);
        const cell = cellOf(f);
        const before = tf.memory().numTensors;
        const spy = spyOnScanKernel(backend, path === 'scan in tf ops');
        const r = run(cell, f, path !== 'step loop');
        spy.restore();
        expect(spy.runs() > 0, 'the fused scan ran').to.equal(path === 'scan' && name !== 'lru');
        expect(maxAbsDiff(r.outputs, f.outputs as number[][][]), 'outputs').to.be.below(1e-5);
        expect(maxAbsDiff(r.h, f.h_T as number[][]), 'h_T').to.be.below(1e-5);
        if (f.c_T) expect(maxAbsDiff(r.c!, f.c_T as number[][]), 'c_T').to.be.below(1e-5);
        for (const [k, g] of Object.entries(f.grads)) {
          expect(maxAbsDiff(r.grads[k], g as number[]), `dL/d${k}`).to.be.below(1e-4);
        }
        expect(maxAbsDiff(r.grads.x, f.grad_x as number[]), 'dL/dx').to.be.below(1e-4);
        expect(maxAbsDiff(r.grads.h0, f.grad_h0 as number[]), 'dL/dh0').to.be.below(1e-4);
        if (f.grad_c0) expect(maxAbsDiff(r.grads.c0, f.grad_c0 as number[]), 'dL/dc0').to.be.below(1e-4);
        disposeRun(r);
        expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
        cell.dispose();
      });
    }
  }
});

/** Random cells of each kind that runs as a scan (IndRNN: with σ the identity). */
const SCANNED: [string, (o: { inputSize: number; units: number; seed: number }) => rt.Cell][] = [
  ['mingru', (o) => rt.cells.mingru(o)],
  ['minlstm', (o) => rt.cells.minlstm(o)],
  ['lru', (o) => rt.cells.lru(o)],
  ['indrnn (linear)', (o) => rt.cells.indrnn({ ...o, activation: 'linear' })],
];

/** Outputs, last state and the gradient of a fixed loss with respect to the parameters and x. */
function outputsAndGrads(cell: rt.Cell, x: tf.Tensor3D, options: rt.UnrollOptions) {
  const xv = tf.variable(x);
  const out = tf.tidy(() => {
    let kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const { outputs, state } = rt.unroll(cell, xv, options);
      kept = [outputs, state.h, ...(state.c ? [state.c] : [])].map((t) => tf.keep(t));
      const weights = tf.sin(tf.range(0, outputs.size).reshape(outputs.shape));
      return tf.add(tf.sum(tf.mul(outputs, weights)), tf.sum(tf.square(state.h))) as tf.Scalar;
    }, [...Object.values(cell.params), xv]);
    value.dispose(); // a sum of many terms: its rounding is the outputs' and gradients', compared one by one
    return [...kept, ...Object.values(grads)];
  });
  xv.dispose();
  return out;
}

describeOnBackends('modern cells: the scan equals the step loop', ['cpu', 'wasm'], () => {
  for (const [name, make] of SCANNED) {
    it(`${name}: outputs and gradients equal (1e-5) with a mask, reversed, over 40 steps`, () => {
      const cell = make({ inputSize: 3, units: 6, seed: 5 });
      const before = tf.memory().numTensors;
      const [batch, time] = [4, 40];
      const x = tf.randomNormal([batch, time, 3], 0, 1, 'float32', 9) as tf.Tensor3D;
      // Row 1 padded at the end, row 2 at the start, row 3 in the middle.
      const mask = tf.tensor2d(
        Array.from({ length: batch }, (_, b) =>
          Array.from({ length: time }, (_, t) =>
            (b === 1 ? t < 30 : b === 2 ? t >= 5 : b === 3 ? t % 7 !== 3 : true) ? 1 : 0,
          ),
        ),
      );
      for (const options of [{}, { mask }, { mask, reverse: true }, { reverse: true }] as rt.UnrollOptions[]) {
        const plain = outputsAndGrads(cell, x, { ...options, fast: false });
        const scanned = outputsAndGrads(cell, x, options);
        plain.forEach((t, i) => {
          const scale = Math.max(1, ...(t.dataSync() as Float32Array).map(Math.abs));
          expect(maxAbsDiff(scanned[i], t) / scale, `result ${i} with ${Object.keys(options).join(', ')}`).to.be.below(
            1e-5,
          );
        });
        tf.dispose([...plain, ...scanned]);
      }
      tf.dispose([x, mask]);
      expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
      cell.dispose();
    });
  }
});

describeOnBackends('the scan kernel (cpu, wasm) and the scan by pairs (tf ops, every backend)', ['cpu', 'wasm'], () => {
  it('agree on s_t = a_t ⊙ s_{t-1} + b_t and its gradients (real and complex, a shared or per row)', () => {
    for (const complex of [false, true]) {
      for (const [rows, T] of [
        [1, 1],
        [1, 6],
        [3, 7],
      ]) {
        const before = tf.memory().numTensors;
        const [a, b, w] = [
          [T, rows, 4],
          [T, 3, 4],
          [T, 3, 4],
        ].map((shape, i) => tf.randomUniform(shape, -1, 1, 'float32', i + 1));
        const s0 = tf.randomUniform([3, 4], -1, 1, 'float32', 9);
        const withGrads = (scan: (a: tf.Tensor, b: tf.Tensor, s0: tf.Tensor) => tf.Tensor) =>
          tf.tidy(() => {
            const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, s0: tf.Tensor) =>
              tf.sum(tf.mul(scan(a, b, s0), w)),
            )([a, b, s0]);
            return [value, ...grads, scan(a, b, s0)];
          });
        const kernel = withGrads((a, b, s0) => linearScanKernel(a, b, s0, complex)!);
        const pairs = withGrads((a, b, s0) => scanByPairs({ complex }, a, b, s0));
        kernel.forEach((t, i) =>
          expect(maxAbsDiff(t, pairs[i]), `${complex ? 'complex' : 'real'} T=${T} result ${i}`).to.be.below(1e-5),
        );
        tf.dispose([a, b, w, s0, ...kernel, ...pairs]);
        expect(tf.memory().numTensors).to.equal(before);
      }
    }
  });
});

describe('modern cells: the scan takes O(log T) rounds of kernels, the loop O(T)', () => {
  for (const [name, make] of SCANNED) {
    it(`${name}: from 256 to 512 steps the scan adds a few rounds of kernels, the loop doubles`, async () => {
      const cell = make({ inputSize: 3, units: 4, seed: 1 });
      const kernels = async (time: number, fast: boolean) => {
        const x = tf.randomNormal([2, time, 3]);
        const info = await tf.profile(() => {
          const { outputs, state } = rt.unroll(cell, x, { fast });
          tf.dispose([outputs, state.h, state.c]);
        });
        x.dispose();
        return info.kernels.length;
      };
      const scanned = [await kernels(256, true), await kernels(512, true)];
      const looped = [await kernels(256, false), await kernels(512, false)];
      expect(scanned[1] / scanned[0], `scan: ${scanned.join(' -> ')} kernels`).to.be.below(1.2);
      expect(looped[1] / looped[0], `loop: ${looped.join(' -> ')} kernels`).to.be.above(1.9);
      expect(scanned[1], `scan ${scanned[1]} vs loop ${looped[1]} kernels at 512 steps`).to.be.below(looped[1] / 2);
      cell.dispose();
    });
  }
});

describe('modern cells: equations, parameters, refusals', () => {
  it("publish their equations in LaTeX and name parameters by the papers' symbols", () => {
    const cases: [rt.Cell, string, string[]][] = [
      [rt.cells.mingru({ inputSize: 3, units: 4 }), rt.cells.MINGRU_EQUATIONS, ['W_zx', 'b_z', 'W_hx', 'b_h']],
      [
        rt.cells.minlstm({ inputSize: 3, units: 4 }),
        rt.cells.MINLSTM_EQUATIONS,
        ['W_fx', 'b_f', 'W_ix', 'b_i', 'W_hx', 'b_h'],
      ],
      [rt.cells.indrnn({ inputSize: 3, units: 4 }), rt.cells.INDRNN_EQUATIONS, ['W_hx', 'b_h', 'u_h']],
      [
        rt.cells.lru({ inputSize: 3, units: 4 }),
        rt.cells.LRU_EQUATIONS,
        ['nu_log', 'theta_log', 'gamma_log', 'B_re', 'B_im', 'C_re', 'C_im', 'D'],
      ],
    ];
    for (const [cell, latex, symbols] of cases) {
      expect(cell.equations).to.equal(latex);
      expect(Object.keys(cell.params)).to.have.members(symbols);
      cell.dispose();
    }
    expect(rt.cells.MINGRU_EQUATIONS).to.contain('(1 - z_t) \\odot h_{t-1} + z_t \\odot \\tilde h_t');
    expect(rt.cells.LRU_EQUATIONS).to.contain('\\exp\\left(-\\exp(\\nu_{\\log}) + i \\exp(\\theta_{\\log})\\right)');
  });

  it('the LRU starts with |λ| in [0.9, 0.999] and γ = sqrt(1 - |λ|²); IndRNN with u_h in [0, 1)', () => {
    const cell = rt.cells.lru({ inputSize: 2, units: 64, seed: 3 });
    const nu = cell.params.nu_log.dataSync();
    const gamma = cell.params.gamma_log.dataSync();
    nu.forEach((v, j) => {
      const r = Math.exp(-Math.exp(v));
      expect(r).to.be.within(0.9 - 1e-6, 0.999 + 1e-6);
      expect(Math.exp(gamma[j])).to.be.closeTo(Math.sqrt(1 - r * r), 1e-4);
    });
    cell.dispose();
    const ind = rt.cells.indrnn({ inputSize: 2, units: 64, seed: 3 });
    for (const u of ind.params.u_h.dataSync()) expect(u).to.be.within(0, 1);
    ind.dispose();
  });

  it('refuses what they cannot honour, saying what was expected', () => {
    expect(() => rt.cells.lru({ inputSize: 2, units: 5 })).to.throw(/cells\.lru: expected units to be even.*got 5/);
    expect(() => rt.cells.createCell({ kind: 'lru', inputSize: 2, units: 4, activation: 'tanh' })).to.throw(
      /lru has no activation.*"tanh"/,
    );
    expect(() => rt.cells.mingru({ inputSize: 2, units: 4, resetAfter: true } as never)).to.throw(/resetAfter/);
    const cell = rt.cells.mingru({ inputSize: 2, units: 4 });
    const x = tf.zeros([1, 3, 2]);
    expect(() => rt.unroll(cell, x, { recurrentMask: tf.ones([1, 4]) } as rt.UnrollOptions)).to.throw(
      /recurrent dropout .* mingru cell has none/,
    );
    const [x_t, m] = [tf.zeros([1, 2]) as tf.Tensor2D, tf.ones([1, 4]) as tf.Tensor2D];
    const state = cell.initialState(1);
    expect(() => cell.step(x_t, state, { recurrentMask: m })).to.throw(
      /cells\.mingru: recurrent dropout .* mingru cell has none/,
    );
    tf.dispose([x, x_t, m, state.h]);
    expect(() => rt.interop.toKeras(cell)).to.throw(/toKeras: Keras has no mingru layer/);
    expect(() => rt.interop.toPyTorch(cell)).to.throw(/PyTorch has no .*mingru/);
    cell.dispose();
    const net = rt.network({ cell: 'minlstm', inputSize: 2, units: 3, outputSize: 1 });
    const [xs, ys] = [tf.ones([2, 3, 2]), tf.ones([2, 3, 1])];
    expect(() => rt.diagnostics.manualBPTT(net, xs, ys, { loss: 'mse' })).to.throw(
      /no hand-derived backward pass for a minlstm cell/,
    );
    tf.dispose([xs, ys]);
    net.dispose();
  });
});

describe('fixtures/pytorch-modern are what scripts/pytorch-modern-fixtures.py writes', function () {
  this.timeout(120_000);
  it('every number within 1e-12, with the same keys, shapes and strings', () => {
    const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
    expect(
      torch.status,
      `/usr/bin/python3 cannot import torch (apt-get install python3-torch): ${torch.stderr}`,
    ).to.equal(0);
    const out = mkdtempSync(join(tmpdir(), 'tfjs-recurrent-modern-'));
    try {
      const run = spawnSync('/usr/bin/python3', [SCRIPT, out], { encoding: 'utf8', timeout: 100_000 });
      expect(run.status, `${SCRIPT} failed: ${run.stdout}${run.stderr}`).to.equal(0);
      for (const name of NAMES) {
        const [ours, fresh] = [FIXTURES, out].map((dir) =>
          leaves(JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'))),
        );
        expect([...fresh.keys()], `${name}: paths`).to.deep.equal([...ours.keys()]);
        for (const [path, value] of ours) {
          const again = fresh.get(path);
          if (typeof value === 'number')
            expect(Math.abs(value - (again as number)), `${name} ${path}`).to.be.at.most(1e-12);
          else expect(again, `${name} ${path}`).to.equal(value);
        }
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/** Every scalar of a JSON value by its path (`$.params.W_zx[0][1]`), in order. */
function leaves(v: unknown, path = '$', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(v)) v.forEach((e, i) => leaves(e, `${path}[${i}]`, out));
  else if (v !== null && typeof v === 'object') for (const [k, e] of Object.entries(v)) leaves(e, `${path}.${k}`, out);
  else out.set(path, v);
  return out;
}

const KINDS = ['mingru', 'minlstm', 'lru', 'indrnn'] as const;

/** A small regression task: y_t the running sum of x_t's first feature, scaled. */
function task(seed: number) {
  const x = tf.randomUniform([16, 8, 2], -1, 1, 'float32', seed) as tf.Tensor3D;
  const y = tf.tidy(() => tf.cumsum(x.slice([0, 0, 0], [16, 8, 1]), 1).div(4));
  return { x, y };
}

/** What `net.save` writes, caught in memory. */
async function saved(save: (h: tf.io.IOHandler) => Promise<unknown>): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return artifacts!;
}

describe('modern cells work where the other cells do', () => {
  for (const kind of KINDS) {
    it(`${kind}: rt.network trains (full and truncated BPTT), saves and loads, passes diagnostics`, async () => {
      const data = task(3);
      for (const bptt of ['full', { truncate: 4 }] as const) {
        const net = rt.network({ cell: kind, inputSize: 2, units: 4, outputSize: 1, seed: 11 });
        const { history } = await rt.train(net, data, {
          loss: 'mse',
          target: 'everyStep',
          epochs: 15,
          batchSize: 8,
          learningRate: 0.02,
          seed: 1,
          bptt,
          progress: false,
        });
        const loss = history.loss as number[];
        expect(loss[loss.length - 1], `${JSON.stringify(bptt)}: ${loss.join(', ')}`).to.be.below(loss[0] * 0.8);
        net.dispose();
      }
      const net = rt.network({ cell: kind, inputSize: 2, units: 4, outputSize: 1, seed: 11 });
      const back = await rt.loadNetwork(tf.io.fromMemory(await saved((h) => net.save(h))));
      expect(back.cell.kind).to.equal(kind);
      const [a, b] = [net.predict(data.x), back.predict(data.x)];
      expect(maxAbsDiff(a, b), 'predictions after loading').to.equal(0);
      const { perStep } = rt.diagnostics.gradientNorms(net, data.x, data.y, { loss: 'mse' });
      expect(perStep).to.have.length(8);
      perStep.forEach((n) => expect(n).to.be.finite.and.above(0));
      // Finite differences across ReLU's kink are meaningless: IndRNN is checked with σ = tanh.
      const smooth =
        kind === 'indrnn'
          ? rt.network({ cell: kind, inputSize: 2, units: 4, outputSize: 1, activation: 'tanh', seed: 11 })
          : net;
      const check = rt.diagnostics.gradientCheck(smooth, data.x, data.y, { loss: 'mse', target: 'everyStep' });
      expect(check.passed, `max relative error ${check.maxRelativeError}`).to.equal(true);
      if (smooth !== net) smooth.dispose();
      tf.dispose([a, b, data.x, data.y]);
      net.dispose();
      back.dispose();
    });

    it(`${kind}: rt.layers.${kind} trains in tf.sequential, saves and loads with tf.loadLayersModel`, async () => {
      const data = task(4);
      const layer = rt.layers[kind]({ units: 4, returnSequences: true, inputShape: [null, 2], seed: 2 });
      const model = tf.sequential({ layers: [layer, rt.layers.output({ units: 1 })] });
      model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
      const h = await model.fit(data.x, data.y, { epochs: 10, batchSize: 8, verbose: 0 });
      const loss = h.history.loss as number[];
      expect(loss[loss.length - 1]).to.be.below(loss[0]);
      const back = await tf.loadLayersModel(tf.io.fromMemory(await saved((s) => model.save(s))));
      const [a, b] = [model.predict(data.x) as tf.Tensor, back.predict(data.x) as tf.Tensor];
      expect(maxAbsDiff(a, b), 'predictions after loading').to.equal(0);
      expect(back.layers[0].getClassName()).to.equal(layer.getClassName());
      tf.dispose([a, b, data.x, data.y]);
      model.dispose();
      back.dispose();
    });
  }

  it("an LRU layer's returnState gives h and c; IndRNN refuses a recurrentActivation", () => {
    const layer = rt.layers.lru({ units: 4, returnState: true });
    const x = tf.ones([2, 3, 2]);
    const out = layer.apply(x) as tf.Tensor[];
    expect(out.map((t) => t.shape)).to.deep.equal([
      [2, 4],
      [2, 4],
      [2, 4],
    ]);
    tf.dispose([x, ...out]);
    layer.dispose();
    expect(() => rt.layers.indrnn({ units: 4, recurrentActivation: 'sigmoid' } as never)).to.throw(
      /recurrentActivation/,
    );
    expect(() =>
      rt.network({ cell: 'lru', inputSize: 2, units: 4, outputSize: 1, recurrentActivation: 'sigmoid' }),
    ).to.throw(/lru cell has no gates, so no recurrentActivation/);
  });
});
