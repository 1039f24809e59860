// An independent port of tfjs-layers' own recurrent-layer tests (src/layers/recurrent_test.ts and the
// Bidirectional part of wrappers_test.ts, tensorflow/tfjs at 0fc04d9, Apache-2.0), written here as a
// tfjs user porting a model would run them: every case runs twice, on tfjs's layers (the control)
// and on ours, swapped in by name (SimpleRNN -> layers.elman, lstmCell -> layers.lstmCell, ...).
// The expected numbers are those of the tfjs tests (Keras's). What the port changes, for both:
// - tfjs's LSTM and GRU default to hardSigmoid gates and tfjs's GRU computes resetAfter: false; ours
//   default to sigmoid and resetAfter: true (PyTorch's and Keras 3's), so our layers get
//   `recurrentActivation: 'hardSigmoid'` and `resetAfter: false` unless the case gives them;
// - weights are read in tfjs's layout (`kernel`, `recurrent_kernel`, `bias`), through
//   rt.interop.toKeras for ours (our weights are per symbol: W_ix, ...);
// - the config round trips go through JSON (tfjs's convertTsToPythonic is internal);
// - error messages are matched on what they must name (units, the batch size), not word for word.
// Not ported: tfjs's `rnn()` backend function and its RNN class driven by a test cell (they test tfjs's
// loop, which has no counterpart of ours to swap in), TimeDistributed and the merge-mode validator.
// 136 cases each. tfjs passes all of them; ours fails 9, each a documented difference:
// - the GRU's and LSTM's "trainableWeights ..." cases count tfjs's three fused weights; ours has one
//   per symbol (9 for the GRU, 12 for the LSTM);
// - four dropout cases count tfjs's calls of dropoutFunc, one mask per gate (3 for the GRU, 4 for the
//   LSTM); ours draws one mask for all gates, as Keras 3 (src/layers/dropout.ts);
// - the three cell getConfig cases give a cell dropout, which our cells refuse by name
//   (src/layers/cells.ts: tf.layers.rnn gives a cell no start of sequence to draw its mask at).
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- tfjs's argument types differ per factory; the
   port hands the same options to both */
type Args = Record<string, any>;
type Layer = tf.layers.Layer;

interface Impl {
  name: 'tfjs' | 'ours';
  simpleRNN(args: Args): Layer;
  lstm(args: Args): Layer;
  gru(args: Args): Layer;
  simpleRNNCell(args: Args): tf.layers.RNNCell;
  lstmCell(args: Args): tf.layers.RNNCell;
  gruCell(args: Args): tf.layers.RNNCell;
  /** The weights of a recurrent layer, a Bidirectional or a tf.layers.rnn, in tfjs's layout. */
  kerasWeights(layer: Layer): tf.Tensor[];
}

const gated = (args: Args) => ({ recurrentActivation: 'hardSigmoid', ...args });
const gru = (args: Args) => ({ resetAfter: false, ...gated(args) });

const TFJS: Impl = {
  name: 'tfjs',
  simpleRNN: (a) => tf.layers.simpleRNN(a as any),
  lstm: (a) => tf.layers.lstm(a as any),
  gru: (a) => tf.layers.gru(a as any),
  simpleRNNCell: (a) => tf.layers.simpleRNNCell(a as any) as unknown as tf.layers.RNNCell,
  lstmCell: (a) => tf.layers.lstmCell(a as any) as unknown as tf.layers.RNNCell,
  gruCell: (a) => tf.layers.gruCell(a as any) as unknown as tf.layers.RNNCell,
  kerasWeights: (layer) => layer.getWeights(),
};

const OURS: Impl = {
  name: 'ours',
  simpleRNN: (a) => rt.layers.elman(a as any),
  lstm: (a) => rt.layers.lstm(gated(a) as any),
  gru: (a) => rt.layers.gru(gru(a) as any),
  simpleRNNCell: (a) => rt.layers.elmanCell(a as any),
  lstmCell: (a) => rt.layers.lstmCell(gated(a) as any),
  gruCell: (a) => rt.layers.gruCell(gru(a) as any),
  kerasWeights: function kerasWeights(layer: Layer): tf.Tensor[] {
    const any = layer as any;
    if (layer instanceof rt.layers.RecurrentLayer) return rt.interop.toKeras(layer.cell as rt.cells.Cell);
    if (layer instanceof rt.layers.RecurrentCell) return rt.interop.toKeras(layer.cell as rt.cells.Cell);
    if (any.forwardLayer) return [...kerasWeights(any.forwardLayer), ...kerasWeights(any.backwardLayer)];
    if (any.cell?.cells) return any.cell.cells.flatMap((c: Layer) => kerasWeights(c));
    if (any.cell) return kerasWeights(any.cell);
    return layer.getWeights();
  },
};

/** tfjs's expectTensorsClose: same shape, every entry within 1e-3 (its float32 test epsilon). */
function close(actual: tf.Tensor | number[], expected: tf.Tensor | number[] | number, eps = 1e-3): void {
  const made: tf.Tensor[] = [];
  const a = actual instanceof tf.Tensor ? actual : made[made.push(tf.tensor(actual)) - 1];
  const e =
    expected instanceof tf.Tensor
      ? expected
      : made[made.push(typeof expected === 'number' ? tf.fill(a.shape, expected) : tf.tensor(expected)) - 1];
  const [x, y] = [a.dataSync(), e.dataSync()];
  tf.dispose(made);
  expect(a.shape, 'shape').to.deep.equal(e.shape);
  for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i]), `entry ${i}: ${x[i]} vs ${y[i]}`).to.be.at.most(eps);
}
/** jasmine's toBeCloseTo (two decimals). */
const closeTo = (a: number, b: number) => expect(Math.abs(a - b), `${a} vs ${b}`).to.be.below(0.005);
/** A value filling `shape`. */
const filled = (shape: number[], v: number) => tf.fill(shape, v);
/** A symbolic input of a full batch shape. */
const symbolic = (batchShape: number[]) => tf.input({ batchShape });
const shapes = (out: unknown) => (Array.isArray(out) ? out : [out]).map((t: tf.SymbolicTensor) => t.shape);

