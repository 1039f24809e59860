// Stacked, bidirectional networks from PyTorch state dicts (rt.interop.fromPyTorchNetwork) against
// PyTorch float64 references (fixtures/pytorch-stacked, written by scripts/pytorch-stacked-fixtures.py):
// nn.LSTM / nn.GRU / nn.RNN with num_layers=2, bidirectional=True (with and without bias) under the
// name `rnn`, an nn.Linear head `fc`. Outputs and final states within 1e-5, every gradient
// (parameters and x) within 1e-4 of the reference's scale. The fixtures are regenerated with
// /usr/bin/python3 when it has torch and compared with the committed files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { expectAbsClose, expectRelClose } from './helpers/close.js';
import { firstDifference } from './helpers/first-difference.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIR = join(ROOT, 'fixtures', 'pytorch-stacked');
const SCRIPT = join(ROOT, 'scripts', 'pytorch-stacked-fixtures.py');
const PYTHON = '/usr/bin/python3';
const NAMES = ['lstm', 'gru', 'rnn-nobias', 'lstm-nobias'] as const;

type Nested = number[] | number[][];
interface StackedFixture {
  module: 'rnn' | 'lstm' | 'gru';
  nonlinearity: 'tanh' | 'relu' | null;
  shapes: { batch: number; time: number; input: number; hidden: number; output: number; layers: number };
  params: Record<string, Nested>;
  x: number[][][];
  h0: number[][][];
  c0?: number[][][];
  R: number[][][];
  S: number[][][];
  U?: number[][][];
  y: number[][][];
  outputs: number[][][];
  h_n: number[][][];
  c_n?: number[][][];
  loss_value: number;
  grads: Record<string, Nested>;
  grad_x: number[][][];
}

function load(name: string): StackedFixture {
  return JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as StackedFixture;
}

/** The fixture's h0 (and c0) as one state per cell, in PyTorch's order. */
function initialStates(f: StackedFixture): rt.State[] {
  return f.h0.map((h, k) => ({
    h: tf.tensor2d(h),
    ...(f.c0 ? { c: tf.tensor2d(f.c0[k]) } : {}),
  }));
}

/** The fixture's loss: sum(y*R) + sum(h_n*S) (+ sum(c_n*U)). */
function lossOf(f: StackedFixture, y: tf.Tensor, states: rt.State[]): tf.Scalar {
  let L = tf.add(tf.sum(tf.mul(y, tf.tensor(f.R))), tf.sum(tf.mul(tf.stack(states.map((s) => s.h)), tf.tensor(f.S))));
  if (f.U) L = tf.add(L, tf.sum(tf.mul(tf.stack(states.map((s) => s.c!)), tf.tensor(f.U))));
  return L as tf.Scalar;
}

/**
 * Our gradients in PyTorch's keys: toPyTorch of a network whose parameters are the gradients. A
 * folded bias b = b_ih + b_hh has the gradient of each of PyTorch's two, so PyTorch's bias_hh
 * gradient is our bias_ih one (the GRU's last block, b_hn, is our b_nh).
 */
function torchGradients(net: rt.RecurrentNetwork, grads: tf.NamedTensorMap, hidden: number) {
  const params = Object.fromEntries(
    Object.entries(net.params).map(([symbol, v]) => [symbol, tf.variable(grads[v.name], false)]),
  );
  try {
    const dict = rt.interop.toPyTorch({ config: net.config, params });
    for (const key of Object.keys(dict).filter((k) => k.includes('bias_hh'))) {
      const ih = dict[key.replace('bias_hh', 'bias_ih')] as number[];
      const hh = dict[key] as number[];
      dict[key] = net.config.cell.kind === 'gru' ? [...ih.slice(0, 2 * hidden), ...hh.slice(2 * hidden)] : ih;
    }
    return dict;
  } finally {
    tf.dispose(Object.values(params));
  }
}

