// The tf.layers face: construction, config, outputs, models, bidirectional, masking, stateful,
// errors and tensor leaks. (Parity with tfjs's own layers is in tfjs-parity.test.ts, saving and
// loading in layers-io.test.ts.)
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import type { Cell } from '../src/cells/cell.js';
import { registerOnce } from '../src/layers/base.js';
import { maxAbsDiff } from './helpers/close.js';
import { seededTensor } from './helpers/property.js';

const [B, T, I, U] = [2, 5, 3, 4];
const KINDS = ['elman', 'lstm', 'gru'] as const;
type Kind = (typeof KINDS)[number];

const make = (kind: Kind, args: rt.layers.GruLayerArgs): rt.layers.RecurrentLayer =>
  kind === 'elman' ? rt.layers.elman(args) : kind === 'lstm' ? rt.layers.lstm(args) : rt.layers.gru(args);

const cellOf = (layer: tf.layers.Layer): Cell => (layer as rt.layers.RecurrentLayer).cell as Cell;

describe('layers: classes, registration and config', () => {
  const classNames = { elman: 'RecurrentElman', lstm: 'RecurrentLSTM', gru: 'RecurrentGRU' };

  it("registers our class names and leaves tfjs's SimpleRNN, LSTM and GRU alone", () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const kind of KINDS) {
      const layer = make(kind, { units: U });
      expect(layer.getClassName()).to.equal(classNames[kind]);
      expect(map[classNames[kind]][0]).to.equal(layer.constructor);
    }
    expect(map.RecurrentOutput[0]).to.equal(rt.layers.RecurrentOutput);
    expect(map.SimpleRNN[0]).to.equal(tf.layers.simpleRNN({ units: 1 }).constructor);
    expect(map.LSTM[0]).to.equal(tf.layers.lstm({ units: 1 }).constructor);
    expect(map.GRU[0]).to.equal(tf.layers.gru({ units: 1 }).constructor);
  });

  it('registers once: a second registration under our name changes nothing', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    const before = map.RecurrentLSTM;
    class Impostor extends tf.layers.Layer {
      static className = 'RecurrentLSTM';
    }
    registerOnce(Impostor);
    registerOnce(rt.layers.RecurrentLSTM);
    expect(map.RecurrentLSTM).to.equal(before);
  });

  for (const kind of KINDS) {
    it(`${kind}: getConfig round-trips through fromConfig`, () => {
      const args = {
        units: U,
        activation: 'relu',
        returnSequences: true,
        returnState: true,
        stateful: true,
        goBackwards: true,
        seed: 9,
        name: `my_${kind}`,
        ...(kind === 'elman' ? {} : { recurrentActivation: 'hardSigmoid' }),
        ...(kind === 'gru' ? { resetAfter: false } : {}),
      };
      const layer = make(kind, args);
      const config = layer.getConfig();
      expect(config).to.include(args);
      const cls = layer.constructor as tf.serialization.SerializableConstructor<rt.layers.RecurrentLayer>;
      const again = tf.layers.Layer.fromConfig(cls, { ...config });
      expect(again.getClassName()).to.equal(classNames[kind]);
      expect(again.getConfig()).to.deep.equal(config);
    });
  }

  it("output: getConfig round-trips; tfjs's deserializer adds customObjects, which is accepted", () => {
    const layer = rt.layers.output({ units: 3, activation: 'softmax', seed: 4 });
    const config = layer.getConfig();
    expect(config).to.include({ units: 3, activation: 'softmax', seed: 4 });
    const again = rt.layers.RecurrentOutput.fromConfig(rt.layers.RecurrentOutput, { ...config, customObjects: {} });
    expect((again as tf.layers.Layer).getConfig()).to.deep.equal(config);
  });

  it('names the weights by the symbols, in the document orientation, seeded', () => {
    const x = seededTensor([B, T, I], 1);
    const layer = rt.layers.lstm({ units: U, seed: 3 });
    tf.dispose(layer.apply(x) as tf.Tensor);
    const names = layer.weights.map((w) => w.originalName.split('/').pop());
    expect(names).to.deep.equal([
      'W_ix',
      'W_ih',
      'b_i',
      'W_fx',
      'W_fh',
      'b_f',
      'W_gx',
      'W_gh',
      'b_g',
      'W_ox',
      'W_oh',
      'b_o',
    ]);
    expect(layer.weights[0].shape).to.deep.equal([U, I]);
    expect(layer.weights[1].shape).to.deep.equal([U, U]);
    expect(cellOf(layer).params.b_f.arraySync()).to.deep.equal([1, 1, 1, 1]); // remembers by default
    // The same seed gives the same weights as the cell of that seed; another seed others.
    const cell = rt.cells.lstm({ inputSize: I, units: U, seed: 3 });
    expect(maxAbsDiff(cellOf(layer).params.W_ih, cell.params.W_ih)).to.equal(0);
    const other = rt.layers.lstm({ units: U, seed: 4 });
    tf.dispose(other.apply(x) as tf.Tensor);
    expect(maxAbsDiff(cellOf(other).params.W_ih, cell.params.W_ih)).to.be.above(0.01);
    // The layer's cell reads the layer's variables: setWeights reaches it.
    layer.setWeights(layer.getWeights().map((w) => tf.zerosLike(w)));
    expect(maxAbsDiff(cellOf(layer).params.W_ix, tf.zeros([U, I]))).to.equal(0);
    cell.dispose();
    layer.dispose();
    other.dispose();
  });
});

