// Issue 12: tfjs's options of the recurrent layers on ours (src/layers/options.ts, dropout.ts), in
// model.fit and rt.train, against tfjs's own SimpleRNN/LSTM/GRU with the same weights copied: useBias,
// initializers (seeded tfjs initializers give tfjs's numbers), regularizers (equal total losses),
// constraints (tfjs's constraint on the fused weights after the same step), dropout with a fixed
// dropoutFunc mask; the plain and fast paths under the same masks; the options that change nothing;
// refusals; leaks.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import type { Cell, CellKind } from '../src/cells/cell.js';
import { fastPathFactory, fastPathFor, registerFastPath } from '../src/fast/index.js';
import { describeOnBackends } from './helpers/backends.js';
import { expectAbsClose } from './helpers/close.js';

type Kind = 'elman' | 'lstm' | 'gru';
const G: Record<Kind, number> = { elman: 1, lstm: 4, gru: 3 };
const GATES: Record<Kind, string[]> = { elman: ['h'], lstm: ['i', 'f', 'g', 'o'], gru: ['z', 'r', 'n'] };
const [B, T, F, U] = [3, 4, 5, 2];

/** tfjs's own layer of a kind (sigmoid gates, as ours). */
function tfjsLayer(kind: Kind, args: Record<string, unknown>): tf.layers.Layer {
  const a = { units: U, inputShape: [T, F], ...args } as never;
  if (kind === 'elman') return tf.layers.simpleRNN(a);
  const gated = { recurrentActivation: 'sigmoid', ...(args as object) };
  return kind === 'lstm'
    ? tf.layers.lstm({ units: U, inputShape: [T, F], ...gated } as never)
    : tf.layers.gru({ units: U, inputShape: [T, F], ...gated } as never);
}

/** Ours, in the form tfjs's has (a GRU with resetAfter: false). */
function ourLayer(kind: Kind, args: Record<string, unknown>): rt.layers.RecurrentLayer {
  const a = { units: U, inputShape: [T, F], ...args } as never;
  if (kind === 'elman') return rt.layers.elman(a);
  if (kind === 'lstm') return rt.layers.lstm(a);
  return rt.layers.gru({ resetAfter: false, ...(a as object) } as never);
}

const symbolOf = (w: tf.LayerVariable) => w.originalName.split('/').pop()!;

/** tfjs's fused weights `[kernel, recurrent_kernel, (bias)]` as our layer's per-symbol weights, in its order. */
function toOurs(kind: Kind, layer: tf.layers.Layer, fused: tf.Tensor[]): tf.Tensor[] {
  const [kernel, recurrent, bias] = fused;
  const blocks = (m: tf.Tensor) => tf.split(m, G[kind], m.rank - 1);
  const values: Record<string, tf.Tensor> = {};
  GATES[kind].forEach((k, i) => {
    values[`W_${k}x`] = tf.transpose(blocks(kernel)[i]);
    values[`W_${k}h`] = tf.transpose(blocks(recurrent)[i]);
    if (bias) values[`b_${k}`] = blocks(bias)[i];
  });
  return layer.weights.map((w) => values[symbolOf(w)]);
}

/** Our layer's weights as tfjs's fused `[kernel, recurrent_kernel, (bias)]`. */
function fusedOf(kind: Kind, layer: tf.layers.Layer): tf.Tensor[] {
  const byName = Object.fromEntries(layer.weights.map((w) => [symbolOf(w), w.read()]));
  const stackT = (s: string) => tf.transpose(tf.concat(GATES[kind].map((k) => byName[s.replace('k', k)])));
  const out = [stackT('W_kx'), stackT('W_kh')];
  if (byName[`b_${GATES[kind][0]}`]) out.push(tf.concat(GATES[kind].map((k) => byName[`b_${k}`])));
  return out;
}

/** A model of `layer` and a Dense head, both tfjs and ours sharing the head's weights. */
function pair(kind: Kind, given: Record<string, unknown>) {
  // Seeded, so that every run starts from the same weights.
  const seeded = () => ({
    kernelInitializer: tf.initializers.glorotUniform({ seed: 21 }),
    recurrentInitializer: tf.initializers.orthogonal({ seed: 22 }),
  });
  const tfl = tfjsLayer(kind, { ...seeded(), ...given });
  const our = ourLayer(kind, { ...seeded(), ...given });
  const theirs = tf.sequential({ layers: [tfl, tf.layers.dense({ units: 2, kernelInitializer: 'ones' })] });
  const ours = tf.sequential({ layers: [our, tf.layers.dense({ units: 2, kernelInitializer: 'ones' })] });
  our.setWeights(toOurs(kind, our, tfl.getWeights()));
  return { tfl, our, theirs, ours };
}