/** A dropoutFunc that counts its calls (jasmine's spy in the original). */
function spyDropout() {
  const spy = {
    calls: 0,
    fn: (x: tf.Tensor, level: number, noiseShape?: number[], seed?: number) => {
      spy.calls++;
      return tf.tidy(() => tf.dropout(x, level, noiseShape, seed));
    },
  };
  return spy;
}

/**
 * A case that fails on ours by a documented difference (see the head of this file): on tfjs it runs
 * as written; on ours it must fail, with an error matching `why` (so a change either way is seen).
 */
function differs(impl: Impl, why: RegExp | null, run: () => unknown): () => Promise<void> {
  return async () => {
    if (impl.name === 'tfjs' || why === null) {
      await run();
      return;
    }
    let error: unknown = null;
    try {
      await run();
    } catch (e) {
      error = e;
    }
    expect(error, 'the documented difference').to.be.instanceOf(Error);
    expect((error as Error).message).to.match(why);
  };
}
const differsTitle = (impl: Impl, what: string) => (impl.name === 'ours' ? ` [differs: ${what}]` : '');
const CELL_DROPOUT = /dropout does not apply to a cell/;

const KINDS = ['simpleRNN', 'gru', 'lstm'] as const;
type Kind = (typeof KINDS)[number];
const layerOf = (impl: Impl, kind: Kind, args: Args) => impl[kind](args);