describe('layers: outputs', () => {
  const x = seededTensor([B, T, I], 2);
  after(() => x.dispose());

  for (const kind of KINDS) {
    it(`${kind}: returnSequences and returnState give unroll's outputs and state, eager and symbolic shapes agree`, () => {
      const layer = make(kind, { units: U, returnSequences: true, returnState: true, seed: 1 });
      const out = layer.apply(x) as tf.Tensor[];
      const { outputs, state } = rt.unroll(cellOf(layer), x);
      const states = kind === 'lstm' ? [state.h, state.c as tf.Tensor] : [state.h];
      expect(out.length).to.equal(1 + states.length);
      expect(maxAbsDiff(out[0], outputs)).to.equal(0);
      states.forEach((s, i) => expect(maxAbsDiff(out[i + 1], s)).to.equal(0));
      const symbolic = layer.apply(tf.input({ shape: [T, I] })) as tf.SymbolicTensor[];
      expect(symbolic.map((s) => s.shape)).to.deep.equal(out.map((o) => [null, ...o.shape.slice(1)]));

      const last = make(kind, { units: U, seed: 1 });
      const y = last.apply(x) as tf.Tensor;
      expect(y.shape).to.deep.equal([B, U]);
      expect(maxAbsDiff(y, state.h)).to.equal(0);
      tf.dispose([...out, outputs, ...states, y]);
    });
  }

  it('goBackwards returns the outputs in processing order: the first row is h after x_T', () => {
    const layer = rt.layers.gru({ units: U, returnSequences: true, goBackwards: true, seed: 2 });
    const y = layer.apply(x) as tf.Tensor;
    const { outputs } = rt.unroll(cellOf(layer), x, { reverse: true });
    expect(maxAbsDiff(y, tf.reverse(outputs, 1))).to.equal(0);
    // x_T alone gives the first row.
    const xT = tf.slice(x, [0, T - 1, 0], [-1, 1, -1]);
    expect(maxAbsDiff(tf.slice(y, [0, 0, 0], [-1, 1, -1]), rt.unroll(cellOf(layer), xT).outputs)).to.be.at.most(1e-7);
  });

  it('output: y = g(W_yh h + b_y) on [batch, time, units] and on [batch, units], as the network computes it', () => {
    const layer = rt.layers.output({ units: 3, activation: 'softmax', seed: 1 });
    const h = seededTensor([B, T, U], 5);
    const y = layer.apply(h) as tf.Tensor;
    expect(y.shape).to.deep.equal([B, T, 3]);
    const [W_yh, b_y] = layer.getWeights();
    expect(W_yh.shape).to.deep.equal([3, U]);
    const manual = tf.softmax(tf.add(tf.einsum('btu,ou->bto', h, W_yh), b_y));
    expect(maxAbsDiff(y, manual)).to.be.at.most(1e-6);
    const hLast = tf.slice(h, [0, T - 1, 0], [-1, 1, -1]).reshape([B, U]);
    const yLast = layer.apply(hLast) as tf.Tensor;
    expect(yLast.shape).to.deep.equal([B, 3]);
    expect(maxAbsDiff(yLast, tf.slice(y, [0, T - 1, 0], [-1, 1, -1]))).to.be.at.most(1e-7);
    const net = rt.network({ cell: 'elman', inputSize: I, units: U, outputSize: 3, outputActivation: 'softmax' });
    net.outputParams.W_yh.assign(W_yh);
    net.outputParams.b_y.assign(tf.fill([3], 0.25));
    layer.setWeights([W_yh, tf.fill([3], 0.25)]);
    expect(maxAbsDiff(layer.apply(h) as tf.Tensor, net.output(h))).to.equal(0);
    net.dispose();
  });
});

