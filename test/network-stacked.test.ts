// Stacked and bidirectional networks (rt.network({ layers, bidirectional, dropout })): parameter keys,
// states per layer and direction, tfjs's own layers (tf.layers.bidirectional) computing the same,
// save/load (old one-layer files too), rt.train with full and truncated BPTT, dropout in training only,
// diagnostics. Their agreement with PyTorch is in pytorch-stacked.test.ts.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { expectAbsClose } from './helpers/close.js';

const x = () => tf.randomNormal([3, 6, 2], 0, 1, 'float32', 11) as tf.Tensor3D;

describe('network: stacked and bidirectional', () => {
  it('keys: layer 0 forward plain, the others prefixed; W_yh reads [h→; h←]', () => {
    const net = rt.network({
      cell: 'gru',
      inputSize: 2,
      units: 3,
      outputSize: 1,
      layers: 2,
      bidirectional: true,
      seed: 1,
    });
    try {
      const keys = Object.keys(net.params);
      expect(keys).to.include.members(['W_zx', 'l0_reverse.W_zx', 'l1.W_zx', 'l1_reverse.b_nh', 'W_yh', 'b_y']);
      expect(keys).to.have.length(4 * 10 + 2);
      expect(net.params['l1.W_zx'].shape).to.deep.equal([3, 6]); // layer 1 reads 2 * 3 features
      expect(net.params.W_yh.shape).to.deep.equal([1, 6]);
      expect([net.layers, net.directions, net.bidirectional, net.units]).to.deep.equal([2, 2, true, 3]);
      expect(() => net.cell).to.throw(/net\.cell: this network has 2 layer\(s\) in 2 direction\(s\).*net\.cells/);
    } finally {
      net.dispose();
    }
  });

  it('one layer in one direction stays as it was: same keys, config, numbers, a State in and out', () => {
    const a = rt.network({ cell: 'lstm', inputSize: 2, units: 3, outputSize: 1, seed: 4 });
    const b = rt.network({
      cell: 'lstm',
      inputSize: 2,
      units: 3,
      outputSize: 1,
      seed: 4,
      layers: 1,
      bidirectional: false,
    });
    const xs = x();
    try {
      expect(Object.keys(a.params)).to.deep.equal([...Object.keys(a.cell.params), 'W_yh', 'b_y']);
      expect(a.config).to.deep.equal({ cell: a.cell.config, outputSize: 1, outputActivation: 'linear' });
      expectAbsClose(a.predict(xs), b.predict(xs), 0);
      tf.tidy(() => {
        const { y, state, states } = a.apply(xs, { initialState: a.cell.initialState(3) });
        expect(states).to.have.length(1);
        expect(state).to.equal(states[0]);
        expectAbsClose(y, a.output(rt.unroll(a.cell, xs).outputs), 1e-6);
      });
    } finally {
      tf.dispose([xs]);
      a.dispose();
      b.dispose();
    }
  });

  it('each layer is unroll (fast path) of the one below; equal to the plain path composed by hand', () => {
    const net = rt.network({
      cell: 'lstm',
      inputSize: 2,
      units: 3,
      outputSize: 2,
      layers: 3,
      bidirectional: true,
      seed: 2,
    });
    const xs = x();
    try {
      tf.tidy(() => {
        let input: tf.Tensor = xs;
        for (const [fwd, bwd] of net.cells) {
          const a = rt.unroll(fwd, input, { fast: false }).outputs;
          const b = rt.unroll(bwd, input, { fast: false, reverse: true }).outputs;
          input = tf.concat([a, b], 2);
        }
        expectAbsClose(net.predict(xs), net.output(input), 1e-5);
      });
    } finally {
      xs.dispose();
      net.dispose();
    }
  });

  for (const [cell, extra] of [
    ['lstm', {}],
    ['elman', {}],
    ['gru', { resetAfter: false }],
    ['gru', {}],
  ] as const) {
    it(`toLayersModel (${cell}${'resetAfter' in extra ? ', resetAfter: false' : ''}): tf.layers.bidirectional, same predictions`, () => {
      const net = rt.network({
        cell,
        inputSize: 2,
        units: 3,
        outputSize: 2,
        layers: 2,
        bidirectional: true,
        dropout: 0.3,
        seed: 3,
        ...extra,
      });
      const xs = x();
      const before = tf.memory().numTensors;
      const model = net.toLayersModel();
      try {
        const names = model.layers.map((l) => l.getClassName());
        expect(names).to.deep.equal(['Bidirectional', 'Dropout', 'Bidirectional', 'Dense']);
        tf.tidy(() => expectAbsClose(model.predict(xs) as tf.Tensor, net.predict(xs), 1e-5));
      } finally {
        model.dispose();
        expect(tf.memory().numTensors).to.equal(before);
        xs.dispose();
        net.dispose();
      }
    });
  }

  it('initialState: one state per cell in PyTorch order; a single State or a wrong count is refused', () => {
    const net = rt.network({
      cell: 'lstm',
      inputSize: 2,
      units: 3,
      outputSize: 1,
      layers: 2,
      bidirectional: true,
      seed: 5,
    });
    const xs = x();
    try {
      tf.tidy(() => {
        const zeros = net.cells.flat().map((c) => c.initialState(3));
        const r = net.apply(xs, { initialState: zeros });
        expect(r.states).to.have.length(4);
        expect(() => r.state).to.throw(/one state each: read result\.states/);
        expectAbsClose(r.y, net.predict(xs), 0);
        const other = zeros.map((s, k) => (k === 3 ? { h: tf.onesLike(s.h), c: s.c! } : s));
        expect(net.apply(xs, { initialState: other }).y.sub(r.y).abs().max().dataSync()[0]).to.be.above(1e-4);
        expect(() => net.apply(xs, { initialState: zeros[0] })).to.throw(
          /expected initialState to be an array of 4 states \[l0, l0_reverse, …\]/,
        );
        expect(() => net.apply(xs, { initialState: zeros.slice(1) })).to.throw(
          /expected initialState to hold 4 states/,
        );
      });
    } finally {
      xs.dispose();
      net.dispose();
    }
  });

  it('states carried across windows give the whole sequence (what truncated BPTT relies on)', () => {
    const net = rt.network({ cell: 'gru', inputSize: 2, units: 3, outputSize: 1, layers: 3, seed: 6 });
    const xs = x();
    try {
      tf.tidy(() => {
        const first = net.apply(xs.slice([0, 0, 0], [3, 4, 2]));
        const second = net.apply(xs.slice([0, 4, 0], [3, 2, 2]), { initialState: first.states });
        expectAbsClose(tf.concat([first.y, second.y], 1), net.predict(xs), 1e-6);
      });
    } finally {
      xs.dispose();
      net.dispose();
    }
  });

  it('dropout: between layers, in training only, seeded; refused on one layer and outside [0, 1)', () => {
    const net = rt.network({ cell: 'elman', inputSize: 2, units: 8, outputSize: 1, layers: 2, dropout: 0.5, seed: 7 });
    const plain = rt.network({ cell: 'elman', inputSize: 2, units: 8, outputSize: 1, layers: 2, seed: 7 });
    const xs = x();
    try {
      tf.tidy(() => {
        expectAbsClose(net.predict(xs), plain.predict(xs), 0, 'not training: no dropout');
        const a = net.apply(xs, { training: true }).y;
        const b = net.apply(xs, { training: true }).y;
        expect(a.sub(plain.predict(xs)).abs().max().dataSync()[0]).to.be.above(1e-3);
        expect(a.sub(b).abs().max().dataSync()[0], 'a fresh mask per call').to.be.above(1e-4);
        const again = rt.network({
          cell: 'elman',
          inputSize: 2,
          units: 8,
          outputSize: 1,
          layers: 2,
          dropout: 0.5,
          seed: 7,
        });
        expectAbsClose(again.apply(xs, { training: true }).y, a, 0, 'the same seed, the same masks');
        again.dispose();
      });
      expect(() => rt.network({ cell: 'gru', inputSize: 1, units: 1, outputSize: 1, dropout: 0.2 })).to.throw(
        /dropout does not apply to one layer/,
      );
      expect(() => rt.network({ cell: 'gru', inputSize: 1, units: 1, outputSize: 1, layers: 2, dropout: 1 })).to.throw(
        /expected dropout to be a number in \[0, 1\), got 1/,
      );
      expect(() => rt.network({ cell: 'gru', inputSize: 1, units: 1, outputSize: 1, layers: 0 })).to.throw(
        /expected layers to be a positive integer/,
      );
    } finally {
      xs.dispose();
      net.dispose();
      plain.dispose();
    }
  });

  it('save/load: a stacked bidirectional network (format version 2), the same predictions', async () => {
    const net = rt.network({
      cell: 'lstm',
      inputSize: 2,
      units: 3,
      outputSize: 2,
      layers: 2,
      bidirectional: true,
      dropout: 0.1,
      seed: 8,
    });
    const xs = x();
    let saved: tf.io.ModelArtifacts | undefined;
    await net.save(
      tf.io.withSaveHandler(
        async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
      ),
    );
    const back = rt.io.networkFromArtifacts(saved!);
    try {
      expect((saved!.modelTopology as { version: number }).version).to.equal(2);
      expect(back.config).to.deep.equal(net.config);
      expectAbsClose(back.predict(xs), net.predict(xs), 0);
      const v1 = { ...saved!, modelTopology: { ...(saved!.modelTopology as object), version: 1 } };
      expect(() => rt.io.networkFromArtifacts(v1)).to.throw(/format version 1 holds one layer in one direction/);
    } finally {
      xs.dispose();
      back.dispose();
      net.dispose();
    }
  });

  it('save/load: a one-layer network still writes format version 1 with the plain keys (old files load)', async () => {
    const net = rt.network({ cell: 'gru', inputSize: 2, units: 3, outputSize: 1, seed: 9 });
    let saved: tf.io.ModelArtifacts | undefined;
    await net.save(
      tf.io.withSaveHandler(
        async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
      ),
    );
    try {
      expect(saved!.modelTopology).to.deep.equal({ format: 'tfjs-recurrent/network', version: 1, config: net.config });
      expect(saved!.weightSpecs!.map((s) => s.name)).to.deep.equal(Object.keys(net.params));
      const back = rt.io.networkFromArtifacts(saved!);
      expect(back.layers).to.equal(1);
      back.dispose();
    } finally {
      net.dispose();
    }
  });

  for (const bptt of ['full', { truncate: 2 }] as const) {
    it(`rt.train (${typeof bptt === 'string' ? bptt : 'truncated'} BPTT, dropout): the loss falls, no tensor left behind`, async () => {
      const net = rt.network({
        cell: 'lstm',
        inputSize: 2,
        units: 4,
        outputSize: 1,
        layers: 2,
        bidirectional: typeof bptt === 'string',
        dropout: 0.1,
        seed: 10,
      });
      const data = rt.data.addingProblem({ batch: 32, time: 6, seed: 3 });
      const before = tf.memory().numTensors;
      try {
        const history = await rt.train(net, data, {
          loss: 'mse',
          target: 'lastStep',
          epochs: 6,
          batchSize: 16,
          learningRate: 0.02,
          seed: 1,
          bptt,
          progress: false,
        });
        const { loss } = history.history;
        expect(loss.every(Number.isFinite)).to.equal(true);
        expect(loss[loss.length - 1]).to.be.below(loss[0]);
        expect(tf.memory().numTensors).to.equal(before);
      } finally {
        tf.dispose([data.x, data.y]);
        net.dispose();
      }
    });
  }

  it('rt.train refuses truncated BPTT for a bidirectional network (its reverse cells run backwards)', async () => {
    const net = rt.network({
      cell: 'gru',
      inputSize: 2,
      units: 2,
      outputSize: 1,
      layers: 2,
      bidirectional: true,
      seed: 1,
    });
    const data = rt.data.addingProblem({ batch: 4, time: 6, seed: 3 });
    try {
      let error: Error | undefined;
      await rt
        .train(net, data, { loss: 'mse', epochs: 1, bptt: { truncate: 2 }, progress: false })
        .catch((e: Error) => (error = e));
      expect(error?.message).to.match(/train: truncated BPTT carries each cell's state forward.*use bptt: 'full'/);
    } finally {
      tf.dispose([data.x, data.y]);
      net.dispose();
    }
  });

  it('diagnostics: gradientNorms per step of the top layer, gradientCheck passes, manualBPTT refuses', () => {
    const net = rt.network({ cell: 'gru', inputSize: 2, units: 3, outputSize: 1, layers: 2, seed: 12 });
    const bi = rt.network({
      cell: 'elman',
      inputSize: 2,
      units: 3,
      outputSize: 1,
      layers: 2,
      bidirectional: true,
      seed: 12,
    });
    const xs = x();
    const y = tf.randomNormal([3, 6, 1], 0, 1, 'float32', 5);
    try {
      const norms = rt.diagnostics.gradientNorms(net, xs, y, { loss: 'mse' });
      expect(norms.perStep).to.have.length(6);
      expect(Object.keys(norms.perParam)).to.deep.equal(Object.keys(net.params));
      // h_T of the top layer feeds only y_T: dL/dh_T = W_yh^T dL/dy_T, computed here without probes.
      const last = tf.tidy(() => {
        const H = rt.unroll(net.cells[1][0], rt.unroll(net.cells[0][0], xs).outputs).outputs;
        const [dH] = tf.grads((h: tf.Tensor) => tf.losses.meanSquaredError(y, net.output(h)))([H]);
        return tf.norm(dH.slice([0, 5, 0], [3, 1, 3])).dataSync()[0];
      });
      expect(norms.perStep[5]).to.be.closeTo(last, 1e-6);
      const biNorms = rt.diagnostics.gradientNorms(bi, xs, y, { loss: 'mse' });
      expect(biNorms.perStep).to.have.length(6);
      expect(biNorms.perStep.every((v) => v > 0 && Number.isFinite(v))).to.equal(true);
      const check = rt.diagnostics.gradientCheck(bi, xs, y, { loss: 'mse' });
      expect(check.passed, `max relative error ${check.maxRelativeError}`).to.equal(true);
      expect(new Set(check.details.map((d) => d.param))).to.have.property('size', Object.keys(bi.params).length);
      expect(() => rt.diagnostics.manualBPTT(bi, xs, y, { loss: 'mse' })).to.throw(
        /written out for one layer in one direction/,
      );
    } finally {
      tf.dispose([xs, y]);
      net.dispose();
      bi.dispose();
    }
  });
});
