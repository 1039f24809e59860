// Issue 18, the input half: every bad input gets a clear error (naming the input, what was
// expected and what came) and leaves no tensor behind; nothing silently wrong.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { checkTemperature, describe as describeValue, show } from '../src/check/index.js';
import { cases, type Inputs } from './helpers/refusals.js';

const lstm = rt.cells.lstm({ inputSize: 3, units: 4, seed: 1 });
const net = rt.network({ cell: 'lstm', inputSize: 3, units: 4, outputSize: 2, seed: 1 });
const classifier = rt.network({ cell: 'gru', inputSize: 3, units: 4, outputSize: 3, seed: 2 });
const x = tf.randomNormal([4, 5, 3], 0, 1, 'float32', 1);
const y = tf.zeros([4, 5, 2]);
const train = { loss: 'mse' as const, epochs: 1, progress: false };
after(() => {
  tf.dispose([x, y]);
  lstm.dispose();
  net.dispose();
  classifier.dispose();
});

describe('validation-inputs 1: mask values', () => {
  cases([
    [
      'unroll: mask 0.5',
      (T) => rt.unroll(lstm, x, { mask: T.fill([4, 5], 0.5) }),
      /unroll: expected mask values 0 or 1/,
    ],
    [
      'unroll: mask 7',
      (T) => rt.unroll(lstm, x, { mask: T.fill([4, 5], 7) }),
      /expected mask values 0 or 1.*got others/,
    ],
    [
      'unroll: mask NaN',
      (T) => rt.unroll(lstm, x, { mask: T.fill([4, 5], Number.NaN) }),
      /expected mask values 0 or 1/,
    ],
    [
      "a layer's masking path: mask 0.5",
      (T) => {
        const layer = rt.layers.lstm({ units: 2, seed: 1 });
        try {
          return layer.apply(x, { mask: T.fill([4, 5], 0.5) });
        } finally {
          layer.dispose();
        }
      },
      /expected mask values 0 or 1/,
    ],
  ]);
  it('0/1 (float, int32 and bool) masks are accepted and agree', () => {
    const m = [1, 1, 0, 1, 0];
    const rows = [m, m, m, m].flat();
    const outs = [tf.tensor(rows, [4, 5]), tf.tensor(rows, [4, 5], 'int32'), tf.tensor(rows, [4, 5], 'bool')].map(
      (mask) => {
        const { outputs, state } = rt.unroll(lstm, x, { mask });
        const v = outputs.arraySync();
        tf.dispose([mask, outputs, ...Object.values(state)]);
        return v;
      },
    );
    expect(outs[1]).to.deep.equal(outs[0]);
    expect(outs[2]).to.deep.equal(outs[0]);
  });
});

describe('validation-inputs 2: options that do not apply', () => {
  cases([
    [
      'resetAfter on an LSTM network',
      () => rt.network({ cell: 'lstm', inputSize: 3, units: 4, outputSize: 1, resetAfter: false }),
      /network: resetAfter does not apply to cell "lstm" \(only to 'gru'\); got resetAfter: false/,
    ],
    [
      'recurrentActivation on an Elman network',
      () => rt.network({ cell: 'elman', inputSize: 3, units: 4, outputSize: 1, recurrentActivation: 'sigmoid' }),
      /network: recurrentActivation does not apply to cell 'elman'.*got recurrentActivation: "sigmoid"/,
    ],
    [
      'a Cell object with a contradicting inputSize',
      () => rt.network({ cell: lstm, inputSize: 5, outputSize: 1 }),
      /network: inputSize does not apply beside a Cell object, whose inputSize is 3; got inputSize: 5/,
    ],
    [
      'a Cell object with contradicting units',
      () => rt.network({ cell: lstm, units: 8, outputSize: 1 }),
      /units does not apply beside a Cell object, whose units is 4; got units: 8/,
    ],
    [
      'an activation beside a Cell object',
      () => rt.network({ cell: lstm, outputSize: 1, activation: 'relu' }),
      /activation does not apply beside a Cell object \(set it when building the cell\); got activation: "relu"/,
    ],
  ]);
  it('sizes equal to the Cell object, and resetAfter on a GRU, are accepted', () => {
    const a = rt.network({ cell: lstm, inputSize: 3, units: 4, outputSize: 1, seed: 1 });
    expect(a.cell).to.equal(lstm);
    const b = rt.network({ cell: 'gru', inputSize: 3, units: 4, outputSize: 1, resetAfter: false, seed: 1 });
    expect(b.cell.config.resetAfter).to.equal(false);
    a.outputParams.W_yh.dispose();
    a.outputParams.b_y.dispose();
    b.dispose();
  });
});

