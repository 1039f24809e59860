// The tf.layers drop-in (issue 12): our cells as tf.layers.RNNCells, initialState as tfjs's recurrent
// layers take it (symbolic, concrete, Bidirectional), setWeights in tfjs's layout, summary(), and the
// one-call conversion of a tfjs model. The reference is tfjs's own layers with the same weights.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { expectAbsClose } from './helpers/close.js';

const [B, T, I, U] = [2, 4, 3, 5];
const KINDS = ['elman', 'lstm', 'gru'] as const;
type Kind = (typeof KINDS)[number];
const TOL = 1e-6;

/** Our options computing what tfjs's layer of the kind computes (hardSigmoid gates, resetAfter: false). */
const tfjsForm = (kind: Kind) => ({
  ...(kind === 'elman' ? {} : { recurrentActivation: 'hardSigmoid' }),
  ...(kind === 'gru' ? { resetAfter: false } : {}),
});
const ourCell = (kind: Kind, args: rt.layers.GruCellArgs): rt.layers.RecurrentCell =>
  kind === 'elman' ? rt.layers.elmanCell(args) : kind === 'lstm' ? rt.layers.lstmCell(args) : rt.layers.gruCell(args);
const tfjsCell = (kind: Kind, units: number): tf.layers.RNNCell =>
  (kind === 'elman'
    ? tf.layers.simpleRNNCell({ units })
    : kind === 'lstm'
      ? tf.layers.lstmCell({ units })
      : tf.layers.gruCell({ units })) as unknown as tf.layers.RNNCell;
const ourLayer = (kind: Kind, args: rt.layers.GruLayerArgs): rt.layers.RecurrentLayer =>
  kind === 'elman' ? rt.layers.elman(args) : kind === 'lstm' ? rt.layers.lstm(args) : rt.layers.gru(args);
const tfjsLayer = (kind: Kind, args: { units: number; returnSequences?: boolean; returnState?: boolean }) =>
  kind === 'elman' ? tf.layers.simpleRNN(args) : kind === 'lstm' ? tf.layers.lstm(args) : tf.layers.gru(args);

/** A concrete `apply`, typed as such. */
const run = (layer: tf.layers.Layer, input: tf.Tensor | tf.Tensor[], kwargs?: Record<string, unknown>) =>
  layer.apply(input, kwargs) as tf.Tensor | tf.Tensor[];

/** Runs `f`, disposes what it returns, and checks that no tensor is left behind. */
function noLeak(f: () => unknown): void {
  const before = tf.memory().numTensors;
  tf.dispose(f() as tf.Tensor[]);
  expect(tf.memory().numTensors, 'tensors left').to.equal(before);
}