describe('layers: in models', () => {
  const x = seededTensor([B, T, I], 3);
  after(() => x.dispose());

  it('work in tf.sequential and in tf.model (functional, with returned states)', () => {
    const seq = tf.sequential({
      layers: [
        rt.layers.lstm({ units: U, returnSequences: true, inputShape: [null, I], seed: 1 }),
        rt.layers.gru({ units: U, returnSequences: true, seed: 2 }),
        rt.layers.output({ units: 2, seed: 3 }),
      ],
    });
    expect((seq.predict(x) as tf.Tensor).shape).to.deep.equal([B, T, 2]);

    const input = tf.input({ shape: [null, I] });
    const [sequence, h, c] = rt.layers
      .lstm({ units: U, returnSequences: true, returnState: true, seed: 1 })
      .apply(input) as tf.SymbolicTensor[];
    const y = rt.layers.output({ units: 2, seed: 3 }).apply(sequence) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [y, sequence, h, c] });
    const [py, ps, ph, pc] = model.predict(x) as tf.Tensor[];
    expect([py.shape, ph.shape, pc.shape]).to.deep.equal([
      [B, T, 2],
      [B, U],
      [B, U],
    ]);
    expect(maxAbsDiff(ph, tf.slice(ps, [0, T - 1, 0], [-1, 1, -1]))).to.equal(0);
    seq.dispose();
    model.dispose();
  });

  it('model.fit lowers the loss', async () => {
    const model = tf.sequential({
      layers: [
        rt.layers.gru({ units: 8, returnSequences: true, inputShape: [null, I], seed: 1 }),
        rt.layers.output({ units: 1, seed: 2 }),
      ],
    });
    const y = tf.cumsum(tf.sum(x, -1, true), 1).mul(0.3);
    model.compile({ optimizer: tf.train.adam(0.03), loss: 'meanSquaredError' });
    const loss = (await model.fit(x, y, { epochs: 20, verbose: 0 })).history.loss as number[];
    expect(loss[loss.length - 1]).to.be.below(loss[0] * 0.5);
    y.dispose();
    model.dispose();
  });

  for (const kind of KINDS) {
    it(`${kind} in tf.layers.bidirectional equals a forward pass concatenated with a reversed one`, () => {
      const bi = tf.layers.bidirectional({
        layer: make(kind, { units: U, returnSequences: true, seed: 5 }) as unknown as tf.RNN,
        mergeMode: 'concat',
      });
      const y = bi.apply(x) as tf.Tensor;
      const { forwardLayer, backwardLayer } = bi as unknown as Record<string, rt.layers.RecurrentLayer>;
      expect([forwardLayer.goBackwards, backwardLayer.goBackwards]).to.deep.equal([false, true]);
      const forward = rt.unroll(cellOf(forwardLayer), x).outputs;
      const backward = rt.unroll(cellOf(backwardLayer), x, { reverse: true }).outputs; // input order
      expect(y.shape).to.deep.equal([B, T, 2 * U]);
      expect(maxAbsDiff(y, tf.concat([forward, backward], -1))).to.be.at.most(1e-7);
      // The two directions start from different weights although they share the config's seed.
      expect(maxAbsDiff(forwardLayer.getWeights()[0], backwardLayer.getWeights()[0])).to.be.above(0.01);

      const sum = tf.layers.bidirectional({ layer: make(kind, { units: U }) as unknown as tf.RNN, mergeMode: 'sum' });
      const last = sum.apply(x) as tf.Tensor;
      const parts = sum as unknown as Record<string, rt.layers.RecurrentLayer>;
      const hForward = rt.unroll(cellOf(parts.forwardLayer), x).state.h;
      const hBackward = rt.unroll(cellOf(parts.backwardLayer), x, { reverse: true }).state.h;
      expect(maxAbsDiff(last, tf.add(hForward, hBackward))).to.be.at.most(1e-6);
    });
  }

  it('pass a mask on with returnSequences, through the output layer; masked steps repeat the last real output', () => {
    const keep = tf
      .tensor([
        [1, 1, 1, 0, 0],
        [1, 0, 1, 1, 1],
      ])
      .reshape([B, T, 1]);
    const padded = tf.mul(x, keep);
    const model = tf.sequential({
      layers: [
        tf.layers.masking({ maskValue: 0, inputShape: [T, I] }),
        rt.layers.lstm({ units: U, returnSequences: true, seed: 1 }),
        rt.layers.output({ units: 2, seed: 2 }),
      ],
    });
    const y = (model.predict(padded) as tf.Tensor).arraySync() as number[][][];
    expect(y[0][3]).to.deep.equal(y[0][2]);
    expect(y[0][4]).to.deep.equal(y[0][2]);
    expect(y[1][1]).to.deep.equal(y[1][0]);
    expect(y[1][2]).to.not.deep.equal(y[1][1]);
    const lstm = model.layers[1];
    expect(lstm.computeMask(padded, tf.ones([B, T], 'bool'))).to.be.instanceOf(tf.Tensor);
    const last = rt.layers.lstm({ units: U });
    expect(last.computeMask(padded, tf.ones([B, T], 'bool'))).to.equal(null);
    tf.dispose([keep, padded]);
    model.dispose();
  });
});