describe('validation-inputs 3: labels the loss cannot take', () => {
  const sce = { ...train, loss: 'softmaxCrossEntropy' as const };
  const sparse = { ...train, loss: 'sparseSoftmaxCrossEntropy' as const };
  const probs = (T: Inputs, row: number[]) => T.tensor([row, row, row, row].flat(), [4, 3]);
  cases([
    [
      'softmaxCrossEntropy: a negative label',
      (T) => rt.train(classifier, { x, y: probs(T, [1.5, -0.5, 0]) }, sce),
      /train: expected labels of softmaxCrossEntropy to be probabilities .*got others in data y at epoch 0, batch 0/,
    ],
    [
      'softmaxCrossEntropy: rows not summing to 1',
      (T) => rt.train(classifier, { x, y: probs(T, [0.5, 0.2, 0.2]) }, sce),
      /expected labels of softmaxCrossEntropy to be probabilities \(every entry >= 0, every row summing to 1 within 0\.001/,
    ],
    [
      'sparse: a label out of range',
      (T) => rt.train(classifier, { x, y: T.tensor([0, 1, 2, 3], [4]) }, sparse),
      /expected sparse labels \(sparseSoftmaxCrossEntropy\) to be integers in \[0, 3\), got others in data y/,
    ],
    [
      'sparse: a label that is not an integer',
      (T) => rt.train(classifier, { x, y: T.tensor([0, 1.5, 2, 0], [4]) }, sparse),
      /to be integers in \[0, 3\)/,
    ],
    [
      'gradientNorms: a negative label',
      (T) => rt.diagnostics.gradientNorms(classifier, x, probs(T, [1.5, -0.5, 0]), { loss: 'softmaxCrossEntropy' }),
      /diagnostics\.gradientNorms: expected labels of softmaxCrossEntropy to be probabilities/,
    ],
    [
      'gradientCheck: sparse label out of range',
      (T) =>
        rt.diagnostics.gradientCheck(classifier, x, T.tensor([0, 1, 2, -1], [4]), {
          loss: 'sparseSoftmaxCrossEntropy',
        }),
      /diagnostics\.gradientCheck: expected sparse labels/,
    ],
    [
      'manualBPTT: rows not summing to 1',
      (T) => rt.diagnostics.manualBPTT(classifier, x, probs(T, [0.1, 0.1, 0.1]), { loss: 'softmaxCrossEntropy' }),
      /diagnostics\.manualBPTT: expected labels of softmaxCrossEntropy to be probabilities/,
    ],
  ]);
  it('probabilities within 1e-3 of summing to 1 are accepted', async () => {
    const labels = tf.tensor([0.2, 0.3, 0.5005], [1, 3]).tile([4, 1]);
    const net = rt.network({ cell: 'gru', inputSize: 3, units: 4, outputSize: 3, seed: 2 });
    const h = await rt.train(net, { x, y: labels }, sce);
    expect(h.history.loss[0]).to.be.greaterThan(0);
    tf.dispose(labels);
    net.dispose();
  });
});

describe('validation-inputs 4: interop refuses what it cannot carry', () => {
  const torch = (Wih: unknown) => ({
    weight_ih_l0: Wih as number[][],
    weight_hh_l0: [[0.1]],
    bias_ih_l0: [0],
    bias_hh_l0: [0],
  });
  cases([
    [
      'fromPyTorch: a ragged first row',
      () => rt.interop.fromPyTorch('rnn_tanh', torch([[1, 2, 3], [4]])),
      /fromPyTorch: expected weight_ih_l0 to be a rectangular array of shape \[2, 3\].*weight_ih_l0\[1\] has 1 entries where 3 entries were expected \(a ragged array\)/,
    ],
    [
      'fromPyTorch: ragged rows whose total matches',
      () =>
        rt.interop.fromPyTorch('rnn_tanh', {
          weight_ih_l0: [[1, 2], [3], [4, 5, 6]] as number[][],
          weight_hh_l0: [
            [0.1, 0, 0],
            [0, 0.1, 0],
            [0, 0, 0.1],
          ],
          bias_ih_l0: [0, 0, 0],
          bias_hh_l0: [0, 0, 0],
        }),
      /ragged array/,
    ],
    [
      'fromPyTorch: a string entry',
      () => rt.interop.fromPyTorch('rnn_tanh', torch([['1']])),
      /fromPyTorch: expected weight_ih_l0\[0\]\[0\] to be a finite number, got "1"/,
    ],
    [
      'fromPyTorch: NaN',
      () => rt.interop.fromPyTorch('rnn_tanh', torch([[Number.NaN]])),
      /expected weight_ih_l0\[0\]\[0\] to be a finite number, got NaN/,
    ],
    [
      'fromPyTorch: { shape, data } of the wrong size',
      () => rt.interop.fromPyTorch('rnn_tanh', torch({ shape: [1, 2], data: [1, 2, 3] })),
      /weight_ih_l0\.shape \[1, 2\] holds 2 values, but weight_ih_l0\.data has 3/,
    ],
  ]);
  for (const option of ['goBackwards', 'stateful'] as const) {
    it(`fromKeras: a layer with ${option}: true is refused, naming it`, () => {
      const layer = tf.layers.lstm({
        units: 2,
        [option]: true,
        ...(option === 'stateful' ? { batchInputShape: [2, 3, 4] } : { inputShape: [3, 4] }),
      });
      const model = tf.sequential({ layers: [layer] });
      expect(() => rt.interop.fromKeras(layer)).to.throw(
        new RegExp(`fromKeras\\(LSTM '.*'\\): ${option} does not apply to a cell.*\\{ ignore: \\['${option}'\\] \\}`),
      );
      const cell = rt.interop.fromKeras(layer, { ignore: [option] });
      expect(cell.kind).to.equal('lstm');
      cell.dispose();
      model.dispose();
    });
  }
});

describe('validation-inputs 5: NaN and Infinity', () => {
  cases([
    [
      'train: NaN in x names x',
      (T) => rt.train(net, { x: T.fill([4, 5, 3], Number.NaN), y }, train),
      /train: non-finite value \(NaN or Infinity\) in data x at epoch 0, batch 0 \(0-based\)/,
    ],
    [
      'train: Infinity in y names y',
      (T) => rt.train(net, { x, y: T.fill([4, 5, 2], Infinity) }, train),
      /non-finite value \(NaN or Infinity\) in data y at epoch 0/,
    ],
    [
      'train: NaN in validation x',
      (T) => rt.train(net, { x, y }, { ...train, validation: { x: T.fill([4, 5, 3], Number.NaN), y } }),
      /non-finite value \(NaN or Infinity\) in validation x/,
    ],
    [
      'gradientNorms: NaN in x',
      (T) => rt.diagnostics.gradientNorms(net, T.fill([4, 5, 3], Number.NaN), y, { loss: 'mse' }),
      /diagnostics\.gradientNorms: non-finite value \(NaN or Infinity\) in x/,
    ],
    [
      'gradientNormsAsync: Infinity in y',
      (T) => rt.diagnostics.gradientNormsAsync(net, x, T.fill([4, 5, 2], -Infinity), { loss: 'mse' }),
      /gradientNormsAsync: non-finite value \(NaN or Infinity\) in y/,
    ],
    [
      'gradientCheck: NaN in y',
      (T) => rt.diagnostics.gradientCheck(net, x, T.fill([4, 5, 2], Number.NaN), { loss: 'mse' }),
      /diagnostics\.gradientCheck: non-finite value \(NaN or Infinity\) in y/,
    ],
    [
      'manualBPTT: NaN in x',
      (T) => rt.diagnostics.manualBPTT(net, T.fill([4, 5, 3], Number.NaN), y, { loss: 'mse' }),
      /diagnostics\.manualBPTT: non-finite value \(NaN or Infinity\) in x/,
    ],
    [
      'checkFinite names the input',
      (T) => rt.checkFinite(T.fill([2, 2], Number.NaN), 'features'),
      /checkFinite: non-finite value \(NaN or Infinity\) in features/,
    ],
    ['checkFiniteAsync', (T) => rt.checkFiniteAsync(T.fill([2], Infinity)), /checkFiniteAsync: .* in x/],
  ]);
  it('checkFinite returns a finite input as it is', async () => {
    expect(rt.checkFinite(x)).to.equal(x);
    expect(await rt.checkFiniteAsync(x, 'x')).to.equal(x);
  });
  it("predict propagates NaN (documented): the check is the caller's", () => {
    const bad = tf.fill([1, 2, 3], Number.NaN);
    const out = net.predict(bad);
    expect(Number.isNaN(out.dataSync()[0])).to.equal(true);
    tf.dispose([bad, out]);
  });
});

describe('validation-inputs 6: values in messages', () => {
  it('show: NaN as NaN, strings quoted, objects in JSON-like form', () => {
    expect(show(Number.NaN)).to.equal('NaN');
    expect(show(-Infinity)).to.equal('-Infinity');
    expect(show('1')).to.equal('"1"');
    expect(show(1)).to.equal('1');
    expect(show(undefined)).to.equal('undefined');
    expect(show({ a: Number.NaN, b: ['x'] })).to.equal('{"a": NaN, "b": ["x"]}');
    expect(show(new Map())).to.equal('an object (Map)');
    expect(show(() => 1)).to.equal('a function');
    expect(describeValue(Number.NaN)).to.equal('number NaN');
    expect(describeValue('1')).to.equal('string "1"');
  });
  cases([
    [
      'units: NaN',
      () => rt.cells.elman({ inputSize: 2, units: Number.NaN }),
      /expected units to be a positive integer, got NaN/,
    ],
    ['units: "1"', () => rt.cells.elman({ inputSize: 2, units: '1' as never }), /got "1"/],
    [
      'seed: "1"',
      () => rt.cells.elman({ inputSize: 2, units: 2, seed: '1' as never }),
      /expected seed to be a finite number, got "1"/,
    ],
    [
      'train epochs: NaN',
      () => rt.train(net, { x, y }, { ...train, epochs: Number.NaN }),
      /expected epochs to be a positive integer, got NaN/,
    ],
    [
      'train clipNorm: NaN',
      () => rt.train(net, { x, y }, { ...train, clipNorm: Number.NaN }),
      /expected clipNorm to be a positive number, got NaN/,
    ],
    [
      'train shuffle: "1"',
      () => rt.train(net, { x, y }, { ...train, shuffle: '1' as never }),
      /expected shuffle to be true or false, got "1"/,
    ],
    ['train options: "1"', () => rt.train(net, { x, y }, '1' as never), /expected options \{ loss, \.\.\. \}, got "1"/],
    [
      'gradientCheck step: NaN',
      () => rt.diagnostics.gradientCheck(net, x, y, { loss: 'mse', step: Number.NaN }),
      /expected step to be a positive number, got NaN/,
    ],
  ]);
});

describe('validation-inputs 7: disposed cells, networks and inputs', () => {
  const disposedCell = () => {
    const c = rt.cells.gru({ inputSize: 3, units: 2, seed: 1 });
    c.dispose();
    return c;
  };
  const disposedNet = () => {
    const n = rt.network({ cell: 'elman', inputSize: 3, units: 2, outputSize: 2, seed: 1 });
    n.dispose();
    return n;
  };
  cases([
    [
      'cell.step',
      (T) => disposedCell().step(T.fill([2, 3], 1) as tf.Tensor2D, { h: T.fill([2, 2], 0) as tf.Tensor2D }),
      /cells\.gru\.step: the cell has been disposed/,
    ],
    ['unroll', () => rt.unroll(disposedCell(), x), /unroll: the cell has been disposed/],
    [
      'network of a disposed cell',
      () => rt.network({ cell: disposedCell(), outputSize: 1 }),
      /network: the cell has been disposed/,
    ],
    ['net.predict', () => disposedNet().predict(x), /net\.apply: the network has been disposed/],
    ['net.apply', () => disposedNet().apply(x), /net\.apply: the network has been disposed/],
    ['rt.train of a network', () => rt.train(disposedNet(), { x, y }, train), /train: the network has been disposed/],
    [
      'rt.train of a tf.LayersModel',
      () => {
        const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [5, 3] })] });
        model.dispose();
        return rt.train(model, { x, y }, train);
      },
      /train: the tf\.LayersModel has been disposed/,
    ],
    [
      'a disposed input',
      () => {
        const t = tf.ones([1, 2, 3]);
        t.dispose();
        return net.predict(t);
      },
      /net\.apply: x has been disposed/,
    ],
  ]);
});