describe('PyTorch stacked, bidirectional networks (fixtures/pytorch-stacked)', () => {
  for (const name of NAMES) {
    describe(name, () => {
      const f = load(name);
      const kind = f.module;

      it('fromPyTorchNetwork reads rnn.* and the fc head: 2 layers, bidirectional, biases as the dict has them', () => {
        const net = rt.interop.fromPyTorchNetwork(f.params, { kind });
        try {
          expect([net.layers, net.bidirectional, net.units, net.outputSize]).to.deep.equal([2, true, 4, 2]);
          expect(net.config.cell.useBias === false).to.equal(name.endsWith('nobias'));
          expect(Object.keys(net.params)).to.include.members(
            ['l0_reverse.W_hx', 'l1.W_hh', 'W_yh'].filter((k) => kind === 'rnn' || k === 'W_yh'),
          );
        } finally {
          net.dispose();
        }
      });

      it('matches y, the top layer outputs and the final states (1e-5), every gradient (1e-4)', () => {
        const before = tf.memory().numTensors;
        const net = rt.interop.fromPyTorchNetwork(f.params, { kind });
        const initial = initialStates(f);
        const x = tf.tensor3d(f.x);
        try {
          tf.tidy(() => {
            const { y, states } = net.apply(x, { initialState: initial });
            expectAbsClose(y, f.y, 1e-5, 'y');
            expectAbsClose(tf.stack(states.map((s) => s.h)), f.h_n, 1e-5, 'h_n');
            if (f.c_n) expectAbsClose(tf.stack(states.map((s) => s.c!)), f.c_n, 1e-5, 'c_n');
            expect(Math.abs(lossOf(f, y, states).dataSync()[0] - f.loss_value)).to.be.at.most(
              1e-4 * Math.abs(f.loss_value),
            );
            // The top layer's outputs [h→_t; h←_t]: the network without a head (y_t = h_t).
            const { 'fc.weight': _w, 'fc.bias': _b, ...rnnOnly } = f.params;
            const bare = rt.interop.fromPyTorchNetwork(rnnOnly, { kind, head: null });
            expectAbsClose(bare.apply(x, { initialState: initial }).y, f.outputs, 1e-5, 'outputs');
            bare.dispose();

            const { grads } = tf.variableGrads(() => {
              const r = net.apply(x, { initialState: initial });
              return lossOf(f, r.y, r.states);
            });
            const ours = torchGradients(net, grads, f.shapes.hidden);
            expect(Object.keys(ours).sort()).to.deep.equal(Object.keys(f.grads).sort());
            for (const [key, g] of Object.entries(f.grads)) expectRelClose(ours[key], g, 1e-4, `dL/d${key}`);
            const [gx] = tf.grads((xx: tf.Tensor) => {
              const r = net.apply(xx, { initialState: initial });
              return lossOf(f, r.y, r.states);
            })([x]);
            expectRelClose(gx, f.grad_x, 1e-4, 'dL/dx');
          });
        } finally {
          tf.dispose([x, ...initial.flatMap((s) => Object.values(s))]);
          net.dispose();
        }
        expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
      });

      it('toPyTorch(net) gives the same keys and shapes back, and fromPyTorchNetwork of it the same predictions', () => {
        const net = rt.interop.fromPyTorchNetwork(f.params, { kind });
        const x = tf.tensor3d(f.x);
        try {
          const dict = rt.interop.toPyTorch(net);
          expect(Object.keys(dict).sort()).to.deep.equal(Object.keys(f.params).sort());
          for (const [key, v] of Object.entries(f.params)) {
            expect(tf.tensor(dict[key]).shape, key).to.deep.equal(tf.tensor(v).shape);
          }
          // Weights are the same numbers (biases are folded, so only their sum is compared).
          for (const key of Object.keys(f.params).filter((k) => k.includes('weight'))) {
            expectAbsClose(dict[key], f.params[key], 1e-6, key);
          }
          const back = rt.interop.fromPyTorchNetwork(dict, { kind });
          expectAbsClose(back.predict(x), net.predict(x), 0, 'predictions after the round trip');
          back.dispose();
        } finally {
          x.dispose();
          net.dispose();
        }
      });
    });
  }

  it('the comparison notices a wrong reference', () => {
    const f = load('gru');
    const net = rt.interop.fromPyTorchNetwork(f.params, { kind: 'gru' });
    const initial = initialStates(f);
    try {
      const { y } = net.apply(tf.tensor3d(f.x), { initialState: initial });
      const wrong = structuredClone(f.y);
      wrong[1][2][0] += 1e-4;
      expect(() => expectAbsClose(y, wrong, 1e-5, 'y')).to.throw(/max \|difference\|/);
      y.dispose();
    } finally {
      tf.dispose(initial.flatMap((s) => Object.values(s)));
      net.dispose();
    }
  });
});