for (const impl of [TFJS, OURS]) {
  describe(`tfjs port (${impl.name}): symbolic shapes, config round trips, units`, () => {
    for (const kind of KINDS) {
      for (const [returnSequences, returnState] of [
        [false, false],
        [false, true],
        [true, false],
        [true, true],
      ]) {
        it(`${kind} symbolic: returnSequences=${returnSequences}, returnState=${returnState}`, () => {
          const out = layerOf(impl, kind, { units: 5, returnSequences, returnState }).apply(symbolic([9, 10, 8]));
          const y = returnSequences ? [9, 10, 5] : [9, 5];
          const states = returnState ? Array.from({ length: kind === 'lstm' ? 2 : 1 }, () => [9, 5]) : [];
          expect(shapes(out)).to.deep.equal([y, ...states]);
        });
      }
      const implementations = kind === 'simpleRNN' ? [undefined] : [1, 2];
      for (const implementation of implementations) {
        it(`${kind}: serialization round trip${implementation ? ` (implementation ${implementation})` : ''}`, () => {
          const layer = layerOf(impl, kind, implementation ? { units: 4, implementation } : { units: 4 });
          const again = layerOf(impl, kind, JSON.parse(JSON.stringify(layer.getConfig())));
          expect(again.getConfig().units).to.equal(4);
          if (implementation) expect(again.getConfig().implementation).to.equal(implementation);
        });
      }
      it(`${kind}: invalid units lead to an error`, () => {
        for (const units of [12.5, 0, -25]) {
          expect(() => layerOf(impl, kind, { units })).to.throw(new RegExp(`units.*positive integer.*${units}`));
        }
      });
    }
    for (const kind of ['gru', 'lstm'] as const) {
      it(
        `${kind}: trainableWeights, nonTrainableWeights and weights (tfjs's three fused weights)${differsTitle(impl, 'weights per symbol')}`,
        differs(impl, /expected (9|12) to equal 3/, () => {
          const layer = layerOf(impl, kind, { units: 5, returnState: true });
          layer.apply(symbolic([2, 3, 4]));
          expect(layer.trainable).to.equal(true);
          expect(layer.trainableWeights.length).to.equal(3);
          expect(layer.nonTrainableWeights.length).to.equal(0);
          expect(layer.weights.length).to.equal(3);
        }),
      );
      for (const recurrentActivation of [undefined, 'tanh']) {
        it(`${kind}-deserialization: ${recurrentActivation ? 'non-default' : 'default'} recurrentActivation round trip`, () => {
          const x = tf.randomNormal([1, 2, 3]);
          const layer = layerOf(impl, kind, recurrentActivation ? { units: 4, recurrentActivation } : { units: 4 });
          const y = layer.apply(x) as tf.Tensor;
          const again = layerOf(impl, kind, JSON.parse(JSON.stringify(layer.getConfig())));
          close(layer.apply(x) as tf.Tensor, y);
          expect(again.getConfig().recurrentActivation).to.equal(layer.getConfig().recurrentActivation);
        });
      }
    }
  });

  describe(`tfjs port (${impl.name}): dropout`, () => {
    const [units, batchSize, inputSize] = [5, 4, 2];
    // Calls of dropoutFunc per apply when it is used: one mask per gate.
    const masks: Record<Kind, number> = { simpleRNN: 1, gru: 3, lstm: 4 };
    for (const kind of KINDS) {
      for (const option of ['dropout', 'recurrentDropout']) {
        for (const training of [true, false]) {
          for (const rate of [0, 0.1]) {
            const perGate = kind !== 'simpleRNN' && training && rate > 0;
            const title = `${kind}: training=${training}, ${option}=${rate}: dropoutFunc calls, no leak`;
            const why = perGate ? /expected 1 to equal [34]/ : null;
            it(
              `${title}${why ? differsTitle(impl, 'one mask for all gates') : ''}`,
              differs(impl, why, () => {
                const spy = spyDropout();
                const layer = layerOf(impl, kind, {
                  units,
                  kernelInitializer: 'ones',
                  recurrentInitializer: 'ones',
                  biasInitializer: 'ones',
                  [option]: rate,
                  dropoutFunc: spy.fn,
                  ...(kind === 'simpleRNN' ? {} : { implementation: 1 }),
                });
                const input = tf.ones([batchSize, kind === 'lstm' ? 2 : 3, inputSize]);
                let numTensors = 0;
                for (let i = 0; i < 2; i++) {
                  tf.dispose(layer.apply(input, training ? { training: true } : {}) as tf.Tensor);
                  expect(spy.calls).to.equal(rate !== 0 && training ? masks[kind] * (i + 1) : 0);
                  if (i === 0) numTensors = tf.memory().numTensors;
                  else expect(tf.memory().numTensors).to.equal(numTensors);
                }
                input.dispose();
              }),
            );
          }
        }
      }
    }
  });

  describe(`tfjs port (${impl.name}): SimpleRNN tensors`, () => {
    const [units, batchSize, inputSize] = [5, 4, 2];
    const ones = { kernelInitializer: 'ones', recurrentInitializer: 'ones' };
    for (const activation of ['linear', 'tanh']) {
      it(`one step, activation=${activation}`, () => {
        const layer = impl.simpleRNN({ units, ...ones, biasInitializer: 'ones', activation });
        const value = activation === 'tanh' ? Math.tanh(inputSize + 1) : inputSize + 1;
        close(layer.apply(tf.ones([batchSize, 1, inputSize])) as tf.Tensor, filled([batchSize, units], value));
      });
    }
    for (const returnState of [false, true]) {
      it(`returnSequences=true, returnState=${returnState}, linear`, () => {
        const layer = impl.simpleRNN({
          units,
          returnSequences: true,
          returnState,
          ...ones,
          biasInitializer: 'ones',
          activation: 'linear',
        });
        const out = layer.apply(tf.ones([batchSize, 2, inputSize])) as tf.Tensor | tf.Tensor[];
        const [y, state] = returnState ? (out as tf.Tensor[]) : [out as tf.Tensor];
        expect(y.shape).to.deep.equal([batchSize, 2, units]);
        close(y.slice([0, 0, 0], [batchSize, 1, units]), filled([batchSize, 1, units], inputSize + 1));
        const last = y.slice([0, 1, 0], [batchSize, 1, units]);
        close(last, filled([batchSize, 1, units], (inputSize + 1) * (units + 1)));
        if (returnState) close(state, last.reshape([batchSize, units]));
      });
      const stateful = { units, ...ones, biasInitializer: 'zeros', activation: 'linear', stateful: true };
      it(`stateful without batchInputShape is an error (${returnState})`, () => {
        const model = tf.sequential();
        expect(() => model.add(impl.simpleRNN({ ...stateful, inputShape: [3, inputSize] }))).to.throw(/batch size/);
      });
      it(`stateful forward: only the RNN layer (${returnState})`, () => {
        const model = tf.sequential({
          layers: [impl.simpleRNN({ ...stateful, batchInputShape: [batchSize, 3, inputSize] })],
        });
        statefulForward(model, tf.ones([batchSize, 3, inputSize]), [batchSize, units], [62, 7812]);
      });
    }
    it('stateful forward: RNN and dense layers, then fit', async () => {
      const model = tf.sequential({
        layers: [
          impl.simpleRNN({
            units,
            ...ones,
            biasInitializer: 'zeros',
            activation: 'linear',
            stateful: true,
            batchInputShape: [batchSize, 3, inputSize],
          }),
          tf.layers.dense({ units: 1, kernelInitializer: 'ones' }),
        ],
      });
      model.compile({ loss: 'meanSquaredError', optimizer: 'sgd' });
      const xs = tf.ones([batchSize, 3, inputSize]);
      statefulForward(model, xs, [batchSize, 1], [310, 39060]);
      const history = await model.fit(xs, tf.ones([batchSize, 1]), { epochs: 1, batchSize: 4 });
      expect(history.history.loss[0]).to.be.at.least(23841822736384);
    });
    for (const [returnSequences, returnState] of [
      [false, false],
      [true, false],
      [true, true],
    ]) {
      it(`computeMask: returnSequences=${returnSequences}, returnState=${returnState}`, () => {
        const layer = impl.simpleRNN({
          units,
          returnSequences,
          returnState,
          stateful: returnState,
          batchInputShape: [batchSize, 3, inputSize],
        });
        const x = tf.ones([batchSize, 3, inputSize]);
        if (returnState) {
          layer.apply(x);
          layer.resetStates();
        }
        const m = tf.ones([3, 1]);
        const mask = layer.computeMask(x, m) as tf.Tensor | tf.Tensor[] | null;
        if (!returnSequences) expect(mask).to.equal(null);
        else if (!returnState) close(mask as tf.Tensor, m);
        else {
          expect((mask as tf.Tensor[]).length).to.equal(2);
          close((mask as tf.Tensor[])[0], m);
          expect((mask as tf.Tensor[])[1]).to.equal(null);
        }
      });
    }
    it('stateful BPTT', async () => {
      const loss = await statefulBptt(
        impl.simpleRNN({
          units,
          ...ones,
          biasInitializer: 'zeros',
          stateful: true,
          batchInputShape: [batchSize, 3, inputSize],
        }),
        'zeros',
        [-1, -2, 0, 1, 1, 2, 0, -1],
      );
      closeTo(loss, 1.5262475);
    });
    it('BPTT', async () => {
      const model = await bptt(impl.simpleRNN({ units: 1, ...ones, useBias: false, inputShape: [3, 4] }), 'ones', 5, 0);
      close(impl.kerasWeights(model.layers[0])[0], filled([4, 1], 0.8484658));
      close(impl.kerasWeights(model.layers[0])[1], filled([1, 1], 0.8484799));
      close(model.layers[1].getWeights()[0], filled([1, 1], 80.967026));
    });
    it(
      `SimpleRNNCell.getConfig and SimpleRNN.getConfig name the options as tfjs does${differsTitle(impl, 'no dropout in a cell')}`,
      differs(impl, CELL_DROPOUT, () => sameConfig(impl, 'simpleRNN', {})),
    );
  });

  describe(`tfjs port (${impl.name}): GRU tensors`, () => {
    const [units, batchSize, inputSize] = [5, 4, 2];
    const golden = [0.22847827, 0.2813754, 0.29444352];
    for (const implementation of [1, 2]) {
      for (const returnState of [false, true]) {
        for (const returnSequences of [false, true]) {
          it(`implementation=${implementation}, returnSequences=${returnSequences}, returnState=${returnState}`, () => {
            const layer = impl.gru({
              units,
              kernelInitializer: 'ones',
              recurrentInitializer: 'ones',
              biasInitializer: 'ones',
              returnState,
              returnSequences,
              implementation,
            });
            const out = layer.apply(tf.zeros([batchSize, 3, inputSize])) as tf.Tensor | tf.Tensor[];
            const final = filled([batchSize, units], golden[2]);
            const expected = returnSequences
              ? tf.stack(
                  golden.map((v) => filled([batchSize, units], v)),
                  1,
                )
              : final;
            if (returnState) {
              expect((out as tf.Tensor[]).length).to.equal(2);
              close((out as tf.Tensor[])[0], expected);
              close((out as tf.Tensor[])[1], final);
            } else close(out as tf.Tensor, expected);
          });
        }
      }
    }
    it('stateful forward', () => {
      const layer = impl.gru({
        units,
        kernelInitializer: 'ones',
        recurrentInitializer: 'zeros',
        biasInitializer: 'zeros',
        activation: 'linear',
        stateful: true,
        batchInputShape: [batchSize, 3, inputSize],
      });
      statefulForward(
        tf.sequential({ layers: [layer] }),
        tf.ones([batchSize, 3, inputSize]),
        [batchSize, units],
        [0.542, 0.9371182],
      );
    });
    it('stateful BPTT', async () => {
      const loss = await statefulBptt(
        impl.gru({
          units,
          kernelInitializer: 'ones',
          recurrentInitializer: 'ones',
          biasInitializer: 'zeros',
          stateful: true,
          batchInputShape: [batchSize, 3, inputSize],
        }),
        'zeros',
        [-1, -2, 0, 1, 1, 2, 0, -1],
      );
      closeTo(loss, 1.501);
    });
    it('BPTT', async () => {
      const model = await bptt(
        impl.gru({
          units: 1,
          kernelInitializer: 'zeros',
          recurrentInitializer: 'zeros',
          useBias: false,
          inputShape: [3, 4],
        }),
        'ones',
        1,
        1,
      );
      close(impl.kerasWeights(model.layers[0])[0], tf.tile(tf.tensor2d([[-0.03750037, 0, 1.7500007]]), [4, 1]));
      close(impl.kerasWeights(model.layers[0])[1], tf.tensor2d([[-1.562513e-2, 0, 2.086183e-7]]));
      close(model.layers[1].getWeights()[0], tf.tensor2d([[1.2187521]]));
    });
    it('SymbolicTensor as initialState through kwargs; save and load', async () => {
      const in1 = tf.input({ shape: [5] });
      const out1 = tf.layers
        .dense({ units: 2, kernelInitializer: 'ones', biasInitializer: 'zeros' })
        .apply(in1) as tf.SymbolicTensor;
      const in2 = tf.input({ shape: [3, 4] });
      const layer = impl.gru({
        units: 2,
        recurrentInitializer: 'ones',
        kernelInitializer: 'ones',
        biasInitializer: 'zeros',
      });
      const out2 = layer.apply(in2, { initialState: out1 }) as tf.SymbolicTensor;
      const model = tf.model({ inputs: [in1, in2], outputs: [out1, out2] });
      const xs1 = tf.tensor2d([[0.1, 0.2, 0.3, 0.4, 0.5]]);
      const xs2 = tf.tensor3d([
        [
          [0.1, 0.2, 0.3, 0.4],
          [-0.1, -0.2, -0.3, -0.4],
          [0.3, 0.4, 0.5, 0.6],
        ],
      ]);
      const ys = model.predict([xs1, xs2]) as tf.Tensor[];
      expect(ys.length).to.equal(2);
      close(ys[0], tf.tensor2d([[1.5, 1.5]]));
      close(ys[1], tf.tensor2d([[1.4435408, 1.4435408]]));
      const again = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as any });
      const ys2 = again.predict([xs1, xs2]) as tf.Tensor[];
      close(ys2[0], ys[0]);
      close(ys2[1], ys[1]);
    });
    it(
      `GRUCell.getConfig and GRU.getConfig name the options as tfjs does${differsTitle(impl, 'no dropout in a cell')}`,
      differs(impl, CELL_DROPOUT, () => sameConfig(impl, 'gru', { recurrentActivation: 'tanh', implementation: 1 })),
    );
  });

  describe(`tfjs port (${impl.name}): LSTM tensors`, () => {
    const [units, batchSize, inputSize] = [5, 4, 2];
    const ones = { kernelInitializer: 'ones', recurrentInitializer: 'ones', biasInitializer: 'ones' };
    for (const implementation of [1, 2]) {
      for (const returnState of [false, true]) {
        for (const returnSequences of [false, true]) {
          it(`implementation=${implementation}, returnSequences=${returnSequences}, returnState=${returnState}`, () => {
            const layer = impl.lstm({ units, ...ones, returnState, returnSequences, implementation });
            const out = layer.apply(tf.ones([batchSize, 2, inputSize])) as tf.Tensor | tf.Tensor[];
            const [t0, t1, c] = [0.7595095, 0.96367633, 1.99505234];
            const expected = returnSequences
              ? tf.stack([filled([batchSize, units], t0), filled([batchSize, units], t1)], 1)
              : filled([batchSize, units], t1);
            if (returnState) {
              const list = out as tf.Tensor[];
              expect(list.length).to.equal(3);
              close(list[0], expected);
              close(list[1], filled([batchSize, units], t1));
              close(list[2], filled([batchSize, units], c));
            } else close(out as tf.Tensor, expected);
          });
        }
      }
      it(`stateful forward (implementation ${implementation})`, () => {
        const layer = impl.lstm({ units, ...ones, stateful: true, batchInputShape: [batchSize, 3, inputSize] });
        statefulForward(
          tf.sequential({ layers: [layer] }),
          tf.ones([batchSize, 3, inputSize]),
          [batchSize, units],
          [0.995, 0.99998766],
        );
      });
      it(`stateful BPTT (implementation ${implementation})`, async () => {
        const loss = await statefulBptt(
          impl.lstm({ units, ...ones, stateful: true, batchInputShape: [batchSize, 3, inputSize] }),
          'ones',
          [1, 2, 3, 4, 5, 6, 7, 8],
        );
        closeTo(loss, 5.8377);
      });
      it(`BPTT (implementation ${implementation})`, async () => {
        const model = await bptt(
          impl.lstm({
            units: 1,
            kernelInitializer: 'zeros',
            recurrentInitializer: 'zeros',
            useBias: false,
            inputShape: [3, 4],
          }),
          'ones',
          1,
          1,
        );
        close(
          impl.kerasWeights(model.layers[0])[0],
          tf.tile(tf.tensor2d([[0.11455188, 0.06545822, 0.8760446, 0.18237013]]), [4, 1]),
        );
        close(impl.kerasWeights(model.layers[0])[1], tf.tensor2d([[0.02831176, 0.01934617, 0.00025817, 0.05784169]]));
        close(model.layers[1].getWeights()[0], tf.tensor2d([[1.4559253]]));
      });
    }
    const embedding = (inputLength: number) =>
      tf.layers.embedding({ inputDim: 10, outputDim: 4, inputLength, maskZero: true, embeddingsInitializer: 'ones' });
    const maskedLstm = (args: Args = {}) =>
      impl.lstm({
        units: 3,
        recurrentInitializer: 'ones',
        kernelInitializer: 'ones',
        biasInitializer: 'zeros',
        ...args,
      });
    const head = () => tf.layers.dense({ units: 1, kernelInitializer: 'ones', biasInitializer: 'zeros' });
    const padded = () =>
      tf.tensor2d([
        [0, 0, 0, 0, 0, 0],
        [1, 0, 0, 0, 0, 0],
        [1, 2, 0, 0, 0, 0],
        [1, 2, 3, 0, 0, 0],
      ]);
    it('with mask', () => {
      const model = tf.sequential({ layers: [embedding(6), maskedLstm(), head()] });
      close(model.predict(padded()) as tf.Tensor, tf.tensor2d([[0], [2.283937], [2.891939], [2.9851441]]));
    });
    it('with mask, goBackwards = true (setWeights in tfjs layout)', () => {
      const emb = tf.layers.embedding({ inputDim: 4, outputDim: 2, inputLength: 3, maskZero: true });
      const lstm = impl.lstm({ units: 2, goBackwards: true });
      const model = tf.sequential({ layers: [emb, lstm, head()] });
      emb.setWeights([
        tf.tensor2d([
          [0.1, 0.2],
          [0.3, 0.4],
          [-0.1, -0.2],
          [-0.3, -0.4],
        ]),
      ]);
      const row = [1, 2, 3, 4, 5, 6, 7, 8];
      lstm.setWeights([
        tf.tensor2d([row, row.map((v) => -v)]),
        tf.tensor2d([row, row.map((v) => -v)]),
        tf.tensor1d(row),
      ]);
      const xs = tf.tensor2d([
        [0, 0, 0],
        [1, 0, 0],
        [1, 2, 0],
        [1, 2, 3],
      ]);
      close(model.predict(xs) as tf.Tensor, tf.tensor2d([[0], [1.2876499], [1.8165315], [1.9599037]]));
    });
    it('with mask and a nested model', () => {
      const nested = tf.sequential({ layers: [embedding(6), maskedLstm()] });
      const model = tf.sequential({
        layers: [tf.layers.reshape({ targetShape: [6], inputShape: [6] }), nested, head()],
      });
      close(model.predict(padded()) as tf.Tensor, tf.tensor2d([[0], [2.283937], [2.891939], [2.9851441]]));
    });
    it('BPTT with mask: correctness and no leak', async () => {
      const model = tf.sequential({ layers: [embedding(6), maskedLstm(), head()] });
      model.compile({ loss: 'meanSquaredError', optimizer: 'sgd' });
      const [xs, ys] = [padded(), tf.tensor2d([[1], [2], [3], [4]])];
      await model.fit(xs, ys, { epochs: 2, batchSize: 4 });
      const before = tf.memory().numTensors;
      const history = await model.fit(xs, ys, { epochs: 2, batchSize: 4 });
      expect(tf.memory().numTensors).to.equal(before);
      expect(history.history.loss.length).to.equal(2);
      closeTo(history.history.loss[0] as number, 0.503677);
      closeTo(history.history.loss[1] as number, 0.492173);
    });
    it('with mask, returnState = true', () => {
      const input = tf.input({ shape: [6] });
      const y = maskedLstm({ returnState: true }).apply(embedding(6).apply(input)) as tf.SymbolicTensor[];
      const ys = tf.model({ inputs: input, outputs: y }).predict(padded()) as tf.Tensor[];
      expect(ys.length).to.equal(3);
      const h = tf.tensor2d([0, 0.76131237, 0.9639796, 0.99504817].map((v) => [v, v, v]));
      close(ys[0], h);
      close(ys[1], h);
      close(ys[2], tf.tensor2d([0, 0.9993292, 1.9993222, 2.9993203].map((v) => [v, v, v])));
    });
    it('with mask, returnSequences = true', () => {
      const model = tf.sequential({ layers: [embedding(3), maskedLstm({ returnSequences: true }), head()] });
      const xs = tf.tensor2d([
        [0, 0, 0],
        [1, 0, 0],
        [1, 2, 0],
        [1, 2, 3],
      ]);
      const [a, b, c] = [2.283937, 2.8919387, 2.9851446];
      close(
        model.predict(xs) as tf.Tensor,
        tf.tensor3d([
          [[0], [0], [0]],
          [[a], [a], [a]],
          [[a], [b], [b]],
          [[a], [b], [c]],
        ]),
      );
    });
    it('stacked RNNs with masking: correctness and no leak', () => {
      const rnn = impl.simpleRNN({
        units: 3,
        returnSequences: true,
        recurrentInitializer: 'ones',
        kernelInitializer: 'ones',
        biasInitializer: 'zeros',
      });
      const model = tf.sequential({ layers: [embedding(3), rnn, maskedLstm()] });
      const xs = tf.tensor2d([
        [0, 0, 0],
        [1, 0, 0],
        [1, 2, 0],
        [1, 2, 3],
      ]);
      tf.dispose(model.predict(xs) as tf.Tensor);
      const before = tf.memory().numTensors;
      const ys = model.predict(xs) as tf.Tensor;
      expect(tf.memory().numTensors).to.equal(before + 1);
      close(ys, tf.tensor2d([0, 0.75950104, 0.96367145, 0.9950049].map((v) => [v, v, v])));
    });
    it('modelFromConfig: a seq2seq model whose decoder starts from the encoder states', async () => {
      const encoderInputs = tf.input({ shape: [null, 71] });
      const [, h, c] = impl.lstm({ units: 16, returnState: true }).apply(encoderInputs) as tf.SymbolicTensor[];
      const decoderInputs = tf.input({ shape: [null, 94] });
      const decoded = impl
        .lstm({ units: 16, returnSequences: true })
        .apply(decoderInputs, { initialState: [h, c] }) as tf.SymbolicTensor;
      const outputs = tf.layers.dense({ units: 94, activation: 'softmax' }).apply(decoded) as tf.SymbolicTensor;
      const built = tf.model({ inputs: [encoderInputs, decoderInputs], outputs });
      const model = await tf.models.modelFromJSON({ modelTopology: built.toJSON(null, false) as any });
      const y = model.predict([tf.zeros([1, 3, 71]), tf.zeros([1, 3, 94])]) as tf.Tensor;
      expect(y.shape).to.deep.equal([1, 3, 94]);
      expect(model.layers.length).to.equal(built.layers.length);
    });
    it('LSTM cells save and load', async () => {
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ units: 1, inputShape: [2, 3] }),
          tf.layers.rnn({ cell: [impl.lstmCell({ units: 3 }), impl.lstmCell({ units: 4 })], returnSequences: true }),
        ],
      });
      const xs = tf.randomNormal([5, 2, 3]);
      const ys = model.predict(xs) as tf.Tensor;
      let saved: tf.io.ModelArtifacts | undefined;
      await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), null as unknown as tf.io.SaveResult)));
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
      expect(loaded.inputs[0].shape).to.deep.equal(model.inputs[0].shape);
      expect(loaded.outputs[0].shape).to.deep.equal(model.outputs[0].shape);
      close(loaded.predict(xs) as tf.Tensor, ys);
    });
    it(
      `LSTMCell.getConfig and LSTM.getConfig name the options as tfjs does${differsTitle(impl, 'no dropout in a cell')}`,
      differs(impl, CELL_DROPOUT, () =>
        sameConfig(impl, 'lstm', { recurrentActivation: 'tanh', implementation: 1, unitForgetBias: true }),
      ),
    );
  });

  describe(`tfjs port (${impl.name}): stacked cells`, () => {
    const input = () => symbolic([16, 10, 7]);
    const cases: [string, (a: Args) => tf.layers.RNNCell, number[][]][] = [
      ['simpleRNNCell', impl.simpleRNNCell, [[7, 3], [3, 3], [3], [3, 2], [2, 2], [2]]],
      ['lstmCell', impl.lstmCell, [[7, 12], [3, 12], [12], [3, 8], [2, 8], [8]]],
      ['gruCell (a cell array)', impl.gruCell, [[7, 9], [3, 9], [9], [3, 6], [2, 6], [6]]],
    ];
    for (const [name, make, kerasShapes] of cases) {
      it(`stackedRNNCells with ${name}: output shape and weights (tfjs layout)`, () => {
        const cells = [
          make({ units: 3, recurrentInitializer: 'glorotNormal' }),
          make({ units: 2, recurrentInitializer: 'glorotNormal' }),
        ];
        const rnn = tf.layers.rnn({ cell: name.includes('array') ? cells : tf.layers.stackedRNNCells({ cells }) });
        expect(shapes(rnn.apply(input()))).to.deep.equal([[16, 2]]);
        expect(rnn.nonTrainableWeights.length).to.equal(0);
        expect(impl.kerasWeights(rnn).map((w) => w.shape)).to.deep.equal(kerasShapes);
      });
    }
    it('stacked RNN serialization', async () => {
      const cells = [5, 6].map((units) =>
        impl.lstmCell({ units, kernelInitializer: 'ones', recurrentInitializer: 'ones' }),
      );
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ units: 1, inputShape: [3, 4], kernelInitializer: 'ones' }),
          tf.layers.rnn({ cell: cells, returnSequences: true }),
        ],
      });
      const xs = tf.ones([1, 3, 4]).mul(0.1);
      const again = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as any });
      close(again.predict(xs) as tf.Tensor, model.predict(xs) as tf.Tensor);
    });
    it('stackedRNNCells forward pass (simpleRNN, GRU, LSTM cells, no bias)', () => {
      const args = { recurrentInitializer: 'ones', kernelInitializer: 'ones', useBias: false };
      const rnn = tf.layers.rnn({
        cell: tf.layers.stackedRNNCells({
          cells: [
            impl.simpleRNNCell({ units: 3, ...args }),
            impl.gruCell({ units: 2, ...args }),
            impl.lstmCell({ units: 1, ...args }),
          ],
        }),
      });
      const input = tf.tensor3d([
        [
          [0.1, -0.1, 0.2, -0.2],
          [-0.1, 0.1, -0.2, 0.2],
          [0.1, 0.1, -0.2, -0.2],
        ],
        [
          [0.05, -0.05, 0.1, -0.1],
          [-0.05, 0.05, -0.1, 0.1],
          [0.05, 0.05, -0.1, -0.1],
        ],
      ]);
      close(rnn.apply(input) as tf.Tensor, tf.tensor2d([[-0.07715216], [-0.05906887]]));
    });
  });

  describe(`tfjs port (${impl.name}): Bidirectional`, () => {
    const bidi = (layer: Layer, args: Args = {}) => tf.layers.bidirectional({ layer: layer as tf.RNN, ...args });
    for (const mergeMode of [null, 'concat', 'ave', 'mul', 'sum']) {
      for (const returnState of [false, true]) {
        it(`symbolic: returnSequences=false, mergeMode=${mergeMode}, returnState=${returnState}`, () => {
          const layer = bidi(impl.simpleRNN({ units: 3, recurrentInitializer: 'glorotNormal', returnState }), {
            mergeMode,
          });
          const out = layer.apply(symbolic([10, 8, 2]));
          expect(layer.trainable).to.equal(true);
          expect(layer.getWeights().length).to.equal(6);
          const y =
            mergeMode === 'concat'
              ? [[10, 6]]
              : mergeMode === null
                ? [
                    [10, 3],
                    [10, 3],
                  ]
                : [[10, 3]];
          expect(shapes(out)).to.deep.equal([
            ...y,
            ...(returnState
              ? [
                  [10, 3],
                  [10, 3],
                ]
              : []),
          ]);
        });
      }
    }
    it('symbolic: returnSequences=true', () => {
      const layer = bidi(
        impl.simpleRNN({ units: 3, recurrentInitializer: 'glorotNormal', returnSequences: true, returnState: true }),
        { mergeMode: 'ave' },
      );
      expect(shapes(layer.apply(symbolic([10, 8, 2])))).to.deep.equal([
        [10, 8, 3],
        [10, 3],
        [10, 3],
      ]);
    });
    it('serialization round trip', async () => {
      const model = tf.sequential({
        layers: [bidi(impl.simpleRNN({ units: 3 }), { mergeMode: 'concat', inputShape: [4, 4] })],
      });
      const again = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as any });
      expect(again.layers[0].getConfig().mergeMode).to.equal('concat');
    });
    it('mergeMode defaults to concat', () => {
      const layer = bidi(impl.simpleRNN({ units: 3 }));
      expect((layer as any).mergeMode).to.equal('concat');
      expect(layer.getConfig().mergeMode).to.equal('concat');
    });
    const x = () =>
      tf.tensor3d([
        [
          [0.05, 0.05],
          [-0.05, -0.05],
          [0.1, 0.1],
          [-0.1, -0.1],
        ],
      ]);
    const simple = (returnState: boolean) =>
      impl.simpleRNN({
        units: 3,
        kernelInitializer: 'ones',
        recurrentInitializer: 'ones',
        useBias: false,
        returnState,
      });
    const [fwd, bwd] = [0.9440416, -0.9842659];
    for (const mergeMode of [null, undefined, 'concat', 'mul']) {
      it(`tensor: no returnState, mergeMode=${mergeMode}`, () => {
        const y = bidi(simple(false), mergeMode === undefined ? {} : { mergeMode }).apply(x()) as
          tf.Tensor | tf.Tensor[];
        if (mergeMode === null) {
          close((y as tf.Tensor[])[0], tf.tensor2d([[fwd, fwd, fwd]]));
          close((y as tf.Tensor[])[1], tf.tensor2d([[bwd, bwd, bwd]]));
        } else if (mergeMode === 'mul') close(y as tf.Tensor, tf.tensor2d([[-0.929188, -0.929188, -0.929188]]));
        else close(y as tf.Tensor, tf.tensor2d([[fwd, fwd, fwd, bwd, bwd, bwd]]));
      });
    }
    it('tensor: returnState', () => {
      const y = bidi(simple(true), { mergeMode: 'ave' }).apply(x()) as tf.Tensor[];
      expect(y.length).to.equal(3);
      close(y[0], tf.tensor2d([[-0.02011216, -0.02011216, -0.02011216]]));
      close(y[1], tf.tensor2d([[fwd, fwd, fwd]]));
      close(y[2], tf.tensor2d([[bwd, bwd, bwd]]));
    });
    for (const [mergeMode, target, before, loss, after] of [
      ['concat', [[0.3, 0.5]], [[0.69299805, 0.66088]], 0.0901649, [[0.6927189, 0.66077083]]],
      ['ave', [[0.4]], [[0.676939]], 0.0766952, [[0.6767467]]],
    ] as const) {
      it(`backwards LSTM: predict and fit: ${mergeMode}`, async () => {
        const lstm = impl.lstm({
          units: 1,
          kernelInitializer: 'ones',
          recurrentInitializer: 'ones',
          biasInitializer: 'ones',
          goBackwards: true,
        });
        const model = tf.sequential({ layers: [bidi(lstm, { inputShape: [2, 2], mergeMode })] });
        model.compile({ loss: 'meanSquaredError', optimizer: 'sgd' });
        const xs = tf.tensor3d([
          [
            [0.1, 0.2],
            [-0.1, 0.1],
          ],
        ]);
        close(model.predict(xs) as tf.Tensor, tf.tensor2d(before as unknown as number[][]));
        const history = await model.fit(xs, tf.tensor2d(target as unknown as number[][]));
        closeTo(history.history.loss[0] as number, loss);
        close(model.predict(xs) as tf.Tensor, tf.tensor2d(after as unknown as number[][]));
      });
    }
    function withInitialState() {
      const states = [tf.input({ shape: [3] }), tf.input({ shape: [3] })];
      const input = tf.input({ shape: [4, 2] });
      const layer = bidi(
        impl.gru({ units: 3, kernelInitializer: 'zeros', recurrentInitializer: 'zeros', biasInitializer: 'ones' }),
        { mergeMode: null },
      );
      const outputs = layer.apply(input, { initialState: states }) as tf.SymbolicTensor[];
      return { layer, states, input, outputs };
    }
    const stateValues = () => [tf.ones([1, 4, 2]), filled([1, 3], -1), tf.ones([1, 3])];
    const expectStates = (y: tf.Tensor[]) => {
      expect(y.length).to.equal(2);
      close(y[0], tf.tensor2d([[0.33863544, 0.33863544, 0.33863544]]));
      close(y[1], tf.tensor2d([[0.8188354, 0.8188354, 0.8188354]]));
    };
    it('with initial state: correct shapes', () => {
      expect(shapes(withInitialState().outputs)).to.deep.equal([
        [null, 3],
        [null, 3],
      ]);
    });
    it('with initial state: apply() with concrete tensors', () => {
      const [xv, s1, s2] = stateValues();
      expectStates(withInitialState().layer.apply(xv, { initialState: [s1, s2] }) as tf.Tensor[]);
    });
    it('with initial state: LayersModel predict', () => {
      const { input, states, outputs } = withInitialState();
      expectStates(tf.model({ inputs: [input, ...states], outputs }).predict(stateValues()) as tf.Tensor[]);
    });
    it('with initial state: LayersModel serialization round trip', async () => {
      const { input, states, outputs } = withInitialState();
      const json = tf.model({ inputs: [input, ...states], outputs }).toJSON(null, false);
      const again = await tf.models.modelFromJSON({ modelTopology: json as any });
      expect(again.toJSON(null, false)).to.deep.equal(json);
    });
    it('with initial state: an odd number of initial-state tensors is an error', () => {
      const layer = bidi(impl.gru({ units: 3 }), { mergeMode: null });
      expect(() => layer.apply(tf.input({ shape: [4, 2] }), { initialState: [tf.input({ shape: [3] })] })).to.throw(
        /the state should be .*RNNs/,
      );
    });
    for (const kind of ['simpleRNN', 'lstm'] as const) {
      const masked = () => {
        const model = tf.sequential({
          layers: [
            tf.layers.embedding({
              inputLength: 2,
              inputDim: 3,
              outputDim: 3,
              embeddingsInitializer: 'ones',
              maskZero: true,
            }),
            bidi(layerOf(impl, kind, { units: 4, kernelInitializer: 'ones', recurrentInitializer: 'ones' })),
            tf.layers.dense({ units: 1, kernelInitializer: 'ones' }),
          ],
        });
        return {
          model,
          xs: tf.tensor2d([
            [0, 1],
            [0, 2],
            [0, 0],
            [1, 2],
          ]),
        };
      };
      it(`with masking: inference, ${kind}`, () => {
        const { model, xs } = masked();
        const expected = kind === 'lstm' ? [6.076076, 6.076076, 0, 7.709405] : [7.960438, 7.960438, 0, 7.9999857];
        close(model.predict(xs) as tf.Tensor, tf.tensor2d(expected, [4, 1]));
      });
      it(`with masking: training, ${kind}`, async () => {
        const { model, xs } = masked();
        model.compile({ loss: 'meanSquaredError', optimizer: 'sgd' });
        const history = await model.fit(xs, tf.zeros([4, 1]), { epochs: 5 });
        const expected =
          kind === 'lstm' ? [33.318, 27.104, 22.058, 17.961, 14.634] : [47.684, 35.741, 26.804, 20.115, 15.108];
        close(history.history.loss as number[], expected);
      });
    }
  });
}