describe('validation-inputs 8: empty batches and sequences', () => {
  cases([
    [
      'predict: batch 0',
      (T) => net.predict(T.fill([0, 5, 3], 0)),
      /net\.apply: expected x with at least one row \(batch >= 1\), got shape \[0, 5, 3\]/,
    ],
    ['unroll: batch 0', (T) => rt.unroll(lstm, T.fill([0, 5, 3], 0)), /unroll: expected x with at least one row/],
    [
      'unroll: time 0',
      (T) => rt.unroll(lstm, T.fill([2, 0, 3], 0)),
      /unroll: expected x with at least one time step, got time = 0/,
    ],
    [
      'train: time 0',
      (T) => rt.train(net, { x: T.fill([4, 0, 3], 0), y: T.fill([4, 0, 2], 0) }, train),
      /train \(data epoch 0, batch 0\): expected x with at least one time step, got time = 0/,
    ],
    [
      'gradientNorms: time 0',
      (T) => rt.diagnostics.gradientNorms(net, T.fill([4, 0, 3], 0), T.fill([4, 0, 2], 0), { loss: 'mse' }),
      /gradientNorms: expected x with at least one time step/,
    ],
  ]);
});

describe('validation-inputs 9: sampling temperature', () => {
  it('0 (argmax) and >= 0.001 are accepted; 1e-300, negatives and NaN refused', () => {
    expect(checkTemperature('sample', '--temperature', 0)).to.equal(0);
    expect(checkTemperature('sample', '--temperature', 0.001)).to.equal(0.001);
    expect(checkTemperature('sample', '--temperature', 0.8)).to.equal(0.8);
    for (const bad of [1e-300, 1e-4, -1, Number.NaN, Infinity, 'x']) {
      expect(() => checkTemperature('sample', '--temperature', bad)).to.throw(
        /sample: expected --temperature to be 0 \(always the likeliest character\) or a finite number of at least 0\.001/,
      );
    }
  });
});

