// Keras model files: real Keras 2.1.3 and tf.keras 2.2.4 files (fixtures/real-models, with Keras's
// own predictions or a NumPy pass from Keras's equations) and files in Keras's documented layouts
// written with h5py by scripts/keras-fixtures.py (GRU reset_after both ways, CuDNN weights, a
// Keras 3 .keras zip).
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as rt from '../src/index.js';
import { openHdf5 } from '../src/interop/hdf5.js';
import { expectAbsClose } from './helpers/close.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const REAL = join(FIXTURES, 'real-models');
const KERAS = join(FIXTURES, 'keras');

/** Loads a Keras file, runs it on x, checks the output against `want`, and checks that nothing leaks. */
async function check(file: string, x: tf.Tensor, want: { shape: number[]; data: ArrayLike<number> }, atol: number) {
  const before = tf.memory().numTensors;
  const model = await rt.interop.loadKeras(readFileSync(file));
  const y = model.predict(x) as tf.Tensor;
  expect(y.shape, file).to.deep.equal(want.shape);
  expectAbsClose(y, Array.from(want.data), atol, file);
  y.dispose();
  model.dispose();
  expect(tf.memory().numTensors, `${file}: tensors left`).to.equal(before);
  return model;
}

describe('interop: Keras files made by Keras', () => {
  for (const [folder, stem] of [
    ['dl4j-simple-rnn-keras2', 'simple_rnn'],
    ['dl4j-simple-flatten-lstm-keras2', 'simple_flatten_lstm'],
  ]) {
    it(`${folder} (Keras 2.1.3): equals the predictions Keras stored beside it, to 1e-5`, async () => {
      const io = await openHdf5('test', readFileSync(join(REAL, folder, `${stem}_tf_keras_2_inputs_and_outputs.h5`)));
      const [inputName] = io.keys('/inputs') as string[];
      const input = io.array(`/inputs/${inputName}`);
      const predictions = io.array('/predictions/dense_1');
      io.close();
      if (!input || !predictions) throw new Error('the inputs and predictions are missing');
      const x = tf.tensor(input.values, input.shape);
      const want = { shape: predictions.shape, data: predictions.values };
      const model = await check(join(REAL, folder, `${stem}_tf_keras_2_model.h5`), x, want, 1e-5);
      expect(model.layers.map((l) => l.getClassName())).to.deep.equal([
        stem === 'simple_rnn' ? 'RecurrentElman' : 'RecurrentLSTM',
        'Dense',
      ]);
      x.dispose();
    });
  }

  it('dl4j-tfkeras-rnn (9 tf.keras 2.2.4 functional models: Bidirectional, stacked, RepeatVector, relu gates) match to 1e-5', async () => {
    const expected = JSON.parse(readFileSync(join(REAL, 'dl4j-tfkeras-rnn', 'expected.json'), 'utf8'));
    const x = tf.tensor(expected.input.data, expected.input.shape);
    const files = Object.keys(expected.outputs);
    expect(files).to.have.length(9);
    for (const f of files) await check(join(REAL, 'dl4j-tfkeras-rnn', f), x, expected.outputs[f], 1e-5);
    x.dispose();
  });
});

describe("interop: Keras files in Keras's documented layouts (scripts/keras-fixtures.py)", () => {
  const files = readdirSync(KERAS).filter((f) => !f.endsWith('.json'));
  const layersOf: Record<string, string[]> = {
    'gru-reset-after.h5': ['RecurrentGRU', 'Dense'],
    'gru-reset-before-bidirectional.h5': ['Bidirectional', 'Dense'],
    'cudnn-lstm-gru.h5': ['RecurrentLSTM', 'RecurrentGRU', 'Dense'],
    'keras3-lstm-bigru.keras': ['RecurrentLSTM', 'Bidirectional', 'Dense'],
    'embedding-lstm-timedistributed.h5': ['Embedding', 'RecurrentLSTM', 'TimeDistributed'],
  };
  it('covers every file the script writes', () => expect(files.sort()).to.deep.equal(Object.keys(layersOf).sort()));
  for (const f of files) {
    it(`${f} loads into ${layersOf[f]?.join(' → ')} and matches Keras's equations to 1e-5`, async () => {
      const ref = JSON.parse(readFileSync(join(KERAS, f.replace(/\.(h5|keras)$/, '.json')), 'utf8'));
      const x = tf.tensor(ref.input.data, ref.input.shape);
      const model = await check(join(KERAS, f), x, ref.output, 1e-5);
      expect(model.layers.map((l) => l.getClassName())).to.deep.equal(layersOf[f]);
      x.dispose();
    });
  }

  it('rt.interop.load tells .h5 and .keras by their first bytes', async () => {
    for (const f of ['gru-reset-after.h5', 'keras3-lstm-bigru.keras']) {
      const model = await rt.interop.load(join(KERAS, f));
      expect(model).to.be.instanceOf(tf.LayersModel);
      (model as tf.LayersModel).dispose();
    }
  });
});