describe('PyTorch state dicts: nothing dropped, anything not understood named', () => {
  const f = load('lstm');
  /** nn.LSTM(3, 4, num_layers=2, bidirectional=True)'s own state dict: the fixture's rnn.* keys unprefixed. */
  const bare: rt.interop.StateDict = Object.fromEntries(
    Object.entries(f.params)
      .filter(([k]) => k.startsWith('rnn.'))
      .map(([k, v]) => [k.slice('rnn.'.length), v]),
  );
  const refused = (fn: () => unknown, message: RegExp) => {
    const before = tf.memory().numTensors;
    expect(fn).to.throw(message);
    expect(tf.memory().numTensors, 'tensors left behind by the refusal').to.equal(before);
  };

  it('fromPyTorch refuses a stacked or bidirectional dict (it used to keep layer 0 silently) and names the network function', () => {
    refused(
      () => rt.interop.fromPyTorch('lstm', bare),
      /fromPyTorch: the state dict holds more than one layer in one direction \(weight_ih_l0_reverse, .*weight_ih_l1.*\).*rt\.interop\.fromPyTorchNetwork\(stateDict, \{ kind \}\)/,
    );
    const layer0 = Object.fromEntries(Object.entries(bare).filter(([k]) => k.endsWith('_l0')));
    refused(
      () => rt.interop.fromPyTorch('lstm', { ...layer0, 'fc.weight': [[1, 2, 3, 4]] }),
      /holds more than one layer.*fc\.weight/,
    );
    refused(
      () =>
        rt.interop.fromPyTorch('lstm', Object.fromEntries(Object.entries(layer0).map(([k, v]) => [`lstm.${k}`, v]))),
      /holds more than one layer in one direction \(lstm\.weight_ih_l0, .*fromPyTorchNetwork/,
    );
    const cell = rt.interop.fromPyTorch('lstm', layer0);
    expect([cell.inputSize, cell.units]).to.deep.equal([3, 4]);
    cell.dispose();
    // bias=False: no bias keys, a cell without biases (and back without them).
    const weightsOnly = Object.fromEntries(Object.entries(layer0).filter(([k]) => k.startsWith('weight')));
    const plain = rt.interop.fromPyTorch('lstm', weightsOnly);
    expect(plain.config.useBias).to.equal(false);
    expect(Object.keys(rt.interop.toPyTorch(plain))).to.deep.equal(['weight_ih_l0', 'weight_hh_l0']);
    plain.dispose();
  });

  it('fromPyTorchNetwork: an nn.LSTM alone (no prefix, no head) gives y_t = [h→_t; h←_t], as torch outputs', () => {
    const net = rt.interop.fromPyTorchNetwork(bare, { kind: 'lstm' });
    const initial = initialStates(f);
    try {
      expect(net.outputSize).to.equal(8);
      tf.tidy(() => expectAbsClose(net.apply(tf.tensor3d(f.x), { initialState: initial }).y, f.outputs, 1e-5));
    } finally {
      tf.dispose(initial.flatMap((s) => Object.values(s)));
      net.dispose();
    }
  });

  it("kind 'rnn' takes nonlinearity (tanh by default); 'relu' computes relu", () => {
    const g = load('rnn-nobias');
    const tanh = rt.interop.fromPyTorchNetwork(g.params, { kind: 'rnn' });
    const relu = rt.interop.fromPyTorchNetwork(g.params, { kind: 'rnn', nonlinearity: 'relu' });
    try {
      expect(tanh.cells[1][1].config.activation).to.equal('tanh');
      expect(relu.cells[0][0].config.activation).to.equal('relu');
      expect(rt.interop.toPyTorch(relu)['rnn.weight_hh_l1_reverse']).to.deep.equal(
        rt.interop.toPyTorch(tanh)['rnn.weight_hh_l1_reverse'],
      );
    } finally {
      tanh.dispose();
      relu.dispose();
    }
    refused(
      () => rt.interop.fromPyTorchNetwork(g.params, { kind: 'gru', nonlinearity: 'relu' }),
      /nonlinearity applies to kind 'rnn' only/,
    );
  });

  for (const [what, dict, options, message] of [
    ['proj_size (weight_hr_l0)', { ...bare, weight_hr_l0: [[1]] }, {}, /weight_hr_l0: an LSTM with proj_size/],
    [
      'a key of no layer',
      { ...bare, weight_ih_l2: [[1]] },
      {},
      /state dict lacks weight_hh_l2, bias_ih_l2, bias_hh_l2/,
    ],
    [
      'a missing layer key',
      Object.fromEntries(Object.entries(bare).filter(([k]) => k !== 'bias_hh_l1_reverse')),
      {},
      /lacks bias_hh_l1_reverse/,
    ],
    [
      'an unknown key beside the module',
      { ...bare, 'fc.weight': f.params['fc.weight'], 'norm.running_mean': [0] },
      {},
      /keys not understood: norm\.running_mean/,
    ],
    [
      'two heads',
      { ...bare, 'a.weight': f.params['fc.weight'], 'b.weight': f.params['fc.weight'] },
      {},
      /several candidate Linear heads \(a\.weight, b\.weight\); pass head/,
    ],
    [
      'two modules',
      { ...bare, ...Object.fromEntries(Object.entries(bare).map(([k, v]) => [`x.${k}`, v])) },
      {},
      /several recurrent modules \(weight_ih_l0, x\.weight_ih_l0\); pass prefix/,
    ],
    [
      'a head of the wrong width',
      { ...bare, 'fc.weight': [[1, 2, 3, 4]] },
      {},
      /expected fc\.weight of shape \[out_features, 8\].*got \[1, 4\]/,
    ],
    ['a head asked for and absent', bare, { head: 'fc.' }, /no key fc\.weight \(head 'fc\.'\)/],
    ['a prefix asked for and absent', bare, { prefix: 'lstm.' }, /no key lstm\.weight_ih_l0/],
    [
      'a GRU read as an LSTM',
      load('gru').params,
      {},
      /fromPyTorchNetwork\('lstm'\): expected rnn\.weight_hh_l0 of shape \[4 \* hidden_size, hidden_size\], got \[12, 4\] \(3 gate block\(s\)/,
    ],
  ] as const) {
    it(`fromPyTorchNetwork refuses ${what}, naming the keys`, () => {
      refused(() => rt.interop.fromPyTorchNetwork(dict as rt.interop.StateDict, { kind: 'lstm', ...options }), message);
    });
  }

  it('toPyTorch refuses what nn.Linear cannot be: an output activation', () => {
    const net = rt.network({
      cell: 'lstm',
      inputSize: 1,
      units: 2,
      outputSize: 1,
      layers: 2,
      outputActivation: 'sigmoid',
      seed: 1,
    });
    try {
      refused(() => rt.interop.toPyTorch(net), /nn\.Linear is the output function with g linear; .*'sigmoid'/);
      expect(Object.keys(rt.interop.toPyTorch(net.cells[1][0]))).to.deep.equal([
        'weight_ih_l0',
        'weight_hh_l0',
        'bias_ih_l0',
        'bias_hh_l0',
      ]);
    } finally {
      net.dispose();
    }
  });
});

describe('fixtures/pytorch-stacked are what scripts/pytorch-stacked-fixtures.py writes', function () {
  this.timeout(120_000);
  let out = '';
  let skip: string | null = null;

  before(function () {
    const torch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
    if (torch.status !== 0) {
      skip = `${PYTHON} has no torch (apt-get install python3-torch, or bash scripts/ensure-system-deps.sh)`;
      return;
    }
    out = mkdtempSync(join(tmpdir(), 'tfjs-recurrent-stacked-'));
    const run = spawnSync(PYTHON, [SCRIPT, out], { encoding: 'utf8', timeout: 100_000 });
    if (run.status !== 0)
      throw new Error(`${PYTHON} ${SCRIPT} ${out} exited ${run.status}:\n${run.stdout}${run.stderr}`);
  });

  after(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  for (const name of NAMES) {
    it(`${name}.json: every number within 1e-12 of a fresh run, same keys and strings`, function () {
      if (skip) {
        console.log(`      skipped: ${skip}`);
        this.skip();
      }
      const fresh = JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')) as unknown;
      expect(firstDifference(load(name), fresh, 1e-12), `committed vs regenerated ${name}.json`).to.equal(null);
    });
  }
});