const data = () => ({
  x: tf.randomNormal([B, T, F], 0, 1, 'float32', 7),
  y: tf.randomNormal([B, 2], 0, 1, 'float32', 8),
});

async function fitOnce(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, lr = 0.5): Promise<number> {
  model.compile({ optimizer: tf.train.sgd(lr), loss: 'meanSquaredError' });
  const h = await model.fit(x, y, { epochs: 1, batchSize: B, shuffle: false, verbose: 0 });
  return h.history.loss[0] as number;
}

async function trainOnce(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, lr = 0.5): Promise<number> {
  const optimizer = tf.train.sgd(lr);
  const h = await rt.train(
    model,
    { x, y },
    { loss: 'mse', optimizer, epochs: 1, batchSize: B, shuffle: false, progress: false },
  );
  optimizer.dispose();
  return h.history.loss[0];
}

const KINDS: Kind[] = ['elman', 'lstm', 'gru'];

describe('layers: tfjs options (issue 12)', () => {
  before(() => tf.setBackend('cpu'));

  describe('useBias: false', () => {
    for (const kind of KINDS) {
      it(`${kind}: no bias parameters; tfjs's numbers in predict, model.fit and rt.train (1e-6)`, async () => {
        const { x, y } = data();
        for (const step of [fitOnce, trainOnce]) {
          const { tfl, our, theirs, ours } = pair(kind, { useBias: false });
          expect(our.weights.map(symbolOf).some((s) => s.startsWith('b_'))).to.equal(false);
          expect(our.cell!.config.useBias).to.equal(false);
          expectAbsClose(ours.predict(x) as tf.Tensor, theirs.predict(x) as tf.Tensor, 1e-6, 'predict');
          const l0 = await fitOnce(theirs, x, y);
          const l1 = await step(ours, x, y);
          expect(Math.abs(l0 - l1), `${step.name} loss`).to.be.below(1e-6);
          fusedOf(kind, our).forEach((w, i) =>
            expectAbsClose(w, tfl.getWeights()[i], 1e-6, `${step.name} weight ${i}`),
          );
          theirs.dispose();
          ours.dispose();
        }
      });
    }

    it('rt.cells and rt.network take it; the network saves and loads without biases', async () => {
      const cell = rt.cells.gru({ inputSize: 3, units: 2, useBias: false, seed: 1 });
      expect(Object.keys(cell.params).sort()).to.deep.equal(['W_nh', 'W_nx', 'W_rh', 'W_rx', 'W_zh', 'W_zx']);
      cell.dispose();
      const net = rt.network({ cell: 'lstm', inputSize: 3, units: 2, outputSize: 1, useBias: false, seed: 2 });
      expect(Object.keys(net.params).filter((k) => k.startsWith('b_'))).to.deep.equal(['b_y']);
      let saved: tf.io.ModelArtifacts | undefined;
      await net.save(
        tf.io.withSaveHandler(
          async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
        ),
      );
      const back = await rt.loadNetwork(tf.io.fromMemory(saved!));
      const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 3);
      expectAbsClose(back.apply(x).y, net.apply(x).y, 0, 'loaded network');
      expect(() => rt.network({ cell, outputSize: 1, useBias: false } as never)).to.throw(/useBias/);
      net.dispose();
      back.dispose();
    });
  });

  describe('initializers', () => {
    it("seeded tfjs initializers give tfjs's weights (LSTM with unitForgetBias, GRU, SimpleRNN)", () => {
      for (const kind of KINDS) {
        const args = () => ({
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
          recurrentInitializer: tf.initializers.orthogonal({ seed: 2 }),
          biasInitializer: tf.initializers.randomNormal({ seed: 3 }),
          ...(kind === 'lstm' && { unitForgetBias: true }),
        });
        const tfl = tfjsLayer(kind, args());
        const our = ourLayer(kind, args());
        tf.sequential({ layers: [tfl] });
        tf.sequential({ layers: [our] });
        fusedOf(kind, our).forEach((w, i) => expectAbsClose(w, tfl.getWeights()[i], 1e-6, `${kind} weight ${i}`));
        // The fused recurrent kernel [U, G*U] has orthonormal rows, as tfjs's.
        const R = fusedOf(kind, our)[1];
        expectAbsClose(tf.matMul(R, R, false, true), tf.eye(U), 1e-5, `${kind} R R^T`);
      }
    });

    it('by name and by { className, config }; unitForgetBias false gives b_f = 0, the default 1', () => {
      const ones = ourLayer('lstm', {
        kernelInitializer: 'ones',
        biasInitializer: { className: 'Constant', config: { value: 0.5 } },
        unitForgetBias: false,
      });
      tf.sequential({ layers: [ones] });
      const [kernel, , bias] = fusedOf('lstm', ones);
      expectAbsClose(kernel, tf.onesLike(kernel), 0, 'kernel');
      expectAbsClose(bias, tf.fill([4 * U], 0.5), 0, 'bias');
      const plain = ourLayer('lstm', { unitForgetBias: false, seed: 1 });
      const dflt = ourLayer('lstm', { seed: 1 });
      tf.sequential({ layers: [plain] });
      tf.sequential({ layers: [dflt] });
      expectAbsClose(plain.cell!.params.b_f, tf.zeros([U]), 0, 'b_f without unitForgetBias');
      expectAbsClose(dflt.cell!.params.b_f, tf.ones([U]), 0, 'b_f by default');
    });
  });

  describe('regularizers', () => {
    for (const kind of KINDS) {
      it(`${kind}: the total loss of tfjs's layer in model.fit and rt.train`, async () => {
        const { x, y } = data();
        const reg = () => ({
          kernelRegularizer: tf.regularizers.l1l2({ l1: 0.01, l2: 0.02 }),
          recurrentRegularizer: 'l1l2',
          biasRegularizer: tf.regularizers.l2({ l2: 0.3 }),
          biasInitializer: 'ones',
        });
        for (const step of [fitOnce, trainOnce]) {
          const { tfl, theirs, ours } = pair(kind, reg());
          // tfjs's model.fit leaves out its recurrent layers' penalties (they are its cell's losses,
          // which its RNN layer does not report): add what tfjs's cell computes, as Keras does.
          const cellLosses = (tfl as unknown as { cell: tf.layers.Layer }).cell.calculateLosses();
          expect(cellLosses).to.have.length(3);
          const expected = (await fitOnce(theirs, x, y, 0)) + tf.sum(tf.stack(cellLosses)).dataSync()[0];
          expect(Math.abs((await step(ours, x, y, 0)) - expected), step.name).to.be.below(1e-6);
          theirs.dispose();
          ours.dispose();
        }
      });
    }

    it('activityRegularizer: the mean squared error plus each output penalty over the batch (tf.keras 2), fit and rt.train', async () => {
      const { x, y } = data();
      const activity = tf.regularizers.l2({ l2: 0.5 });
      for (const step of [fitOnce, trainOnce]) {
        const { ours } = pair('lstm', { activityRegularizer: activity, returnState: false });
        const layer = ours.layers[0];
        const expected = tf.tidy(() => {
          const h = layer.apply(x) as tf.Tensor;
          const mse = tf.losses.meanSquaredError(y, ours.layers[1].apply(h) as tf.Tensor);
          return tf.add(mse, tf.div(activity.apply(h), B)).dataSync()[0];
        });
        expect(Math.abs((await step(ours, x, y, 0)) - expected), step.name).to.be.below(1e-6);
        ours.dispose();
      }
    });
  });

  it("inside tf.layers.bidirectional: the reverse copy keeps the options; rt.train adds both directions' penalties", async () => {
    const { x, y } = data();
    const args = {
      kernelRegularizer: tf.regularizers.l2({ l2: 0.1 }),
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    };
    const inner = ourLayer('lstm', { ...args, recurrentDropout: 0.3 });
    const bi = tf.layers.bidirectional({ layer: inner as never, inputShape: [T, F] } as never);
    const model = tf.sequential({ layers: [bi, tf.layers.dense({ units: 2, kernelInitializer: 'ones' })] });
    // tfjs's Bidirectional builds both directions from the layer's config.
    const built = bi as unknown as Record<'forwardLayer' | 'backwardLayer', rt.layers.RecurrentLayer>;
    expect(built.backwardLayer.options.recurrentDropout).to.equal(0.3);
    const [fw, bw] = [built.forwardLayer.cell!.params.W_ix, built.backwardLayer.cell!.params.W_ix];
    expectAbsClose(bw, fw, 0, 'the same seeded initializer');
    const plain = tf.sequential({
      layers: [
        tf.layers.bidirectional({ layer: ourLayer('lstm', args) as never, inputShape: [T, F] } as never),
        tf.layers.dense({ units: 2, kernelInitializer: 'ones' }),
      ],
    });
    const layers = plain.layers[0] as unknown as { forwardLayer: tf.layers.Layer; backwardLayer: tf.layers.Layer };
    const penalty = tf
      .sum(tf.stack([...layers.forwardLayer.calculateLosses(), ...layers.backwardLayer.calculateLosses()]))
      .dataSync()[0];
    expect(penalty).to.be.above(0);
    // tfjs's model.fit leaves a wrapped layer's losses out (its Bidirectional reports none); rt.train adds them.
    const fitted = await fitOnce(plain, x, y, 0);
    expect(Math.abs((await trainOnce(plain, x, y, 0)) - (fitted + penalty))).to.be.below(1e-6);
    model.dispose();
    plain.dispose();
  });

  describe('constraints', () => {
    for (const kind of KINDS) {
      it(`${kind}: tfjs's constraints on the fused weights after one step of model.fit and of rt.train`, async () => {
        const { x, y } = data();
        const constraints = {
          kernelConstraint: tf.constraints.maxNorm({ maxValue: 0.3, axis: 0 }),
          recurrentConstraint: tf.constraints.unitNorm({ axis: 1 }), // a row spans every gate
          biasConstraint: tf.constraints.nonNeg(),
        };
        for (const step of [fitOnce, trainOnce]) {
          const { tfl, our, theirs, ours } = pair(kind, { ...constraints, biasInitializer: 'ones' });
          // Start both from weights that satisfy the constraints (ours project on every write).
          const projections = [
            constraints.kernelConstraint,
            constraints.recurrentConstraint,
            constraints.biasConstraint,
          ];
          tfl.setWeights(tfl.getWeights().map((w, i) => projections[i].apply(w)));
          our.setWeights(toOurs(kind, our, tfl.getWeights()));
          await fitOnce(theirs, x, y, 2);
          await step(ours, x, y, 2);
          // tfjs's own model.fit applies no constraint: project its weights the way Keras would.
          const [k, r, b] = tfl.getWeights();
          const expected = [
            constraints.kernelConstraint.apply(k),
            constraints.recurrentConstraint.apply(r),
            constraints.biasConstraint.apply(b),
          ];
          fusedOf(kind, our).forEach((w, i) => expectAbsClose(w, expected[i], 1e-6, `${step.name} weight ${i}`));
          theirs.dispose();
          ours.dispose();
        }
      });
    }
  });

  describe('dropout', () => {
    /** A dropoutFunc that returns fixed masks, by the shape asked for (tfjs calls it with ones). */
    const fixed = () => {
      const mx = tf.keep(
        tf.tensor2d([
          [2, 0, 2, 2, 0],
          [0, 2, 2, 0, 2],
          [2, 2, 0, 2, 2],
        ]),
      );
      const mh = tf.keep(
        tf.tensor2d([
          [2, 0],
          [0, 2],
          [2, 2],
        ]),
      );
      return { dropoutFunc: (ones: tf.Tensor) => (ones.shape[1] === F ? mx : mh), masks: [mx, mh] };
    };

    for (const kind of KINDS) {
      // tfjs's GRU carries h_{t-1} ⊙ m to the next step (Keras carries h_{t-1}): compared on input dropout only.
      const rates = kind === 'gru' ? { dropout: 0.5 } : { dropout: 0.5, recurrentDropout: 0.5 };
      it(`${kind}: tfjs's numbers with the same fixed masks (${Object.keys(rates).join(', ')}), training forward and one fit step`, async () => {
        const { x, y } = data();
        const { dropoutFunc, masks } = fixed();
        const { tfl, our, theirs, ours } = pair(kind, { ...rates, dropoutFunc });
        expectAbsClose(
          our.apply(x, { training: true }) as tf.Tensor,
          tfl.apply(x, { training: true }) as tf.Tensor,
          1e-6,
          'training',
        );
        await fitOnce(theirs, x, y);
        await fitOnce(ours, x, y);
        fusedOf(kind, our).forEach((w, i) => expectAbsClose(w, tfl.getWeights()[i], 1e-6, `weight ${i}`));
        theirs.dispose();
        ours.dispose();
        tf.dispose(masks);
      });
    }

    it('inference ignores dropout; dropout 0 equals no dropout; seeded masks repeat, calls differ', () => {
      const { x } = data();
      const dropped = ourLayer('lstm', { dropout: 0.5, recurrentDropout: 0.4, seed: 3 });
      const none = ourLayer('lstm', { dropout: 0, recurrentDropout: 0, seed: 3 });
      const twin = ourLayer('lstm', { dropout: 0.5, recurrentDropout: 0.4, seed: 3 });
      [dropped, none, twin].forEach((l) => tf.sequential({ layers: [l] }));
      expectAbsClose(dropped.apply(x) as tf.Tensor, none.apply(x, { training: true }) as tf.Tensor, 0, 'inference');
      const first = dropped.apply(x, { training: true }) as tf.Tensor;
      expectAbsClose(twin.apply(x, { training: true }) as tf.Tensor, first, 0, 'same seed, same call');
      const second = dropped.apply(x, { training: true }) as tf.Tensor;
      expect(tf.max(tf.abs(tf.sub(second, first))).dataSync()[0], 'next call, new masks').to.be.above(1e-3);
      expect(tf.max(tf.abs(tf.sub(first, none.apply(x) as tf.Tensor))).dataSync()[0], 'masks act').to.be.above(1e-3);
    });

    it('model.fit and rt.train draw the same seeded masks: the same weights after one step', async () => {
      const { x, y } = data();
      const layers = [0, 1].map(() => ourLayer('gru', { dropout: 0.3, recurrentDropout: 0.3, seed: 5 }));
      const models = layers.map((l) =>
        tf.sequential({ layers: [l, tf.layers.dense({ units: 2, kernelInitializer: 'ones' })] }),
      );
      await fitOnce(models[0], x, y);
      await trainOnce(models[1], x, y);
      const [a, b] = layers.map((l) => l.getWeights());
      a.forEach((w, i) => expectAbsClose(w, b[i], 1e-6, `weight ${i}`));
      const none = ourLayer('gru', { seed: 5 });
      tf.sequential({ layers: [none, tf.layers.dense({ units: 2, kernelInitializer: 'ones' })] });
      expect(
        tf.max(tf.abs(tf.sub(none.getWeights()[0], a[0]))).dataSync()[0],
        'the step moved the weights',
      ).to.be.above(1e-4);
      models.forEach((m) => m.dispose());
    });
  });

  describe('options that change nothing, the input shape, refusals', () => {
    it('implementation and unroll are accepted and change nothing; inputDim/inputLength set batchInputShape', () => {
      const { x } = data();
      const a = ourLayer('lstm', { seed: 1 });
      const b = ourLayer('lstm', { seed: 1, implementation: 1, unroll: true });
      const c = rt.layers.gru({ units: U, inputDim: F, inputLength: T, implementation: 2, seed: 1 });
      [a, b].forEach((l) => tf.sequential({ layers: [l] }));
      const m = tf.sequential({ layers: [c] });
      expectAbsClose(b.apply(x) as tf.Tensor, a.apply(x) as tf.Tensor, 0, 'implementation, unroll');
      expect(m.inputs[0].shape).to.deep.equal([null, T, F]);
      expect(() => rt.layers.gru({ units: U, inputDim: 4, inputShape: [T, F] } as never)).to.throw(
        /inputDim 4.*disagree/,
      );
    });

    it('refuses what it cannot honour, naming the option', () => {
      const refused: [Record<string, unknown>, RegExp][] = [
        [{ dropout: 1 }, /dropout to be a number in \[0, 1\), got 1/],
        [{ recurrentDropout: -0.1 }, /recurrentDropout/],
        [{ dropoutFunc: 'half' }, /dropoutFunc to be a function/],
        [{ kernelInitializer: 'nope' }, /kernelInitializer: Unknown initializer: nope/],
        [{ biasConstraint: 5 }, /biasConstraint/],
        [{ recurrentRegularizer: 'l3' }, /recurrentRegularizer/],
        [{ implementation: 3 }, /implementation/],
        [{ useBias: 'no' }, /useBias/],
      ];
      for (const [args, message] of refused)
        expect(() => ourLayer('gru', args), JSON.stringify(args)).to.throw(message);
      expect(() => rt.layers.elman({ units: 2, unitForgetBias: true } as never)).to.throw(
        /unknown option 'unitForgetBias'/,
      );
      const bad = ourLayer('elman', { dropout: 0.5, dropoutFunc: () => tf.ones([1, 1]) });
      tf.sequential({ layers: [bad] });
      expect(() => bad.apply(data().x, { training: true })).to.throw(/dropoutFunc's dropout mask of shape/);
    });

    it('saves and loads with its options (tfjs serialises initializers, regularizers, constraints)', async () => {
      const args = {
        kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
        kernelRegularizer: tf.regularizers.l2({ l2: 0.1 }),
        recurrentConstraint: tf.constraints.maxNorm({ maxValue: 1 }),
        dropout: 0.2,
        useBias: false,
        unitForgetBias: false,
      };
      const model = tf.sequential({ layers: [ourLayer('lstm', args)] });
      let saved: tf.io.ModelArtifacts | undefined;
      await model.save(
        tf.io.withSaveHandler(
          async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
        ),
      );
      const back = await tf.loadLayersModel(tf.io.fromMemory(saved!));
      const config = back.layers[0].getConfig();
      expect(config).to.include({ useBias: false, dropout: 0.2, unitForgetBias: false });
      expect((config.recurrentConstraint as { className: string }).className).to.equal('MaxNorm');
      const { x } = data();
      // The loaded weights pass through the constraint again (a projection: changes at rounding level).
      expectAbsClose(back.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor, 1e-6, 'loaded');
      expect(back.calculateLosses().length).to.equal(1);
      model.dispose();
      back.dispose();
    });
  });

  it('the GRU with resetAfter: false (the only GRU of tfjs) trains on its fast path', async () => {
    const spy = spyOnBackward('gru');
    const { x, y } = data();
    const { our, ours, theirs } = pair('gru', {});
    expect(our.cell!.config.resetAfter).to.equal(false);
    await fitOnce(ours, x, y);
    // unroll took the fast path, which has a hand-derived backward (a backend's whole-sequence
    // kernel, where one is registered, replaces both).
    expect(spy.paths()).to.be.above(0);
    expect(fastPathFor(our.cell!.config)!.backward).to.not.equal(undefined);
    spy.restore();
    ours.dispose();
    theirs.dispose();
  });

  it('rt.train refuses a logits loss on a model that ends in softmax, naming the probability loss', async () => {
    const model = tf.sequential({
      layers: [ourLayer('gru', {}), tf.layers.dense({ units: 3, activation: 'softmax' })],
    });
    const x = tf.randomNormal([B, T, F]);
    const y = tf.oneHot([0, 1, 2], 3);
    let error: Error | null = null;
    await rt
      .train(model, { x, y }, { loss: 'softmaxCrossEntropy', epochs: 1, progress: false })
      .catch((e: Error) => (error = e));
    expect(error).to.match(/softmax.*categoricalCrossentropy/);
    model.dispose();
  });

  it('leaks no tensors in model.fit and rt.train with every option', async () => {
    const { x, y } = data();
    const args = {
      dropout: 0.2,
      recurrentDropout: 0.3,
      seed: 1,
      kernelRegularizer: 'l1l2',
      activityRegularizer: 'l1l2',
      biasConstraint: 'nonNeg',
      recurrentConstraint: 'maxNorm',
      kernelInitializer: 'heNormal',
    };
    for (const kind of KINDS) {
      const { ours, theirs } = pair(kind, args);
      ours.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
      await ours.fit(x, y, { epochs: 1, verbose: 0 });
      await rt.train(ours, { x, y }, { loss: 'mse', epochs: 1, progress: false });
      const before = tf.memory().numTensors;
      await ours.fit(x, y, { epochs: 2, verbose: 0 });
      await rt.train(ours, { x, y }, { loss: 'mse', epochs: 2, progress: false });
      expect(tf.memory().numTensors, kind).to.equal(before);
      ours.dispose();
      theirs.dispose();
    }
  });
});

