// Property tests: what goes out comes back bit for bit. Random networks survive save/load
// through in-memory tf.io handlers and through file:// in a temp directory with bitwise-equal
// parameters and predictions; random cells survive toPyTorch → fromPyTorch and
// toKeras → (a tfjs layer) → fromKeras with bitwise-equal parameters.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import fc from 'fast-check';
import * as rt from '../src/index.js';
import type { Cell } from '../src/cells/cell.js';
import { bitwiseEqual, fcParams, seedArb, seededTensor } from './helpers/property.js';

const ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'linear', 'softsign', 'elu', 'gelu'];

const networkArb = fc.record({
  cell: fc.constantFrom('elman' as const, 'lstm' as const, 'gru' as const),
  inputSize: fc.integer({ min: 1, max: 4 }),
  units: fc.integer({ min: 1, max: 5 }),
  outputSize: fc.integer({ min: 1, max: 3 }),
  activation: fc.constantFrom(...ACTIVATIONS),
  outputActivation: fc.constantFrom('linear', 'sigmoid', 'softmax', 'tanh'),
  resetAfter: fc.boolean(),
  seed: seedArb,
});

type NetCase = typeof networkArb extends fc.Arbitrary<infer T> ? T : never;

function buildNetwork(c: NetCase): rt.RecurrentNetwork {
  const { resetAfter, ...rest } = c;
  return rt.network({ ...rest, ...(c.cell === 'gru' ? { resetAfter } : {}) });
}

/** Same config, same parameters bit for bit, same predictions bit for bit. */
function expectSameNetwork(back: rt.RecurrentNetwork, net: rt.RecurrentNetwork, seed: number): void {
  expect(back.config).to.deep.equal(net.config);
  expect(Object.keys(back.params).sort()).to.deep.equal(Object.keys(net.params).sort());
  for (const [k, v] of Object.entries(net.params)) {
    expect(bitwiseEqual(back.params[k], v), `param ${k}`).to.equal(true);
  }
  tf.tidy(() => {
    const x = seededTensor([2, 3, net.inputSize], seed);
    expect(bitwiseEqual(back.predict(x), net.predict(x)), 'predictions').to.equal(true);
  });
}