describe('layers-cells: our cells in tf.layers.rnn', () => {
  const x = tf.randomNormal([B, T, I], 0, 1, 'float32', 1);
  after(() => x.dispose());

  for (const kind of KINDS) {
    it(`${kind}: equals tfjs's cell with the same weights, and our layer`, () => {
      const theirs = tf.layers.rnn({ cell: tfjsCell(kind, U), returnSequences: true });
      const cell = ourCell(kind, { units: U, ...tfjsForm(kind) });
      const ours = tf.layers.rnn({ cell, returnSequences: true });
      expect(cell.stateSize).to.deep.equal(kind === 'lstm' ? [U, U] : U);
      tf.dispose([run(theirs, x), run(ours, x)]);
      cell.setWeights(theirs.getWeights());
      const layer = ourLayer(kind, { units: U, returnSequences: true, ...tfjsForm(kind) });
      tf.dispose(run(layer, x));
      layer.setWeights(ours.getWeights());
      tf.tidy(() => {
        expectAbsClose(ours.apply(x) as tf.Tensor, theirs.apply(x) as tf.Tensor, TOL, 'ours vs tfjs');
        expectAbsClose(layer.apply(x) as tf.Tensor, ours.apply(x) as tf.Tensor, TOL, 'cell vs layer');
      });
      noLeak(() => run(ours, x));
    });
  }

  it('gru: resetAfter true (our default) equals our layer; stacked cells equal stacked layers', () => {
    const cells = [rt.layers.gruCell({ units: U, seed: 1 }), rt.layers.lstmCell({ units: 3, seed: 2 })];
    const stacked = tf.layers.rnn({ cell: cells, returnSequences: true });
    const viaStack = tf.layers.rnn({ cell: tf.layers.stackedRNNCells({ cells: [rt.layers.elmanCell({ units: 2 })] }) });
    const first = rt.layers.gru({ units: U, returnSequences: true });
    const second = rt.layers.lstm({ units: 3, returnSequences: true });
    const y = stacked.apply(x) as tf.Tensor;
    tf.dispose([y, run(viaStack, x), run(first, x)]);
    tf.tidy(() => run(second, tf.zeros([B, T, U])));
    first.setWeights(cells[0].getWeights());
    second.setWeights(cells[1].getWeights());
    tf.tidy(() => expectAbsClose(stacked.apply(x) as tf.Tensor, second.apply(first.apply(x)) as tf.Tensor, TOL));
    expect(stacked.getWeights().length).to.equal(10 + 12);
  });

  it('model.fit: one SGD epoch moves the weights as it moves tfjs cell weights', async () => {
    const y = tf.randomNormal([B, 2], 0, 1, 'float32', 2);
    const models = [tfjsCell('lstm', U), ourCell('lstm', { units: U, ...tfjsForm('lstm') })].map((cell) => {
      const m = tf.sequential({
        layers: [tf.layers.rnn({ cell, inputShape: [T, I] }), tf.layers.dense({ units: 2, kernelInitializer: 'ones' })],
      });
      m.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      return { m, cell };
    });
    (models[1].cell as rt.layers.RecurrentCell).setWeights(models[0].cell.getWeights());
    for (const { m } of models) await m.fit(x, y, { epochs: 2, batchSize: B, verbose: 0, shuffle: false });
    const [theirs, ours] = models.map(({ m }) => m.predict(x) as tf.Tensor);
    expectAbsClose(ours, theirs, 1e-5, 'predictions after fit');
    tf.dispose([theirs, ours, y]);
  });

  it('saves and loads (RecurrentLSTMCell in the topology), stacked too', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.rnn({
          cell: [rt.layers.lstmCell({ units: 3 }), rt.layers.gruCell({ units: 2 })],
          inputShape: [T, I],
        }),
      ],
    });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(
        async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
      ),
    );
    expect(JSON.stringify(saved?.modelTopology)).to.include('RecurrentLSTMCell').and.include('RecurrentGRUCell');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
    tf.tidy(() => expectAbsClose(loaded.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor, 0));
  });

  it('refuses the options of the loop and dropout, by name', () => {
    expect(() => rt.layers.lstmCell({ units: 2, returnSequences: true } as rt.layers.LstmCellArgs)).to.throw(
      /returnSequences does not apply to a cell.*tf\.layers\.rnn/,
    );
    expect(() => rt.layers.gruCell({ units: 2, dropout: 0.5 } as rt.layers.GruCellArgs)).to.throw(
      /dropout does not apply/,
    );
    expect(() => rt.layers.elmanCell({ units: 2, bogus: 1 } as rt.layers.ElmanCellArgs)).to.throw(
      /unknown option 'bogus'/,
    );
  });
});

