// Parity with tfjs's own tf.layers.simpleRNN / lstm / gru given the same weights, both ways:
// fromKeras (tfjs layer -> our cell) and toKeras (our cell -> tfjs layer), plus our layers against
// tfjs's with goBackwards and under a mask from tf.layers.masking.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import type { Cell } from '../src/cells/cell.js';
import { maxAbsDiff } from './helpers/close.js';
import { seededTensor } from './helpers/property.js';

const TOL = 1e-5;
const [B, T, I, U] = [3, 6, 4, 5];

interface Case {
  kind: 'elman' | 'lstm' | 'gru';
  activation: string;
  recurrentActivation?: string;
}

const CASES: Case[] = [
  { kind: 'elman', activation: 'tanh' },
  { kind: 'elman', activation: 'relu' },
  { kind: 'lstm', activation: 'tanh', recurrentActivation: 'hardSigmoid' }, // tfjs's default
  { kind: 'lstm', activation: 'tanh', recurrentActivation: 'sigmoid' },
  { kind: 'gru', activation: 'tanh', recurrentActivation: 'hardSigmoid' },
  { kind: 'gru', activation: 'tanh', recurrentActivation: 'sigmoid' },
];

const label = (c: Case) => `${c.kind} (${c.activation}${c.recurrentActivation ? `, ${c.recurrentActivation}` : ''})`;

/** tfjs's own layer for the case, returning the sequence and the state; random (seeded) biases. */
function tfjsLayer(c: Case, goBackwards: boolean, seed: number): tf.layers.Layer {
  const args = {
    units: U,
    returnSequences: true,
    returnState: true,
    goBackwards,
    activation: c.activation as 'tanh',
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
    recurrentInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    biasInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: seed + 2 }),
  };
  if (c.kind === 'elman') return tf.layers.simpleRNN(args);
  const gated = { ...args, recurrentActivation: c.recurrentActivation as 'sigmoid' };
  return c.kind === 'lstm' ? tf.layers.lstm(gated) : tf.layers.gru(gated);
}

/** One of our layers for the case, returning the sequence and the state. */
function ourLayer(c: Case, goBackwards: boolean): rt.layers.RecurrentLayer {
  const args = { units: U, returnSequences: true, returnState: true, goBackwards, activation: c.activation };
  if (c.kind === 'elman') return rt.layers.elman(args);
  const gated = { ...args, recurrentActivation: c.recurrentActivation };
  return c.kind === 'lstm' ? rt.layers.lstm(gated) : rt.layers.gru({ ...gated, resetAfter: false });
}

/** Our cell for the case, with seeded weights and random biases (cells start with constant ones). */
function ourCell(c: Case, seed: number): Cell {
  const options = { inputSize: I, units: U, seed, activation: c.activation };
  const cell =
    c.kind === 'elman'
      ? rt.cells.elman(options)
      : c.kind === 'lstm'
        ? rt.cells.lstm({ ...options, recurrentActivation: c.recurrentActivation })
        : rt.cells.gru({ ...options, recurrentActivation: c.recurrentActivation, resetAfter: false });
  let k = 0;
  for (const [symbol, p] of Object.entries(cell.params)) {
    if (symbol.startsWith('b_')) p.assign(seededTensor(p.shape, seed + 100 + k++, 0.5));
  }
  return cell;
}

/** `[sequence in processing order, h, (c)]`, as tfjs's layers return them, from our unroll. */
function unrolled(cell: Cell, x: tf.Tensor, goBackwards: boolean): tf.Tensor[] {
  const { outputs, state } = rt.unroll(cell, x, { reverse: goBackwards });
  const sequence = goBackwards ? tf.reverse(outputs, 1) : outputs;
  return [sequence, state.h, ...(state.c ? [state.c] : [])];
}

function expectSame(actual: tf.Tensor[], expected: tf.Tensor[], what: string): number {
  expect(actual.length, `${what}: number of outputs`).to.equal(expected.length);
  let worst = 0;
  actual.forEach((a, i) => {
    expect(a.shape, `${what}: shape of output ${i}`).to.deep.equal(expected[i].shape);
    const d = maxAbsDiff(a, expected[i]);
    expect(d, `${what}: output ${i} max |diff|`).to.be.at.most(TOL);
    worst = Math.max(worst, d);
  });
  return worst;
}

