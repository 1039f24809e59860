// Every public entry point refuses bad input with an error that names what was expected and what
// came, before any tensor work (no deep tfjs trace, no silent NaN, no tensor left behind).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { cases } from './helpers/refusals.js';

// Shared, long-lived fixtures (disposed after all tests).
const elman = rt.cells.elman({ inputSize: 2, units: 3, seed: 1 });
const lstm = rt.cells.lstm({ inputSize: 2, units: 3, seed: 1 });
const net = rt.network({ cell: 'lstm', inputSize: 3, units: 4, outputSize: 2, seed: 1 });
const x = tf.randomNormal([4, 5, 3], 0, 1, 'float32', 1);
const y = tf.zeros([4, 5, 2]);
const x2 = tf.zeros([2, 2]);
after(() => {
  tf.dispose([x, y, x2]);
  elman.dispose();
  lstm.dispose();
  net.dispose();
});

describe('validation: cells', () => {
  cases([
    [
      'inputSize: 0',
      () => rt.cells.elman({ inputSize: 0, units: 2 }),
      /cells\.elman: expected inputSize to be a positive integer, got 0/,
    ],
    [
      'units: -1',
      () => rt.cells.lstm({ inputSize: 2, units: -1 }),
      /cells\.lstm: expected units to be a positive integer, got -1/,
    ],
    [
      'inputSize: 2.5',
      () => rt.cells.gru({ inputSize: 2.5, units: 2 }),
      /cells\.gru: expected inputSize to be a positive integer, got 2\.5/,
    ],
    [
      'units: "3"',
      () => rt.cells.gru({ inputSize: 2, units: '3' as never }),
      /expected units to be a positive integer, got "3"/,
    ],
    [
      'no options',
      () => rt.cells.elman(undefined as never),
      /cells\.elman: expected an options object \{ inputSize, units, \.\.\. \}, got undefined/,
    ],
    [
      'a misspelt option',
      () => rt.cells.elman({ inputSize: 2, units: 2, unit: 3 } as never),
      /cells\.elman: unknown option 'unit'; expected one of inputSize, units/,
    ],
    [
      'an unknown activation',
      () => rt.cells.elman({ inputSize: 2, units: 2, activation: 'bogus' }),
      /Unknown activation "bogus": expected one of tanh, relu, .*registerActivation/,
    ],
    [
      'an unknown gate activation',
      () => rt.cells.lstm({ inputSize: 2, units: 2, recurrentActivation: 'nope' }),
      /Unknown activation "nope"/,
    ],
    [
      'resetAfter: "yes"',
      () => rt.cells.gru({ inputSize: 2, units: 2, resetAfter: 'yes' as never }),
      /cells\.gru: expected resetAfter to be true or false, got "yes"/,
    ],
    [
      'seed: NaN',
      () => rt.cells.elman({ inputSize: 2, units: 2, seed: Number.NaN }),
      /expected seed to be a finite number, got NaN/,
    ],
    [
      'absurd units (refused before allocating)',
      () => rt.cells.lstm({ inputSize: 2, units: 1e9 }),
      /cells\.lstm: 1000000000 units with inputSize 2 make \d+ parameters, more than the 268435456/,
    ],
    [
      'step: wrong feature size',
      (T) => elman.step(T.zeros([2, 3]) as tf.Tensor2D, T.keep(elman.initialState(2))),
      /cells\.elman\.step: expected x_t of shape \[batch, 2\], got \[2, 3\]/,
    ],
    [
      'step: rank-3 x_t',
      (T) => elman.step(T.zeros([2, 1, 2]) as never, T.keep(elman.initialState(2))),
      /expected x_t of shape \[batch, 2\], got \[2, 1, 2\]/,
    ],
    [
      'step: a plain array',
      (T) => elman.step([[1, 2]] as never, T.keep(elman.initialState(1))),
      /expected x_t to be a tf\.Tensor of shape \[batch, 2\], got an array \(wrap it with tf\.tensor\)/,
    ],
    [
      'step: wrong state shape',
      (T) => elman.step(x2 as tf.Tensor2D, { h: T.zeros([2, 5]) as tf.Tensor2D }),
      /expected state\.h of shape \[2, 3\], got \[2, 5\]/,
    ],
    [
      'step: state batch differs from x_t',
      (T) => elman.step(x2 as tf.Tensor2D, { h: T.zeros([1, 3]) as tf.Tensor2D }),
      /expected state\.h of shape \[2, 3\], got \[1, 3\]/,
    ],
    [
      'step: LSTM state without c',
      (T) => lstm.step(x2 as tf.Tensor2D, { h: T.zeros([2, 3]) as tf.Tensor2D }),
      /expected state\.c to be a tf\.Tensor of shape \[2, 3\], got undefined/,
    ],
    [
      'step: no state',
      () => elman.step(x2 as tf.Tensor2D, null as never),
      /cells\.elman\.step: expected state \{ h \}, got null/,
    ],
    [
      'step: a disposed input',
      (T) => {
        const d = T.zeros([1, 2]);
        d.dispose();
        return elman.step(d as tf.Tensor2D, T.keep(elman.initialState(1)));
      },
      /x_t has been disposed/,
    ],
    ['initialState(0)', (T) => T.keep(elman.initialState(0)), /expected batch to be a positive integer, got 0/],
  ]);
});