/** Two predictions of a stateful model (the state carried), the same after resetStates(), and no leak. */
function statefulForward(model: tf.LayersModel, x: tf.Tensor, shape: number[], values: [number, number]): void {
  const twice = () => {
    const y1 = model.predict(x) as tf.Tensor;
    close(y1, values[0]);
    const y2 = model.predict(x) as tf.Tensor;
    expect(y1.isDisposed).to.equal(false);
    close(y2, values[1]);
    expect(y2.shape).to.deep.equal(shape);
    tf.dispose([y1, y2]);
  };
  twice();
  model.resetStates();
  const before = tf.memory().numTensors;
  twice();
  expect(tf.memory().numTensors).to.equal(before);
}

/** The first loss of a stateful layer + dense(1, no bias) fitted on two batches of ones, unshuffled. */
async function statefulBptt(layer: Layer, denseInit: string, targets: number[]): Promise<number> {
  const model = tf.sequential({
    layers: [layer, tf.layers.dense({ units: 1, kernelInitializer: denseInit, useBias: false })],
  });
  model.compile({ loss: 'meanSquaredError', optimizer: 'sgd' });
  const history = await model.fit(tf.ones([8, 3, 2]), tf.tensor2d(targets, [8, 1]), { batchSize: 4, shuffle: false });
  return history.history.loss[0] as number;
}