/** Saves into memory (the artifacts a handler receives) and loads with tf.io.fromMemory. */
async function memoryRoundTrip(net: rt.RecurrentNetwork): Promise<rt.RecurrentNetwork> {
  let saved: tf.io.ModelArtifacts | undefined;
  await net.save(
    tf.io.withSaveHandler(async (artifacts) => {
      // What a real handler keeps: JSON text and raw bytes.
      saved = JSON.parse(JSON.stringify({ ...artifacts, weightData: undefined }));
      saved!.weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData!).slice(0);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return rt.loadNetwork(tf.io.fromMemory(saved!));
}

/** `dir` holds model.json and the one weights file it names: no stale weights, no temporary file. */
function expectOneModel(dir: string): void {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const named = json.weightsManifest.flatMap((g) => g.paths.map((p) => p.replace(/^\.\//, '')));
  expect(named).to.have.length(1);
  expect(readdirSync(dir).sort()).to.deep.equal(['model.json', named[0]].sort());
}

describe('properties: save/load round trips are exact', () => {
  it('through in-memory handlers (withSaveHandler → fromMemory)', async () => {
    const before = tf.memory().numTensors;
    await fc.assert(
      fc.asyncProperty(networkArb, async (c) => {
        const net = buildNetwork(c);
        const back = await memoryRoundTrip(net);
        try {
          expectSameNetwork(back, net, c.seed + 1);
        } finally {
          net.dispose();
          back.dispose();
        }
      }),
      fcParams(40),
    );
    expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
  });

  it('through file:// into a temp directory, overwriting a previous save, no temp files left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rt-prop-'));
    try {
      await fc.assert(
        fc.asyncProperty(networkArb, async (c) => {
          const net = buildNetwork(c);
          await net.save(`file://${dir}`);
          const back = await rt.loadNetwork(`file://${dir}`);
          try {
            expectOneModel(dir);
            expectSameNetwork(back, net, c.seed + 2);
          } finally {
            net.dispose();
            back.dispose();
          }
        }),
        fcParams(25),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('of tf.LayersModels (net.toLayersModel) through file:// and tf.loadLayersModel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rt-prop-lm-'));
    try {
      await fc.assert(
        fc.asyncProperty(networkArb, async (c) => {
          const net = buildNetwork(c);
          const model = net.toLayersModel();
          await model.save(`file://${dir}`);
          const back = await tf.loadLayersModel(`file://${dir}`);
          try {
            expectOneModel(dir);
            const [w0, w1] = [model.getWeights(), back.getWeights()];
            expect(w1.length).to.equal(w0.length);
            w0.forEach((w, i) => expect(bitwiseEqual(w1[i], w), `weight ${i}`).to.equal(true));
            tf.tidy(() => {
              const x = seededTensor([2, 3, c.inputSize], c.seed + 3);
              const [a, b] = [model.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor];
              expect(bitwiseEqual(b, a), 'predictions').to.equal(true);
            });
          } finally {
            net.dispose();
            model.dispose();
            back.dispose();
          }
        }),
        fcParams(15),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const PYTORCH_KINDS = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'] as const;

/** A cell PyTorch has an equal of (tanh/relu Elman, sigmoid-gated LSTM, resetAfter GRU). */
function pyTorchCell(kind: (typeof PYTORCH_KINDS)[number], inputSize: number, units: number, seed: number): Cell {
  if (kind === 'lstm') return rt.cells.lstm({ inputSize, units, seed });
  if (kind === 'gru') return rt.cells.gru({ inputSize, units, seed });
  return rt.cells.elman({ inputSize, units, seed, activation: kind === 'rnn_tanh' ? 'tanh' : 'relu' });
}

/** Non-zero biases, so that the round trip of every bias is exercised (cells start at zeros). */
function randomiseBiases(cell: Cell, seed: number): void {
  Object.entries(cell.params)
    .filter(([k]) => k.startsWith('b_'))
    .forEach(([, v], i) => tf.tidy(() => v.assign(seededTensor(v.shape, seed + i))));
}

function expectSameParams(back: Cell, cell: Cell): void {
  expect(back.config).to.deep.equal(cell.config);
  expect(Object.keys(back.params).sort()).to.deep.equal(Object.keys(cell.params).sort());
  for (const [k, v] of Object.entries(cell.params)) {
    expect(bitwiseEqual(back.params[k], v), `param ${k}`).to.equal(true);
  }
}

describe('properties: interop round trips are exact', () => {
  const sizes = {
    inputSize: fc.integer({ min: 1, max: 5 }),
    units: fc.integer({ min: 1, max: 6 }),
    seed: seedArb,
  };

  it('toPyTorch → fromPyTorch', () => {
    fc.assert(
      fc.property(fc.record({ kind: fc.constantFrom(...PYTORCH_KINDS), ...sizes }), (c) => {
        const cell = pyTorchCell(c.kind, c.inputSize, c.units, c.seed);
        randomiseBiases(cell, c.seed);
        const back = rt.interop.fromPyTorch(c.kind, rt.interop.toPyTorch(cell));
        try {
          expectSameParams(back, cell);
        } finally {
          cell.dispose();
          back.dispose();
        }
      }),
      fcParams(40),
    );
  });

  it('toKeras → tfjs layer (setWeights) → fromKeras', () => {
    const before = tf.memory().numTensors;
    fc.assert(
      fc.property(
        fc.record({
          kind: fc.constantFrom('elman' as const, 'lstm' as const, 'gru' as const),
          activation: fc.constantFrom('tanh', 'relu', 'sigmoid', 'elu'),
          recurrentActivation: fc.constantFrom('sigmoid', 'hardSigmoid'),
          ...sizes,
        }),
        (c) => {
          const { inputSize, units, seed, activation, recurrentActivation } = c;
          // tfjs's GRU computes only the resetAfter: false form.
          const cell =
            c.kind === 'elman'
              ? rt.cells.elman({ inputSize, units, seed, activation })
              : c.kind === 'lstm'
                ? rt.cells.lstm({ inputSize, units, seed, activation, recurrentActivation })
                : rt.cells.gru({ inputSize, units, seed, activation, recurrentActivation, resetAfter: false });
          randomiseBiases(cell, seed);
          const layerOptions = {
            units,
            activation: activation as 'tanh',
            kernelInitializer: 'zeros' as const,
            recurrentInitializer: 'zeros' as const,
          };
          const layer =
            c.kind === 'elman'
              ? tf.layers.simpleRNN(layerOptions)
              : c.kind === 'lstm'
                ? tf.layers.lstm({ ...layerOptions, recurrentActivation: recurrentActivation as 'sigmoid' })
                : tf.layers.gru({ ...layerOptions, recurrentActivation: recurrentActivation as 'sigmoid' });
          layer.apply(tf.input({ shape: [null, inputSize] }));
          const weights = rt.interop.toKeras(cell);
          layer.setWeights(weights);
          tf.dispose(weights);
          const back = rt.interop.fromKeras(layer);
          try {
            expectSameParams(back, cell);
          } finally {
            cell.dispose();
            back.dispose();
            layer.dispose();
          }
        },
      ),
      fcParams(25),
    );
    expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
  });
});