describe('validation: unroll', () => {
  cases([
    [
      'wrong feature size',
      (T) => rt.unroll(elman, T.zeros([2, 5, 7])),
      /unroll: expected x of shape \[batch, time, 2\], got \[2, 5, 7\]/,
    ],
    [
      'rank-2 input',
      (T) => rt.unroll(elman, T.zeros([5, 2])),
      /unroll: expected x of shape \[batch, time, 2\], got \[5, 2\]/,
    ],
    [
      'no time steps',
      (T) => rt.unroll(elman, T.zeros([2, 0, 2])),
      /unroll: expected x with at least one time step, got time = 0/,
    ],
    [
      'not a tensor',
      () => rt.unroll(elman, [[[1, 2]]] as never),
      /unroll: expected x to be a tf\.Tensor .*got an array/,
    ],
    ['not a cell', (T) => rt.unroll({} as never, T.zeros([1, 1, 2])), /unroll: expected cell to be a Cell/],
    [
      'wrong mask shape',
      (T) => rt.unroll(elman, T.zeros([2, 5, 2]), { mask: T.ones([2, 4]) }),
      /unroll: expected mask of shape \[2, 5\], got \[2, 4\]/,
    ],
    [
      'mask not a tensor',
      (T) => rt.unroll(elman, T.zeros([2, 5, 2]), { mask: [[1]] as never }),
      /unroll: expected mask to be a tf\.Tensor of shape \[2, 5\], got an array/,
    ],
    [
      'wrong initial state',
      (T) =>
        rt.unroll(lstm, T.zeros([2, 5, 2]), {
          initialState: { h: T.zeros([2, 3]) as tf.Tensor2D, c: T.zeros([2, 4]) as tf.Tensor2D },
        }),
      /unroll: expected state\.c of shape \[2, 3\], got \[2, 4\]/,
    ],
    [
      'a misspelt option',
      (T) => rt.unroll(elman, T.zeros([1, 1, 2]), { reversed: true } as never),
      /unroll: unknown option 'reversed'/,
    ],
    [
      'reverse: "yes"',
      (T) => rt.unroll(elman, T.zeros([1, 1, 2]), { reverse: 'yes' as never }),
      /unroll: expected reverse to be true or false, got "yes"/,
    ],
  ]);
});