/** Two epochs of SGD on ones (a layer + dense(1, ones, no bias)), as tfjs's BPTT cases. */
async function bptt(layer: Layer, denseInit: string, learningRate: number, target: number): Promise<tf.LayersModel> {
  const model = tf.sequential({
    layers: [layer, tf.layers.dense({ units: 1, kernelInitializer: denseInit, useBias: false })],
  });
  model.compile({ loss: 'meanSquaredError', optimizer: tf.train.sgd(learningRate) });
  await model.fit(tf.ones([5, 3, 4]), filled([5, 1], target), { epochs: 2 });
  return model;
}

/**
 * tfjs's getConfig cases: a cell and a layer given every option report them under tfjs's names and
 * values (the serialized initializers, regularizers and constraints; dropout and recurrentDropout).
 * The expected values are tfjs's own cell's for the same options.
 */
function sameConfig(impl: Impl, kind: Kind, extra: Args): void {
  const args: Args = {
    units: 8,
    activation: 'tanh',
    useBias: true,
    kernelInitializer: 'glorotUniform',
    recurrentInitializer: 'heUniform',
    biasInitializer: 'ones',
    kernelRegularizer: 'l1l2',
    recurrentRegularizer: 'l1l2',
    biasRegularizer: 'l1l2',
    kernelConstraint: 'unitNorm',
    recurrentConstraint: 'unitNorm',
    biasConstraint: 'nonNeg',
    dropout: 0.1,
    recurrentDropout: 0.2,
    name: 'cell_1',
    batchInputShape: [12, 8, 8],
    dtype: 'float32',
    trainable: true,
    ...extra,
  };
  const cellOf = { simpleRNN: 'simpleRNNCell', gru: 'gruCell', lstm: 'lstmCell' } as const;
  const layerArgs = {
    ...args,
    name: 'layer_1',
    returnSequences: true,
    returnState: true,
    stateful: true,
    goBackwards: true,
  };
  const cell = [TFJS[cellOf[kind]](args).getConfig(), impl[cellOf[kind]](args).getConfig()];
  for (const key of Object.keys(args).filter((k) => k !== 'batchInputShape')) {
    expect(cell[1][key], `cell: ${key}`).to.deep.equal(cell[0][key]);
  }
  const layer = [layerOf(TFJS, kind, layerArgs).getConfig(), layerOf(impl, kind, layerArgs).getConfig()];
  for (const key of Object.keys(layerArgs)) expect(layer[1][key], `layer: ${key}`).to.deep.equal(layer[0][key]);
}