/** The bytes of the .h5 file `file` with `edit` applied to its first layer's config, through h5wasm. */
async function h5Variant(file: string, edit: (layer: Record<string, unknown>) => void): Promise<Uint8Array> {
  const h5wasm = (await import('h5wasm')).default;
  const { FS } = await h5wasm.ready;
  const path = '/variant.h5';
  FS.writeFile(path, readFileSync(file));
  const f = new h5wasm.File(path, 'a');
  const config = JSON.parse(f.attrs.model_config.value as string);
  edit(config.config.layers[0]);
  f.delete_attribute('model_config');
  f.create_attribute('model_config', JSON.stringify(config));
  f.close();
  const bytes = FS.readFile(path) as Uint8Array;
  FS.unlink(path);
  return bytes;
}

/** The bytes of the .keras zip `file` with `edit` applied to its config.json. */
async function kerasVariant(file: string, edit: (config: Record<string, unknown>) => void): Promise<Uint8Array> {
  const { unzipSync, zipSync } = await import('fflate');
  const files = unzipSync(readFileSync(file));
  const config = JSON.parse(new TextDecoder().decode(files['config.json']));
  edit(config);
  files['config.json'] = new TextEncoder().encode(JSON.stringify(config));
  return zipSync(files);
}

/** The bytes with the model_config attribute removed (what save_weights writes has none). */
async function withoutConfig(bytes: Uint8Array): Promise<Uint8Array> {
  const h5wasm = (await import('h5wasm')).default;
  const { FS } = await h5wasm.ready;
  FS.writeFile('/weights.h5', bytes);
  const f = new h5wasm.File('/weights.h5', 'a');
  f.delete_attribute('model_config');
  f.close();
  const out = FS.readFile('/weights.h5') as Uint8Array;
  FS.unlink('/weights.h5');
  return out;
}

describe('interop: Keras file refusals name what they refuse', () => {
  it('a layer class, an option, an activation, Keras 3 hard_sigmoid, a weights-only file, bytes of no format', async () => {
    const cases: [string, (c: Record<string, unknown>) => void, RegExp][] = [
      ['Conv1D', (l) => (l.class_name = 'Conv1D'), /layer 'gru' \(Conv1D\) is not supported here/],
      [
        'stateful',
        (l) => ((l.config as Record<string, unknown>).stateful = true),
        /layer 'gru' \(GRU\) has stateful: true/,
      ],
      [
        'an unknown option',
        (l) => ((l.config as Record<string, unknown>).frobnicate = 1),
        /has option frobnicate, which is not supported/,
      ],
      [
        'gelu',
        (l) => ((l.config as Record<string, unknown>).activation = 'gelu'),
        /has activation 'gelu'; expected one of/,
      ],
    ];
    for (const [what, edit, pattern] of cases) {
      const bytes = await h5Variant(join(KERAS, 'gru-reset-after.h5'), edit);
      await rt.interop.loadKeras(bytes).then(
        () => expect.fail(`accepted ${what}`),
        (e: Error) => expect(e.message, what).to.match(pattern),
      );
    }
    const hard = await kerasVariant(join(KERAS, 'keras3-lstm-bigru.keras'), (c) => {
      const lstm = (c.config as { layers: { config: Record<string, unknown> }[] }).layers[1];
      lstm.config.recurrent_activation = 'hard_sigmoid';
    });
    await rt.interop.loadKeras(hard).then(
      () => expect.fail("accepted Keras 3's hard_sigmoid"),
      (e: Error) => expect(e.message).to.match(/Keras 3 computes as relu6\(x \+ 3\) \/ 6/),
    );
    const weightsOnly = await h5Variant(join(KERAS, 'gru-reset-after.h5'), () => {});
    await rt.interop.loadKeras(await withoutConfig(weightsOnly)).then(
      () => expect.fail('accepted a weights-only file'),
      (e: Error) => expect(e.message).to.match(/has no model_config: it holds weights only/),
    );
    await rt.interop.loadKeras(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])).then(
      () => expect.fail('accepted junk'),
      (e: Error) => expect(e.message).to.match(/neither an HDF5 file \(\.h5\) nor a zip \(\.keras\)/),
    );
  });
});