describe('validation: network', () => {
  const base = { cell: 'elman' as const, inputSize: 3, units: 2, outputSize: 1 };
  cases([
    [
      'inputSize: 0',
      () => rt.network({ ...base, inputSize: 0 }),
      /network: expected inputSize to be a positive integer, got 0/,
    ],
    [
      'no outputSize',
      () => rt.network({ ...base, outputSize: undefined as never }),
      /network: expected outputSize to be a positive integer, got undefined/,
    ],
    [
      'an unknown cell kind',
      () => rt.network({ ...base, cell: 'transformer' as never }),
      /network: expected cell to be one of 'elman', 'lstm', 'gru', .*got "transformer"/,
    ],
    ['an unknown activation', () => rt.network({ ...base, activation: 'bogus' }), /Unknown activation "bogus"/],
    [
      'an unknown output activation',
      () => rt.network({ ...base, outputActivation: 'bogus' }),
      /Unknown activation "bogus"/,
    ],
    ['a misspelt option', () => rt.network({ ...base, output: 2 } as never), /network: unknown option 'output'/],
    [
      'predict: wrong feature size',
      (T) => net.predict(T.zeros([2, 5, 7])),
      /net\.apply: expected x of shape \[batch, time, 3\], got \[2, 5, 7\]/,
    ],
    [
      'predict: rank-2 input',
      (T) => net.predict(T.zeros([5, 3])),
      /expected x of shape \[batch, time, 3\], got \[5, 3\]/,
    ],
    [
      'predict: not a tensor',
      () => net.predict('x' as never),
      /expected x to be a tf\.Tensor of shape \[batch, time, 3\], got string "x"/,
    ],
    [
      'apply: wrong initial state',
      (T) => net.apply(x, { initialState: { h: T.zeros([4, 4]) as tf.Tensor2D } }),
      /expected state\.c to be a tf\.Tensor of shape \[4, 4\], got undefined/,
    ],
    [
      'save: neither a URL nor a handler',
      () => net.save(42 as never),
      /save: expected a URL string or a tf\.io handler, got 42/,
    ],
    [
      'loadNetwork: neither a URL nor a handler',
      () => rt.loadNetwork(null as never),
      /load: expected a URL string or a tf\.io handler, got null/,
    ],
  ]);
});

describe('validation: layers', () => {
  cases([
    ['units: 0', () => rt.layers.lstm({ units: 0 }), /units.*positive integer.*got 0/],
    ['an unknown activation', () => rt.layers.elman({ units: 2, activation: 'bogus' }), /Unknown activation "bogus"/],
    ['resetAfter: 1', () => rt.layers.gru({ units: 2, resetAfter: 1 as never }), /resetAfter.*true or false.*got 1/],
    ['output units: -2', () => rt.layers.output({ units: -2 }), /units.*positive integer.*got -2/],
    [
      'rank-2 input',
      () => tf.sequential({ layers: [rt.layers.elman({ units: 2, inputShape: [3] })] }),
      /expected .*\[batch, time, features\].*got \[null, 3\]|ndim=3.*found ndim=2/,
    ],
    [
      'wrong feature size at predict',
      (T) => {
        const model = tf.sequential({ layers: [rt.layers.elman({ units: 2, inputShape: [null, 3] })] });
        try {
          return model.predict(T.zeros([2, 5, 7]));
        } finally {
          model.dispose();
        }
      },
      /expected .*shape \[null,null,3\] but got array with shape \[2,5,7\]/,
    ],
  ]);
});

describe('validation: train', () => {
  const opts = { loss: 'mse' as const, progress: false };
  cases([
    [
      'wrong feature size',
      (T) => rt.train(net, { x: T.zeros([4, 5, 7]), y }, opts),
      /expected x of shape \[batch, time, 3\], got \[4, 5, 7\]/,
    ],
    [
      'rank-2 input',
      (T) => rt.train(net, { x: T.zeros([4, 3]), y }, opts),
      /expected x of shape \[batch, time, 3\], got \[4, 3\]/,
    ],
    [
      'NaN in x',
      (T) => rt.train(net, { x: T.fill([4, 5, 3], Number.NaN), y }, opts),
      /non-finite value \(NaN or Infinity\) in data x at/,
    ],
    [
      'Infinity in y',
      (T) => rt.train(net, { x, y: T.fill([4, 5, 2], Infinity) }, opts),
      /non-finite value \(NaN or Infinity\) in data y at/,
    ],
    [
      'y of the wrong shape',
      (T) => rt.train(net, { x, y: T.zeros([4, 5, 3]) }, opts),
      /y.*\[4, 5, 2\].*got \[4, 5, 3\]/,
    ],
    ['x and y batches differ', (T) => rt.train(net, { x, y: T.zeros([3, 5, 2]) }, opts), /\b4\b.*\b3\b|\b3\b.*\b4\b/],
    [
      'an unknown loss',
      () => rt.train(net, { x, y }, { ...opts, loss: 'hinge' as never }),
      /expected loss to be one of 'mse'.* or a function .*got 'hinge'/,
    ],
    [
      'epochs: 0',
      () => rt.train(net, { x, y }, { ...opts, epochs: 0 }),
      /train: expected epochs to be a positive integer, got 0/,
    ],
    [
      'an unknown optimizer',
      () => rt.train(net, { x, y }, { ...opts, optimizer: 'adamw' as never }),
      /expected optimizer to be one of 'adam', 'sgd', 'rmsprop', 'adagrad', got "adamw"/,
    ],
    [
      'a misspelt option',
      () => rt.train(net, { x, y }, { ...opts, epoch: 3 } as never),
      /train: unknown option 'epoch'/,
    ],
    [
      'not a model',
      () => rt.train({} as never, { x, y }, opts),
      /train: expected model to be a RecurrentNetwork \(rt\.network\) or a tf\.LayersModel, got/,
    ],
    ['no data', () => rt.train(net, null as never, opts), /train: expected data/],
    [
      'resume without a checkpoint',
      () => rt.train(net, { x, y }, { ...opts, resume: true }),
      /resume: true needs checkpoint: \{ path \}/,
    ],
    [
      'an empty checkpoint path',
      () => rt.train(net, { x, y }, { ...opts, checkpoint: { path: '' } }),
      /checkpoint.*path/,
    ],
  ]);
});