describe('parity with tfjs layers (SimpleRNN, LSTM, GRU)', () => {
  const x = seededTensor([B, T, I], 7, 1.5);
  after(() => x.dispose());

  for (const c of CASES) {
    for (const goBackwards of [false, true]) {
      const name = `${label(c)}${goBackwards ? ', goBackwards' : ''}`;

      it(`fromKeras: the tfjs layer's weights in our cell give its outputs: ${name}`, () => {
        const layer = tfjsLayer(c, goBackwards, 11);
        const expected = layer.apply(x) as tf.Tensor[];
        const cell = rt.interop.fromKeras(layer, { ignore: goBackwards ? ['goBackwards'] : [] });
        expect(cell.config).to.include({ kind: c.kind, inputSize: I, units: U, activation: c.activation });
        expect(cell.config.recurrentActivation).to.equal(c.recurrentActivation);
        expectSame(unrolled(cell, x, goBackwards), expected, name);
        tf.dispose(expected);
        cell.dispose();
        layer.dispose();
      });

      it(`toKeras: our cell's weights in the tfjs layer give our outputs: ${name}`, () => {
        const cell = ourCell(c, 21);
        const layer = tfjsLayer(c, goBackwards, 1);
        tf.dispose(layer.apply(x) as tf.Tensor[]);
        const weights = rt.interop.toKeras(cell);
        layer.setWeights(weights);
        const actual = layer.apply(x) as tf.Tensor[];
        expectSame(actual, unrolled(cell, x, goBackwards), name);
        tf.dispose([...weights, ...actual]);
        cell.dispose();
        layer.dispose();
      });

      it(`our layer equals the tfjs layer holding the same weights: ${name}`, () => {
        const theirs = tfjsLayer(c, goBackwards, 31);
        const expected = theirs.apply(x) as tf.Tensor[];
        const ours = ourLayer(c, goBackwards);
        tf.dispose(ours.apply(x) as tf.Tensor[]);
        const cell = rt.interop.fromKeras(theirs, { ignore: goBackwards ? ['goBackwards'] : [] });
        ours.setWeights(Object.values(cell.params));
        expectSame(ours.apply(x) as tf.Tensor[], expected, name);
        cell.dispose();
        theirs.dispose();
        ours.dispose();
      });

      it(`under a mask from tf.layers.masking, equals the tfjs layer: ${name}`, () => {
        // Row 0 complete, row 1 padded at the end, row 2 with a padded step in the middle.
        const keep = tf
          .tensor([
            [1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 0, 0],
            [1, 1, 0, 1, 1, 0],
          ])
          .reshape([B, T, 1]);
        const padded = tf.mul(x, keep);
        const theirs = tfjsLayer(c, goBackwards, 41);
        const ours = ourLayer(c, goBackwards);
        const model = (layer: tf.layers.Layer) => {
          const input = tf.input({ shape: [T, I] });
          const masked = tf.layers.masking({ maskValue: 0 }).apply(input) as tf.SymbolicTensor;
          return tf.model({ inputs: input, outputs: layer.apply(masked) as tf.SymbolicTensor[] });
        };
        const theirModel = model(theirs);
        const ourModel = model(ours);
        const cell = rt.interop.fromKeras(theirs, { ignore: goBackwards ? ['goBackwards'] : [] });
        ours.setWeights(Object.values(cell.params));
        const expected = theirModel.predict(padded) as tf.Tensor[];
        const actual = ourModel.predict(padded) as tf.Tensor[];
        expectSame(actual, expected, `${name}, masked`);
        // The mask matters: without it the padded rows come out different.
        const unmasked = ours.apply(padded) as tf.Tensor[];
        expect(maxAbsDiff(unmasked[1], actual[1])).to.be.above(1e-3);
        // A masked step carries the state: row 1's last outputs repeat its 4th.
        const seq = actual[0].arraySync() as number[][][];
        if (!goBackwards) expect(seq[1][5]).to.deep.equal(seq[1][3]);
        tf.dispose([keep, padded, ...expected, ...actual, ...unmasked]);
        cell.dispose();
        theirModel.dispose();
        ourModel.dispose();
      });
    }
  }
});