describe('layers-cells: initialState', () => {
  const xs1 = tf.tensor2d([[0.1, 0.2, 0.3, 0.4, 0.5]]);
  const xs2 = tf.tensor3d([
    [
      [0.1, 0.2, 0.3, 0.4],
      [-0.1, -0.2, -0.3, -0.4],
      [0.3, 0.4, 0.5, 0.6],
    ],
  ]);
  after(() => tf.dispose([xs1, xs2]));

  /** tfjs's recurrent_test case: a dense layer's output as the GRU's initial state (ones weights). */
  function denseIntoGru(gru: tf.layers.Layer): tf.LayersModel {
    const in1 = tf.input({ shape: [5] });
    const out1 = tf.layers.dense({ units: 2, kernelInitializer: 'ones' }).apply(in1) as tf.SymbolicTensor;
    const in2 = tf.input({ shape: [3, 4] });
    const out2 = gru.apply(in2, { initialState: out1 }) as tf.SymbolicTensor;
    gru.setWeights([tf.ones([4, 6]), tf.ones([2, 6]), tf.zeros([6])]);
    return tf.model({ inputs: [in1, in2], outputs: [out1, out2] });
  }

  it("symbolic: a GRU's state from a dense layer gives tfjs's number (1.4435), and survives save/load", async () => {
    const ours = denseIntoGru(rt.layers.gru({ units: 2, ...tfjsForm('gru') }));
    const theirs = denseIntoGru(tf.layers.gru({ units: 2 }));
    expect(ours.layers.length, 'the dense layer is part of the model').to.equal(theirs.layers.length);
    const [, y] = ours.predict([xs1, xs2]) as tf.Tensor[];
    const [, yTfjs] = theirs.predict([xs1, xs2]) as tf.Tensor[];
    expectAbsClose(y, [[1.4435408, 1.4435408]], 1e-6, "tfjs's test value");
    expectAbsClose(y, yTfjs, TOL, 'tfjs');
    const again = await tf.models.modelFromJSON({
      modelTopology: ours.toJSON(null, false) as tf.io.ModelJSON['modelTopology'],
    });
    again.setWeights(ours.getWeights());
    const [, y2] = again.predict([xs1, xs2]) as tf.Tensor[];
    expectAbsClose(y2, y, 0, 'reloaded');
    tf.dispose([y, yTfjs, y2]);
  });

  for (const kind of KINDS) {
    it(`${kind}: concrete through apply and call, [x, ...states] inputs, returnState, no leak`, () => {
      const n = kind === 'lstm' ? 2 : 1;
      const states = Array.from({ length: n }, (_, i) => tf.randomNormal([B, U], 0, 1, 'float32', 10 + i));
      const x = tf.randomNormal([B, T, I], 0, 1, 'float32', 3);
      const theirs = tfjsLayer(kind, { units: U, returnState: true });
      const ours = ourLayer(kind, { units: U, returnState: true, ...tfjsForm(kind) });
      tf.dispose([run(theirs, x), run(ours, x)]);
      ours.setWeights(theirs.getWeights());
      tf.tidy(() => {
        const expected = theirs.apply(x, { initialState: states }) as tf.Tensor[];
        const zeroState = ours.apply(x) as tf.Tensor[];
        for (const got of [
          ours.apply(x, { initialState: states }),
          ours.apply([x, ...states]),
          ours.call(x, { initialState: states }),
        ] as tf.Tensor[][]) {
          got.forEach((t, i) => expectAbsClose(t, expected[i], TOL, `output ${i}`));
        }
        expect(Math.abs(zeroState[0].sub(expected[0]).abs().max().arraySync() as number)).to.be.above(1e-3);
      });
      noLeak(() => ours.apply(x, { initialState: states }));
      expect(() => ours.apply(x, { initialState: [...states, states[0]] })).to.throw(
        /expected initialState of \d tensor/,
      );
      expect(() => ours.apply(x, { initialState: states.map(() => tf.zeros([B + 1, U])) })).to.throw(
        /initialState\[0\] of shape \[2, 5\]/,
      );
      tf.dispose([...states, x]);
    });
  }

  it("tf.layers.bidirectional with symbolic initial states equals tfjs's", () => {
    const x = tf.randomNormal([B, T, I], 0, 1, 'float32', 4);
    const values = [tf.ones([B, U]), tf.fill([B, U], -0.5)];
    const outputs = [tf.layers.gru({ units: U }), rt.layers.gru({ units: U, ...tfjsForm('gru') })].map((layer) => {
      const input = tf.input({ shape: [T, I] });
      const states = [tf.input({ shape: [U] }), tf.input({ shape: [U] })];
      const bi = tf.layers.bidirectional({ layer: layer as tf.RNN, mergeMode: 'concat' });
      const model = tf.model({
        inputs: [input, ...states],
        outputs: bi.apply(input, { initialState: states }) as tf.SymbolicTensor,
      });
      return { model, bi };
    });
    tf.tidy(() => outputs[1].bi.setWeights(outputs[0].bi.getWeights()));
    const [theirs, ours] = outputs.map(({ model }) => model.predict([x, ...values]) as tf.Tensor);
    expectAbsClose(ours, theirs, TOL);
    tf.dispose([theirs, ours, x, ...values]);
  });

  it('refuses initialState given twice or mixing symbolic and concrete', () => {
    const layer = rt.layers.elman({ units: U });
    const x = tf.input({ shape: [T, I] });
    const h = tf.input({ shape: [U] });
    expect(() => layer.apply([x, h], { initialState: [h] })).to.throw(/initialState given twice/);
    expect(() => layer.apply(x, { initialState: [tf.zeros([1, U])] })).to.throw(/all symbolic .* or all tf\.Tensors/);
    expect(() => layer.apply(x, { constants: [h] })).to.throw(/constants are not supported/);
  });
});