describe('validation: train stops on a non-finite loss', () => {
  it('with a clear error, keeping the last good checkpoint loadable and finite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rt-nonfinite-'));
    const model = rt.network({ cell: 'elman', inputSize: 3, units: 4, outputSize: 2, seed: 2 });
    const checkpoint = { path: join(dir, 'ckpt'), every: 1 };
    const base = {
      loss: 'mse' as const,
      optimizer: 'sgd' as const,
      progress: false,
      seed: 1,
      batchSize: 2,
      checkpoint,
    };
    try {
      await rt.train(model, { x, y }, { ...base, epochs: 1, learningRate: 0.01 });
      let error: Error | undefined;
      await rt.train(model, { x, y }, { ...base, epochs: 4, learningRate: 1e30, resume: true }).catch((e) => {
        error = e;
      });
      expect(error?.message).to.match(/train: the loss is (NaN|Infinity) at epoch \d+, batch \d+ .*training stopped/);
      const saved = await rt.loadCheckpoint(checkpoint.path);
      try {
        expect(saved.epochsDone).to.be.at.least(1);
        expect(saved.history.loss.every(Number.isFinite), 'losses in the checkpoint').to.equal(true);
        for (const [k, v] of Object.entries(saved.network.params)) {
          expect(
            tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0]),
            `checkpoint ${k} finite`,
          ).to.equal(1);
        }
      } finally {
        saved.network.dispose();
      }
    } finally {
      model.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('validation: diagnostics', () => {
  cases([
    [
      'gradientNorms: wrong feature size',
      (T) => rt.diagnostics.gradientNorms(net, T.zeros([4, 5, 7]), y, { loss: 'mse' }),
      /diagnostics\.gradientNorms: expected x of shape \[batch, time, 3\], got \[4, 5, 7\]/,
    ],
    [
      'gradientNorms: rank-2 input',
      (T) => rt.diagnostics.gradientNorms(net, T.zeros([4, 3]), y, { loss: 'mse' }),
      /expected x of shape \[batch, time, 3\], got \[4, 3\]/,
    ],
    [
      'gradientNorms: not a network',
      () => rt.diagnostics.gradientNorms({} as never, x, y, { loss: 'mse' }),
      /expected a RecurrentNetwork/,
    ],
    [
      'gradientNorms: an unknown loss',
      () => rt.diagnostics.gradientNorms(net, x, y, { loss: 'l1' as never }),
      /expected loss to be one of/,
    ],
    [
      'gradientCheck: wrong y',
      (T) => rt.diagnostics.gradientCheck(net, x, T.zeros([4, 5, 9]), { loss: 'mse' }),
      /y.*\[4, 5, 2\].*got \[4, 5, 9\]/,
    ],
    [
      'gradientCheck: a misspelt option',
      () => rt.diagnostics.gradientCheck(net, x, y, { loss: 'mse', sample: 3 } as never),
      /unknown option 'sample'/,
    ],
    [
      'manualBPTT: a loss function',
      () => rt.diagnostics.manualBPTT(net, x, y, { loss: ((a: tf.Tensor) => tf.sum(a)) as never }),
      /a function has no hand-written derivative/,
    ],
    [
      'manualBPTT: wrong feature size',
      (T) => rt.diagnostics.manualBPTT(net, T.zeros([4, 5, 1]), y, { loss: 'mse' }),
      /expected x of shape \[batch, time, 3\], got \[4, 5, 1\]/,
    ],
  ]);
});

describe('validation: interop', () => {
  const dict = rt.interop.toPyTorch(lstm);
  cases([
    [
      'fromPyTorch: an unknown kind',
      () => rt.interop.fromPyTorch('transformer' as never, dict),
      /fromPyTorch: expected kind to be one of 'rnn_tanh', 'rnn_relu', 'lstm', 'gru', got "transformer"/,
    ],
    [
      'fromPyTorch: no state dict',
      () => rt.interop.fromPyTorch('lstm', null as never),
      /fromPyTorch: expected a state dict with weight_ih_l0/,
    ],
    [
      'fromPyTorch: missing keys',
      () => rt.interop.fromPyTorch('lstm', { weight_ih_l0: dict.weight_ih_l0 }),
      /state dict lacks weight_hh_l0, bias_ih_l0, bias_hh_l0/,
    ],
    [
      'fromPyTorch: rows not a multiple of the gates',
      () =>
        rt.interop.fromPyTorch('gru', {
          ...dict,
          weight_ih_l0: [
            [1, 2],
            [3, 4],
          ],
        }),
      /fromPyTorch\('gru'\): expected weight_ih_l0 with 3 \* hidden rows, got \[2, 2\]/,
    ],
    [
      'fromPyTorch: wrong recurrent shape',
      () => rt.interop.fromPyTorch('lstm', { ...dict, weight_hh_l0: [[1, 2]] }),
      /expected weight_hh_l0 of shape \[12, 3\], got \[1, 2\]/,
    ],
    [
      'fromPyTorch: not numbers',
      () => rt.interop.fromPyTorch('lstm', { ...dict, bias_ih_l0: 'abc' as never }),
      /bias_ih_l0 is not a \(nested\) number array or \{ shape, data \}|expected bias_ih_l0 of shape \[12\], got \[\]/,
    ],
    [
      'fromPyTorch: NaN weights',
      () => rt.interop.fromPyTorch('lstm', { ...dict, bias_hh_l0: new Array(12).fill(Number.NaN) }),
      /bias_hh_l0.*(NaN|finite)/,
    ],
    ['toPyTorch: not a cell', () => rt.interop.toPyTorch(null as never), /toPyTorch: expected a Cell, got null/],
    [
      'toPyTorch: an activation PyTorch lacks',
      (T) => rt.interop.toPyTorch(T.keep(rt.cells.elman({ inputSize: 1, units: 1, activation: 'gelu', seed: 1 }))),
      /PyTorch's nn\.RNN has tanh or relu, got activation 'gelu'/,
    ],
    [
      'fromKeras: not a layer',
      () => rt.interop.fromKeras({} as never),
      /fromKeras: expected a tfjs SimpleRNN, LSTM or GRU layer, got an object/,
    ],
    ['fromKeras: a Dense layer', () => rt.interop.fromKeras(tf.layers.dense({ units: 1 })), /got a Dense layer/],
    [
      'fromKeras: a layer not built',
      () => rt.interop.fromKeras(tf.layers.lstm({ units: 1 })),
      /the layer is not built yet/,
    ],
    ['toKeras: not a cell', () => rt.interop.toKeras(42 as never), /toKeras: expected a Cell, got number 42/],
  ]);
});

describe('validation: backends', () => {
  cases([
    ['use: an unknown backend', () => rt.backends.use('tpu'), /backends\.use: .*'tpu'.*(Available|available)/],
    ['use: not a name', () => rt.backends.use(42 as never), /backends\.use: expected a backend name .*got 42/],
    [
      'compare: not a model',
      () => rt.backends.compare({ model: null as never, x, backends: ['cpu'] }),
      /compare: expected model/,
    ],
    [
      'compare: wrong feature size',
      (T) => rt.backends.compare({ model: net, x: T.zeros([2, 5, 7]), backends: ['cpu'] }),
      /expected x of shape \[batch, time, 3\], got \[2, 5, 7\]/,
    ],
    ['compare: no backends', () => rt.backends.compare({ model: net, x, backends: [] }), /compare: expected backends/],
  ]);
  it('a failed backends.use leaves the previous backend running', async () => {
    const before = tf.getBackend();
    await rt.backends.use('tpu').catch(() => undefined);
    expect(tf.getBackend()).to.equal(before);
  });
});