describe('layers: stateful', () => {
  const x = seededTensor([B, 2 * T, I], 4);
  const first = tf.slice(x, [0, 0, 0], [-1, T, -1]);
  const second = tf.slice(x, [0, T, 0], [-1, T, -1]);
  after(() => tf.dispose([x, first, second]));

  for (const kind of KINDS) {
    it(`${kind}: carries the state across calls; resetStates() starts again from zeros`, () => {
      const layer = make(kind, {
        units: U,
        returnSequences: true,
        stateful: true,
        batchInputShape: [B, null, I],
        seed: 6,
      });
      const model = tf.sequential({ layers: [layer] });
      const a = model.predict(first) as tf.Tensor;
      const b = model.predict(second) as tf.Tensor;
      const whole = rt.unroll(cellOf(layer), x).outputs;
      expect(maxAbsDiff(tf.concat([a, b], 1), whole)).to.be.at.most(1e-6);
      const [h] = layer.states as tf.Tensor[];
      expect(maxAbsDiff(h, tf.slice(whole, [0, 2 * T - 1, 0], [-1, 1, -1]))).to.be.at.most(1e-6);
      model.resetStates();
      expect(maxAbsDiff(model.predict(first) as tf.Tensor, a)).to.equal(0);
      // resetStates(states) sets the state.
      const given = kind === 'lstm' ? [tf.fill([B, U], 0.5), tf.fill([B, U], -0.5)] : [tf.fill([B, U], 0.5)];
      layer.resetStates(given);
      const initialState = kind === 'lstm' ? { h: given[0], c: given[1] } : { h: given[0] };
      const expected = rt.unroll(cellOf(layer), first, { initialState: initialState as never }).outputs;
      expect(maxAbsDiff(model.predict(first) as tf.Tensor, expected)).to.be.at.most(1e-6);
      model.dispose();
    });
  }

  it('trains with model.fit, and resetStates() frees the states kept for backpropagation', async () => {
    const model = tf.sequential({
      layers: [
        rt.layers.lstm({ units: U, returnSequences: true, stateful: true, batchInputShape: [B, null, I], seed: 1 }),
        rt.layers.output({ units: 1, seed: 2 }),
      ],
    });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const y = tf.zeros([B, T, 1]);
    model.resetStates();
    const before = tf.memory().numTensors;
    const history = await model.fit(first, y, { epochs: 3, batchSize: B, shuffle: false, verbose: 0 });
    expect((history.history.loss as number[]).every(Number.isFinite)).to.equal(true);
    // Each training step keeps the state it started from while its tape may need it; the next
    // step frees it (issue 18: tfjs's own layers keep one per step), so only the last one is left ...
    expect(tf.memory().numTensors).to.equal(before + 2);
    model.resetStates();
    // ... until resetStates() frees it.
    expect(tf.memory().numTensors).to.equal(before);
    y.dispose();
    model.dispose();
  });

  it('refuses a stateful layer without batch size, resetStates on a stateless one, and wrong states', () => {
    expect(() => rt.layers.gru({ units: U, stateful: true }).apply(tf.input({ shape: [T, I] }))).to.throw(
      /stateful layer needs a fixed batch size; give the first layer batchInputShape/,
    );
    const plain = rt.layers.gru({ units: U });
    tf.dispose(plain.apply(first) as tf.Tensor);
    expect(() => plain.resetStates()).to.throw(/resetStates\(\) needs a layer created with stateful: true/);
    const layer = rt.layers.lstm({ units: U, stateful: true, batchInputShape: [B, null, I] });
    tf.sequential({ layers: [layer] });
    expect(() => layer.resetStates([tf.zeros([B, U])])).to.throw(/expected 2 state tensor\(s\) \(h, c\), got 1/);
    expect(() => layer.resetStates([tf.zeros([B, U]), tf.zeros([B + 1, U])])).to.throw(
      /expected states\[1\] of shape \[2, 4\], got \[3, 4\]/,
    );
    expect(() => layer.apply(tf.zeros([B + 1, T, I]))).to.throw(/expected x of shape \[2, time, 3\], got \[3, 5, 3\]/);
  });
});