describe('validation-inputs 10: loading weights into our layers', () => {
  const model = () =>
    tf.sequential({
      layers: [rt.layers.lstm({ units: 2, inputShape: [3, 4], seed: 1 }), rt.layers.output({ units: 1, seed: 1 })],
    });
  async function artifacts(): Promise<tf.io.ModelArtifacts> {
    const m = model();
    let saved: tf.io.ModelArtifacts | undefined;
    await m.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    m.dispose();
    return saved!;
  }
  cases([
    [
      'int32 weights',
      async () => {
        const a = await artifacts();
        a.weightSpecs![0].dtype = 'int32';
        return tf.loadLayersModel(tf.io.fromMemory(a));
      },
      /layers\.lstm '.*': expected weight W_ix of dtype float32, got int32/,
      "tfjs's loadLayersModel keeps the model it built and the weights it read when a weight is refused",
    ],
    [
      'a transposed weight',
      async () => {
        const a = await artifacts();
        a.weightSpecs![0].shape = [...a.weightSpecs![0].shape].reverse();
        return tf.loadLayersModel(tf.io.fromMemory(a));
      },
      /expected weight W_ix of shape \[2, 4\], got \[4, 2\] \(transposed: .*Keras's kernel/,
      "tfjs's loadLayersModel keeps the model it built and the weights it read when a weight is refused",
    ],
    [
      'setWeights with a transposed W_yh',
      (T) => {
        const m = model();
        try {
          const w = m.layers[1].getWeights();
          const bad = [T.keep(tf.transpose(w[0])), w[1]];
          m.layers[1].setWeights(bad);
        } finally {
          m.dispose();
        }
      },
      /layers\.output: expected weight W_yh of shape \[1, 2\], got \[2, 1\]/,
    ],
  ]);
});

describe('validation-inputs 11: a stateful layers model trained by rt.train', () => {
  it('keeps the tensor count flat over epochs (states kept for a tape are freed once it is done)', async () => {
    const model = tf.sequential({
      layers: [
        rt.layers.gru({ units: 3, stateful: true, batchInputShape: [4, 5, 3], seed: 1 }),
        rt.layers.output({ units: 2, seed: 1 }),
      ],
    });
    const yLast = tf.zeros([4, 2]);
    const counts: number[] = [];
    await rt.train(
      model,
      { x, y: yLast },
      {
        loss: 'mse',
        epochs: 12,
        batchSize: 4,
        progress: false,
        callbacks: { onEpochEnd: () => void counts.push(tf.memory().numTensors) },
      },
    );
    expect(counts[11], `tensor counts per epoch: ${counts.join(', ')}`).to.equal(counts[2]);
    tf.dispose(yLast);
    model.dispose();
  });
});