describe('layers-cells: setWeights in the tfjs/Keras layout', () => {
  const x = tf.randomNormal([B, T, I], 0, 1, 'float32', 5);
  after(() => x.dispose());

  for (const kind of KINDS) {
    it(`${kind}: setWeights(tfjsLayer.getWeights()) computes what the tfjs layer computes`, () => {
      const theirs = tfjsLayer(kind, { units: U, returnSequences: true });
      const ours = ourLayer(kind, { units: U, returnSequences: true, ...tfjsForm(kind) });
      tf.dispose([run(theirs, x), run(ours, x)]);
      ours.setWeights(theirs.getWeights());
      tf.tidy(() => expectAbsClose(ours.apply(x) as tf.Tensor, theirs.apply(x) as tf.Tensor, TOL));
      expect(() => ours.setWeights(theirs.getWeights().slice(0, 1))).to.throw(/expected \d+ weights .* or Keras's/);
      expect(() => ours.setWeights([tf.zeros([I, U + 1]), tf.zeros([U, U])])).to.throw(/expected kernel of shape/);
      expect(() =>
        ours.setWeights(theirs.getWeights().map((w, i) => (i === 0 ? tf.zeros([I + 1, w.shape[1] as number]) : w))),
      ).to.throw(/expected weight W_\wx of shape \[5, 3\], got \[5, 4\]/);
    });
  }

  it("elman with inputSize === units: our own weights stay ours, a tfjs layer's are read as Keras", () => {
    const square = tf.randomNormal([B, T, U], 0, 1, 'float32', 7);
    const theirs = tf.layers.simpleRNN({ units: U });
    const ours = rt.layers.elman({ units: U });
    const copy = rt.layers.elman({ units: U });
    tf.dispose([run(theirs, square), run(ours, square), run(copy, square)]);
    ours.setWeights(theirs.getWeights());
    copy.setWeights(ours.getWeights());
    tf.tidy(() => {
      expectAbsClose(run(ours, square) as tf.Tensor, run(theirs, square) as tf.Tensor, TOL, 'tfjs layout');
      expectAbsClose(run(copy, square) as tf.Tensor, run(ours, square) as tf.Tensor, 0, 'our layout');
    });
    square.dispose();
  });

  it('gru resetAfter: Keras 3 bias [2, 3U] (toKeras) in; without bias gives zero biases; a bias-less 2-weight list works', () => {
    const a = rt.layers.gru({ units: U, seed: 3, returnSequences: true });
    const b = rt.layers.gru({ units: U, seed: 4, returnSequences: true });
    tf.dispose([run(a, x), run(b, x)]);
    tf.tidy(() => {
      const keras = rt.interop.toKeras(a.cell as rt.cells.Cell);
      expect(keras[2].shape).to.deep.equal([2, 3 * U]);
      b.setWeights(keras);
      expectAbsClose(b.apply(x) as tf.Tensor, a.apply(x) as tf.Tensor, TOL);
      b.setWeights(keras.slice(0, 2));
      for (const [symbol, p] of Object.entries((b.cell as rt.cells.Cell).params)) {
        if (symbol.startsWith('b_')) expect(p.abs().max().arraySync(), symbol).to.equal(0);
      }
      expect(() => b.setWeights([keras[0], keras[1], tf.zeros([3 * U])])).to.throw(
        /bias \(a GRU with resetAfter: true\)/,
      );
    });
  });
});

describe('layers-cells: summary and model conversion', () => {
  it("summary() shows our layers' type in full", () => {
    const lines: string[] = [];
    const model = tf.sequential({
      layers: [
        rt.layers.lstm({ units: 4, returnSequences: true, inputShape: [T, I] }),
        rt.layers.gru({ units: 2, returnSequences: true }),
        rt.layers.elman({ units: 2 }),
      ],
    });
    model.summary(undefined, undefined, (line: string) => lines.push(line));
    for (const cls of ['RecurrentLSTM', 'RecurrentGRU', 'RecurrentElman']) {
      expect(lines.join('\n')).to.match(new RegExp(`^\\w+ \\(${cls}\\) `, 'm'));
    }
  });

  it('fromTfjsModel / toTfjsModel: SimpleRNN, LSTM, GRU (also in Bidirectional) to ours and back, same numbers', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.bidirectional({
          layer: tf.layers.gru({ units: 3, returnSequences: true }) as tf.RNN,
          inputShape: [T, I],
        }),
        tf.layers.simpleRNN({ units: 3, returnSequences: true, dropout: 0.1, useBias: false }),
        tf.layers.lstm({ units: 2 }),
        tf.layers.dense({ units: 1 }),
      ],
    });
    const ours = await rt.interop.fromTfjsModel(model);
    const classes = ours.layers.map((l) => l.getClassName());
    expect(classes).to.deep.equal(['Bidirectional', 'RecurrentElman', 'RecurrentLSTM', 'Dense']);
    const inner = (ours.layers[0] as unknown as { forwardLayer: tf.layers.Layer }).forwardLayer;
    expect(inner.getClassName()).to.equal('RecurrentGRU');
    const back = await rt.interop.toTfjsModel(ours);
    expect(back.layers.map((l) => l.getClassName())).to.deep.equal(['Bidirectional', 'SimpleRNN', 'LSTM', 'Dense']);
    const x = tf.randomNormal([B, T, I], 0, 1, 'float32', 6);
    tf.tidy(() => {
      const y = model.predict(x) as tf.Tensor;
      expectAbsClose(ours.predict(x) as tf.Tensor, y, TOL, 'ours');
      expectAbsClose(back.predict(x) as tf.Tensor, y, TOL, 'back');
    });
    x.dispose();
  });

  it('fromTfjsModel: a nested model and a timeDistributed wrapper too', async () => {
    const nested = tf.sequential({ layers: [tf.layers.lstm({ units: 3, returnSequences: true, inputShape: [T, I] })] });
    const input = tf.input({ shape: [T, I] });
    const wrapped = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) }).apply(nested.apply(input));
    const model = tf.model({ inputs: input, outputs: tf.layers.gru({ units: 2 }).apply(wrapped) as tf.SymbolicTensor });
    const ours = await rt.interop.fromTfjsModel(model);
    expect((ours.layers[1] as tf.LayersModel).layers[0].getClassName()).to.equal('RecurrentLSTM');
    expect(ours.layers[3].getClassName()).to.equal('RecurrentGRU');
    const x = tf.randomNormal([B, T, I], 0, 1, 'float32', 8);
    tf.tidy(() => expectAbsClose(ours.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor, TOL));
    x.dispose();
  });

  it('toTfjsModel refuses what tfjs cannot compute, naming the layer', async () => {
    const model = tf.sequential({ layers: [rt.layers.gru({ units: 2, inputShape: [T, I], name: 'mine' })] });
    let error: Error | undefined;
    await rt.interop.toTfjsModel(model).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/layer 'mine': a GRU with resetAfter: true has no equal in tfjs/);
  });
});
