/**
 * The models of tfjs's official examples that use recurrent layers (tensorflow/tfjs-examples:
 * addition-rnn, jena-weather, date-conversion-attention), built by one function of ours that
 * writes each model with the options the example gives, once with tfjs's layers and once with
 * ours swapped in by name (`simpleRNN` → `rt.layers.elman`, `lstm`, `gru`). Our defaults are
 * PyTorch's and Keras 3's (σ gates, the GRU with `resetAfter`); to compare numbers with tfjs's
 * layers ours are given tfjs's defaults, `recurrentActivation: 'hardSigmoid'` and for the GRU
 * `resetAfter: false`, and nothing else.
 * With tfjs's weights copied into ours (`setWeights` takes tfjs's layout), predictions agree and
 * `model.fit` gives the same losses.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';

type RecurrentFactory = (args: Record<string, unknown>) => tf.layers.Layer;
interface Recurrent {
  simpleRNN: RecurrentFactory;
  lstm: RecurrentFactory;
  gru: RecurrentFactory;
}

const TFJS: Recurrent = {
  simpleRNN: (a) => tf.layers.simpleRNN(a as never),
  lstm: (a) => tf.layers.lstm(a as never),
  gru: (a) => tf.layers.gru(a as never),
};
const OURS: Recurrent = {
  simpleRNN: (a) => rt.layers.elman(a as never),
  lstm: (a) => rt.layers.lstm({ recurrentActivation: 'hardSigmoid', ...a } as never),
  gru: (a) => rt.layers.gru({ recurrentActivation: 'hardSigmoid', resetAfter: false, ...a } as never),
};

/** addition-rnn: encoder RNN, repeatVector, decoder RNN with sequences, timeDistributed dense, softmax. */
function additionRnn(L: Recurrent, kind: keyof Recurrent, hiddenSize: number, digits: number, vocab: number) {
  const maxLen = digits + 1 + digits;
  const model = tf.sequential();
  model.add(L[kind]({ units: hiddenSize, recurrentInitializer: 'GlorotNormal', inputShape: [maxLen, vocab] }));
  model.add(tf.layers.repeatVector({ n: digits + 1 }));
  model.add(L[kind]({ units: hiddenSize, recurrentInitializer: 'GlorotNormal', returnSequences: true }));
  model.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: vocab }) }));
  model.add(tf.layers.activation({ activation: 'softmax' }));
  model.compile({ loss: 'categoricalCrossentropy', optimizer: 'adam', metrics: ['accuracy'] });
  return model;
}

/** jena-weather: a GRU with dropout and recurrent dropout, a dense regression head. */
function jenaGru(L: Recurrent, timeSteps: number, features: number, dropout: number) {
  const model = tf.sequential();
  model.add(L.gru({ units: 32, inputShape: [timeSteps, features], dropout, recurrentDropout: dropout }));
  model.add(tf.layers.dense({ units: 1 }));
  model.compile({ loss: 'meanAbsoluteError', optimizer: tf.train.rmsprop(1e-3) });
  return model;
}

/** The last step of a sequence (the example's own small layer, written here). */
class LastStep extends tf.layers.Layer {
  static className = 'TestLastStep';
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = shape as tf.Shape;
    return [s[0], s[2]];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => tf.squeeze(tf.gather(x, [x.shape[1]! - 1], 1), [1]));
  }
}

/** date-conversion-attention: embeddings with maskZero, an LSTM encoder whose last output is the decoder's initial state, dot attention. */
function dateAttention(L: Recurrent, inVocab: number, outVocab: number, inLen: number, outLen: number) {
  const units = 16;
  const encoderInput = tf.input({ shape: [inLen] });
  const decoderInput = tf.input({ shape: [outLen] });
  let encoder = tf.layers
    .embedding({ inputDim: inVocab, outputDim: 8, inputLength: inLen, maskZero: true })
    .apply(encoderInput) as tf.SymbolicTensor;
  encoder = L.lstm({ units, returnSequences: true }).apply(encoder) as tf.SymbolicTensor;
  const encoderLast = new LastStep({ name: 'encoderLast' }).apply(encoder) as tf.SymbolicTensor;
  let decoder = tf.layers
    .embedding({ inputDim: outVocab, outputDim: 8, inputLength: outLen, maskZero: true })
    .apply(decoderInput) as tf.SymbolicTensor;
  decoder = L.lstm({ units, returnSequences: true }).apply(decoder, {
    initialState: [encoderLast, encoderLast],
  }) as tf.SymbolicTensor;
  let attention = tf.layers.dot({ axes: [2, 2] }).apply([decoder, encoder]) as tf.SymbolicTensor;
  attention = tf.layers.activation({ activation: 'softmax', name: 'attention' }).apply(attention) as tf.SymbolicTensor;
  const context = tf.layers.dot({ axes: [2, 1], name: 'context' }).apply([attention, encoder]) as tf.SymbolicTensor;
  const combined = tf.layers.concatenate().apply([context, decoder]) as tf.SymbolicTensor;
  let output = tf.layers
    .timeDistributed({ layer: tf.layers.dense({ units, activation: 'tanh' }) })
    .apply(combined) as tf.SymbolicTensor;
  output = tf.layers
    .timeDistributed({ layer: tf.layers.dense({ units: outVocab, activation: 'softmax' }) })
    .apply(output) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [encoderInput, decoderInput], outputs: output });
  model.compile({ loss: 'categoricalCrossentropy', optimizer: 'adam' });
  return model;
}