describeOnBackends(
  'layers options: plain and fast paths agree, with and without biases and recurrent masks',
  ['cpu', 'wasm'],
  () => {
    const cases: [string, () => Cell, boolean][] = [
      ['elman', () => rt.cells.elman({ inputSize: F, units: 3, seed: 1 }), true],
      ['elman, no bias', () => rt.cells.elman({ inputSize: F, units: 3, seed: 1, useBias: false }), true],
      ['lstm', () => rt.cells.lstm({ inputSize: F, units: 3, seed: 2 }), true],
      ['lstm, no bias', () => rt.cells.lstm({ inputSize: F, units: 3, seed: 2, useBias: false }), true],
      ['gru', () => rt.cells.gru({ inputSize: F, units: 3, seed: 3 }), true],
      ['gru, no bias', () => rt.cells.gru({ inputSize: F, units: 3, seed: 3, useBias: false }), true],
      ['gru resetAfter: false', () => rt.cells.gru({ inputSize: F, units: 3, seed: 4, resetAfter: false }), false],
      [
        'gru resetAfter: false, no bias',
        () => rt.cells.gru({ inputSize: F, units: 3, seed: 4, resetAfter: false, useBias: false }),
        false,
      ],
    ];
    for (const [name, make, handDerived] of cases) {
      for (const masked of [true, false]) {
        it(`${name}${masked ? ', recurrent mask' : ''}: the same outputs and gradients (1e-5)`, () => {
          const cell = make();
          const spy = spyOnBackward(cell.kind);
          const x = tf.randomNormal([B, T, F], 0, 1, 'float32', 11);
          const m = tf.mul(tf.cast(tf.greater(tf.randomUniform([B, 3], 0, 1, 'float32', 12), 0.4), 'float32'), 1 / 0.6);
          const h0 = tf.randomNormal([B, 3], 0, 1, 'float32', 13) as tf.Tensor2D;
          const initialState = cell.kind === 'lstm' ? { h: h0, c: tf.neg(h0) as tf.Tensor2D } : { h: h0 };
          const vars = [...Object.values(cell.params)];
          const run = (fast: boolean) =>
            tf.variableGrads(() => {
              const { outputs, state } = rt.unroll(cell, x, {
                fast,
                initialState,
                ...(masked && { recurrentMask: m }),
              });
              return tf.add(tf.sum(tf.square(outputs)), tf.sum(tf.sin(state.h))) as tf.Scalar;
            }, vars);
          const fast = run(true);
          // With a mask the whole-sequence kernels (src/fast/wasm) step aside: the backward runs
          // by hand where every W_kh is in the per-step matMul, by tfjs for the GRU without resetAfter.
          if (masked) expect(spy.steps() > 0, 'hand-derived backward ran').to.equal(handDerived);
          spy.restore();
          const plain = run(false);
          expectAbsClose(fast.value, plain.value, 1e-5, 'loss');
          for (const v of vars) expectAbsClose(fast.grads[v.name], plain.grads[v.name], 1e-5, `d${v.name}`);
          if (masked) {
            // An all-ones mask is the unmasked sequence; this mask is not.
            const sumSq = (o: object) => tf.sum(tf.square(rt.unroll(cell, x, { initialState, ...o }).outputs));
            expectAbsClose(sumSq({ recurrentMask: tf.onesLike(m) }), sumSq({}), 1e-5, 'mask of ones');
            expect(Math.abs(sumSq({ recurrentMask: m }).dataSync()[0] - sumSq({}).dataSync()[0])).to.be.above(1e-3);
          }
          tf.dispose([x, m, h0, fast.value, plain.value, ...Object.values(fast.grads), ...Object.values(plain.grads)]);
          cell.dispose();
        });
      }
    }
  },
);

/**
 * Counts, until `restore()`, the fast paths of a kind handed out (`unroll` asks for one when it
 * takes the fast path) and the steps of its hand-derived backward (as test/fast.test.ts).
 */
function spyOnBackward(kind: CellKind): { paths: () => number; steps: () => number; restore: () => void } {
  const original = fastPathFactory(kind)!;
  let [paths, steps] = [0, 0];
  registerFastPath(kind, (config) => {
    const path = original(config);
    const backward = path.backward!;
    paths++;
    return { ...path, backward: { ...backward, step: (g, f, W) => (steps++, backward.step(g, f, W)) } };
  });
  return { paths: () => paths, steps: () => steps, restore: () => registerFastPath(kind, original) };
}