describe('layers: errors', () => {
  it('refuse bad options with what was expected and what came', () => {
    expect(() => rt.layers.lstm({ units: 0 })).to.throw(/layers.lstm: expected units to be a positive integer, got 0/);
    expect(() => rt.layers.elman({ units: 2, recurrentActivation: 'sigmoid' } as never)).to.throw(
      /layers.elman: unknown option 'recurrentActivation'/,
    );
    expect(() => rt.layers.gru({ units: 2, activation: 'tanhh' })).to.throw(
      /layers.gru: activation: Unknown activation "tanhh": expected one of tanh, relu/,
    );
    expect(() => rt.layers.lstm({ units: 2, recurrentActivation: 'nope' })).to.throw(/recurrentActivation: Unknown/);
    expect(() => rt.layers.gru({ units: 2, resetAfter: 'yes' as never })).to.throw(
      /expected resetAfter to be true or false, got "yes"/,
    );
    expect(() => rt.layers.gru(undefined as never)).to.throw(/expected an options object/);
    expect(() => rt.layers.output({ units: 2, activation: 'nope' })).to.throw(/layers.output: activation: Unknown/);
    expect(() => rt.layers.output({ units: -1 })).to.throw(/expected units to be a positive integer, got -1/);
  });

  it('refuse inputs of the wrong rank or size', () => {
    expect(() => rt.layers.lstm({ units: 2 }).apply(tf.zeros([B, I]))).to.throw(
      /expected input of shape \[batch, time, features\], got \[2, 3\]/,
    );
    const layer = rt.layers.gru({ units: 2 });
    tf.dispose(layer.apply(tf.zeros([B, T, I])) as tf.Tensor);
    expect(() => layer.apply(tf.zeros([B, T, I + 4]))).to.throw(
      /expected x of shape \[batch, time, 3\], got \[2, 5, 7\]/,
    );
    expect(() => layer.apply(tf.zeros([B, T, I]), { initialState: [tf.zeros([B, 2]), tf.zeros([B, 2])] })).to.throw(
      /expected initialState of 1 tensor\(s\) \(h\), got 2/,
    );
    expect(() => rt.layers.output({ units: 2 }).apply(tf.zeros([1, 2, 3, 4]))).to.throw(
      /expected input of shape \[batch, time, units\] or \[batch, units\], got \[1, 2, 3, 4\]/,
    );
    const out = rt.layers.output({ units: 2 });
    tf.dispose(out.apply(tf.zeros([B, U])) as tf.Tensor);
    expect(() => out.apply(tf.zeros([B, U + 1]))).to.throw(
      /expected h of shape \[batch, time, 4\] or \[batch, 4\], got \[2, 5\]/,
    );
  });
});

describe('layers: no tensor leaks', () => {
  it('predict loops keep tf.memory().numTensors flat (plain, stateful, bidirectional, masked)', () => {
    const x = seededTensor([B, T, I], 8);
    const models = [
      tf.sequential({
        layers: [
          rt.layers.lstm({ units: U, returnSequences: true, inputShape: [null, I] }),
          rt.layers.output({ units: 2 }),
        ],
      }),
      tf.sequential({ layers: [rt.layers.gru({ units: U, stateful: true, batchInputShape: [B, null, I] })] }),
      tf.sequential({
        layers: [
          tf.layers.bidirectional({
            layer: rt.layers.elman({ units: U, returnSequences: true }) as unknown as tf.RNN,
            inputShape: [T, I],
          }),
        ],
      }),
      tf.sequential({
        layers: [tf.layers.masking({ inputShape: [T, I] }), rt.layers.gru({ units: U, goBackwards: true })],
      }),
    ];
    for (const model of models) {
      tf.dispose(model.predict(x) as tf.Tensor);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) tf.dispose(model.predict(x) as tf.Tensor);
      expect(tf.memory().numTensors, model.layers.map((l) => l.getClassName()).join('+')).to.equal(before);
      model.dispose();
    }
    x.dispose();
  });

  it('dispose frees the weights and the stored state', () => {
    const x = seededTensor([B, T, I], 9);
    const before = tf.memory().numTensors;
    const model = tf.sequential({
      layers: [rt.layers.lstm({ units: U, stateful: true, batchInputShape: [B, null, I] })],
    });
    tf.dispose(model.predict(x) as tf.Tensor);
    model.dispose();
    expect(tf.memory().numTensors).to.equal(before);
    x.dispose();
  });
});