/** Copies every layer's weights from `from` to `to` (the same architecture, tfjs's layout for the recurrent layers). */
function copyWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  expect(to.layers.length).to.equal(from.layers.length);
  from.layers.forEach((layer, i) => to.layers[i].setWeights(layer.getWeights()));
}

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.max(tf.abs(tf.sub(a, b)));
  const v = (await d.data())[0];
  d.dispose();
  return v;
}

/** Two epochs of `model.fit` (no shuffling) give the same losses on both models (1e-4). */
async function expectSameFit(
  theirs: tf.LayersModel,
  ours: tf.LayersModel,
  x: tf.Tensor | tf.Tensor[],
  y: tf.Tensor,
  batchSize: number,
): Promise<void> {
  const fit = { epochs: 2, batchSize, shuffle: false, verbose: 0 as const };
  const [ht, ho] = [await theirs.fit(x, y, fit), await ours.fit(x, y, fit)];
  (ht.history.loss as number[]).forEach((l, i) => expect(ho.history.loss[i] as number).to.be.closeTo(l, 1e-4));
}

/** Random one-hot rows `[n, time, vocab]`. */
function oneHots(n: number, time: number, vocab: number, seed: number): tf.Tensor3D {
  return tf.tidy(() => tf.oneHot(tf.randomUniform([n, time], 0, vocab, 'int32', seed), vocab).toFloat() as tf.Tensor3D);
}

describe('tfjs-examples models with our recurrent layers swapped in', function () {
  this.timeout(120_000);

  for (const kind of ['simpleRNN', 'lstm', 'gru'] as const) {
    it(`addition-rnn (${kind}): tfjs's options accepted; with tfjs's weights, the same predictions and fit losses`, async () => {
      const [digits, vocab] = [2, 12];
      const theirs = additionRnn(TFJS, kind, 16, digits, vocab);
      const ours = additionRnn(OURS, kind, 16, digits, vocab);
      copyWeights(theirs, ours);
      const x = oneHots(64, 2 * digits + 1, vocab, 1);
      const y = oneHots(64, digits + 1, vocab, 2);
      const [pt, po] = [theirs.predict(x) as tf.Tensor, ours.predict(x) as tf.Tensor];
      expect(await maxDiff(pt, po)).to.be.below(1e-5);
      await expectSameFit(theirs, ours, x, y, 16);
      tf.dispose([x, y, pt, po]);
      theirs.dispose();
      ours.dispose();
    });
  }

  it("jena-weather's GRU (dropout 0.2, recurrentDropout 0.2): accepted, inference equals tfjs's, fit lowers the loss", async () => {
    const theirs = jenaGru(TFJS, 20, 14, 0.2);
    const ours = jenaGru(OURS, 20, 14, 0.2);
    copyWeights(theirs, ours);
    const x = tf.randomNormal([64, 20, 14], 0, 1, 'float32', 3);
    const y = tf.randomNormal([64, 1], 0, 1, 'float32', 4);
    const [pt, po] = [theirs.predict(x) as tf.Tensor, ours.predict(x) as tf.Tensor];
    expect(await maxDiff(pt, po)).to.be.below(1e-5);
    const h = await ours.fit(x, y, { epochs: 4, batchSize: 16, verbose: 0 });
    const losses = h.history.loss as number[];
    expect(losses[3]).to.be.below(losses[0]);
    tf.dispose([x, y, pt, po]);
    theirs.dispose();
    ours.dispose();
  });

  it("jena-weather's GRU with dropout 0 (the example's default): the same fit losses as tfjs's", async () => {
    const theirs = jenaGru(TFJS, 10, 14, 0);
    const ours = jenaGru(OURS, 10, 14, 0);
    copyWeights(theirs, ours);
    const x = tf.randomNormal([32, 10, 14], 0, 1, 'float32', 5);
    const y = tf.randomNormal([32, 1], 0, 1, 'float32', 6);
    await expectSameFit(theirs, ours, x, y, 8);
    tf.dispose([x, y]);
    theirs.dispose();
    ours.dispose();
  });

  // tfjs's decoder reads the encoder's last output as its initial state: equal predictions mean ours does too.
  it("date-conversion-attention: the encoder's last output reaches the decoder as its initial state; tfjs's predictions and losses", async () => {
    const [inVocab, outVocab, inLen, outLen] = [20, 13, 12, 6];
    const theirs = dateAttention(TFJS, inVocab, outVocab, inLen, outLen);
    const ours = dateAttention(OURS, inVocab, outVocab, inLen, outLen);
    // The encoder-state layer is part of both models.
    expect(ours.layers.map((l) => l.name)).to.include('encoderLast');
    expect(ours.layers.length).to.equal(theirs.layers.length);
    copyWeights(theirs, ours);
    // Padded inputs (0 = padding, masked by the embeddings), as the example's are.
    const enc = tf.tidy(() =>
      tf
        .mul(tf.randomUniform([32, inLen], 1, inVocab, 'int32', 7), tf.cast(tf.less(tf.range(0, inLen), 9), 'int32'))
        .toFloat(),
    );
    const dec = tf.randomUniform([32, outLen], 1, outVocab, 'int32', 8).toFloat();
    const y = tf.tidy(() => tf.oneHot(tf.randomUniform([32, outLen], 1, outVocab, 'int32', 9), outVocab).toFloat());
    const [pt, po] = [theirs.predict([enc, dec]) as tf.Tensor, ours.predict([enc, dec]) as tf.Tensor];
    expect(await maxDiff(pt, po)).to.be.below(1e-5);
    await expectSameFit(theirs, ours, [enc, dec], y, 8);
    tf.dispose([enc, dec, y, pt, po]);
    theirs.dispose();
    ours.dispose();
  });
});
