// ONNX in and out: the ONNX backend test cases (real files with ONNX's expected outputs), files
// written by torch.onnx.export (scripts/onnx-fixtures.py, PyTorch's outputs), and our exports run
// in onnxruntime-node, a runtime no one here wrote.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as rt from '../src/index.js';
import { fromTensorProto, onnxProto, type Onnx } from '../src/interop/onnx/proto.js';
import { expectAbsClose } from './helpers/close.js';
import { seededTensor } from './helpers/property.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const BACKEND = join(FIXTURES, 'real-models', 'onnx-backend-node');
const TORCH = join(FIXTURES, 'onnx');

/** Runs `bytes` in onnxruntime-node on `x` and gives its output `y`. */
async function runOrt(bytes: Uint8Array, x: tf.Tensor): Promise<tf.Tensor> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ x: new ort.Tensor('float32', (await x.data()) as Float32Array, x.shape) });
  return tf.tensor(out.y.data as Float32Array, out.y.dims as number[]);
}

async function readPb(file: string): Promise<tf.Tensor> {
  const onnx = await onnxProto('test');
  return fromTensorProto('test', onnx.TensorProto.decode(readFileSync(file)));
}

describe('interop: ONNX import, the ONNX backend test cases', () => {
  const cases = readdirSync(BACKEND).filter((c) => c !== 'test_lstm_with_peepholes');

  it(`gives ONNX's expected outputs to 1e-5 in ${cases.length} cases (RNN, LSTM, GRU; layout 1; initial bias)`, async () => {
    expect(cases.length).to.equal(11);
    const before = tf.memory().numTensors;
    for (const c of cases) {
      const dir = join(BACKEND, c, 'test_data_set_0');
      const model = await rt.interop.fromOnnx(readFileSync(join(BACKEND, c, 'model.onnx')));
      const feeds: Record<string, tf.Tensor> = {};
      for (const [i, name] of model.inputNames.entries()) feeds[name] = await readPb(join(dir, `input_${i}.pb`));
      const out = await model.run(feeds);
      let compared = 0;
      for (const [i, name] of model.outputNames.entries()) {
        const file = join(dir, `output_${i}.pb`);
        if (!existsSync(file)) continue;
        const want = await readPb(file);
        expect(out[name].shape, `${c} ${name}`).to.deep.equal(want.shape);
        expectAbsClose(out[name], want, 1e-5, `${c} ${name}`);
        compared++;
        want.dispose();
      }
      expect(compared, c).to.be.greaterThan(0);
      tf.dispose([...Object.values(feeds), ...Object.values(out)]);
      model.dispose();
    }
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('refuses the LSTM with peepholes, naming P', async () => {
    const dir = join(BACKEND, 'test_lstm_with_peepholes');
    const model = await rt.interop.fromOnnx(readFileSync(join(dir, 'model.onnx')));
    const feeds: Record<string, tf.Tensor> = {};
    for (const [i, name] of model.inputNames.entries())
      feeds[name] = await readPb(join(dir, 'test_data_set_0', `input_${i}.pb`));
    const before = tf.memory().numTensors;
    let error: Error | null = null;
    await model.run(feeds).catch((e: Error) => (error = e));
    expect(String(error)).to.match(/input P \(LSTM peepholes\) is not supported/);
    expect(tf.memory().numTensors).to.equal(before);
    tf.dispose(Object.values(feeds));
    model.dispose();
  });
});

describe('interop: ONNX import, files written by torch.onnx.export', () => {
  const files = readdirSync(TORCH).filter((f) => f.endsWith('.onnx'));

  it(`gives PyTorch's outputs to 1e-5 (${files.join(', ')})`, async () => {
    expect(files.length).to.equal(4);
    const before = tf.memory().numTensors;
    for (const f of files) {
      const ref = JSON.parse(readFileSync(join(TORCH, f.replace('.onnx', '.json')), 'utf8'));
      const model = await rt.interop.fromOnnx(readFileSync(join(TORCH, f)));
      const x = tf.tensor(ref.input.data, ref.input.shape);
      const y = await model.predict(x);
      expect(y.shape, f).to.deep.equal(ref.output.shape);
      expectAbsClose(y, ref.output.data, 1e-5, f);
      tf.dispose([x, y]);
      model.dispose();
    }
    expect(tf.memory().numTensors).to.equal(before);
  });
});

describe('interop: ONNX files as networks of ours (networkFromOnnx)', () => {
  it("torch.onnx.export's batch-first files become stacked/bidirectional networks with PyTorch's outputs (1e-5); a time-major one is refused", async () => {
    const before = tf.memory().numTensors;
    for (const name of ['lstm-2layer-bidirectional', 'gru-bidirectional', 'rnn-relu-2layer']) {
      const ref = JSON.parse(readFileSync(join(TORCH, `${name}.json`), 'utf8'));
      const net = await rt.interop.networkFromOnnx(readFileSync(join(TORCH, `${name}.onnx`)));
      expect(net).to.be.instanceOf(rt.RecurrentNetwork);
      const x = tf.tensor3d(ref.input.data, ref.input.shape);
      const y = net.predict(x);
      expectAbsClose(y, ref.output.data, 1e-5, name);
      tf.dispose([x, y]);
      net.dispose();
    }
    await rt.interop.networkFromOnnx(readFileSync(join(TORCH, 'gru-time-major.onnx'))).then(
      () => expect.fail('read a time-major graph as a network'),
      (e: Error) => expect(e.message).to.match(/not a batch-first stack of recurrent layers with a dense head/),
    );
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('our own exports come back as the same network; a graph without a head is refused', async () => {
    const net = rt.network({
      cell: 'gru',
      layers: 2,
      bidirectional: true,
      outputActivation: 'softmax',
      inputSize: 3,
      units: 4,
      outputSize: 3,
      seed: 4,
    });
    const back = await rt.interop.networkFromOnnx(await rt.interop.toOnnx(net));
    expect(back.config).to.deep.equal(net.config);
    const x = seededTensor([2, 4, 3], 3);
    const [a, b] = [net.predict(x), back.predict(x)];
    expectAbsClose(b, a, 1e-7);
    tf.dispose([x, a, b]);
    net.dispose();
    back.dispose();
    await rt.interop.networkFromOnnx(readFileSync(join(BACKEND, 'test_lstm_defaults', 'model.onnx'))).then(
      () => expect.fail('read a bare LSTM node as a network'),
      (e: Error) => expect(e.message).to.match(/expected a graph with one input and one output|no dense head/),
    );
  });
});

describe('interop: ONNX export, run in onnxruntime-node', () => {
  const x = seededTensor([2, 5, 3], 11);
  after(() => x.dispose());

  const networks: [string, rt.NetworkOptions][] = [
    [
      'Elman (relu), sigmoid head',
      { cell: 'elman', activation: 'relu', outputActivation: 'sigmoid', inputSize: 3, units: 4, outputSize: 2 },
    ],
    ['LSTM, softmax head', { cell: 'lstm', outputActivation: 'softmax', inputSize: 3, units: 4, outputSize: 3 }],
    [
      'LSTM with hardSigmoid gates',
      { cell: 'lstm', recurrentActivation: 'hardSigmoid', inputSize: 3, units: 4, outputSize: 2 },
    ],
    ['GRU resetAfter: true (linear_before_reset = 1)', { cell: 'gru', inputSize: 3, units: 4, outputSize: 2 }],
    ['GRU resetAfter: false', { cell: 'gru', resetAfter: false, inputSize: 3, units: 4, outputSize: 2 }],
    [
      '2-layer bidirectional LSTM',
      { cell: 'lstm', layers: 2, bidirectional: true, inputSize: 3, units: 4, outputSize: 2 },
    ],
    [
      '2-layer bidirectional GRU, tanh head',
      { cell: 'gru', layers: 2, bidirectional: true, outputActivation: 'tanh', inputSize: 3, units: 3, outputSize: 2 },
    ],
  ];
  for (const [what, options] of networks) {
    it(`${what}: onnxruntime equals net.predict to 1e-5, and our importer reads it back`, async () => {
      const net = rt.network({ ...options, seed: 5 });
      // Non-zero biases, so that every bias (and the GRU's b_nh) is checked.
      for (const [k, v] of Object.entries(net.params))
        if (k.startsWith('b_')) v.assign(seededTensor(v.shape, k.length + 20, 0.5));
      const before = tf.memory().numTensors;
      const bytes = await rt.interop.toOnnx(net);
      const ours = net.predict(x);
      const theirs = await runOrt(bytes, x);
      expectAbsClose(theirs, ours, 1e-5, 'onnxruntime vs ours');
      const back = await rt.interop.fromOnnx(bytes);
      const again = await back.predict(x);
      expectAbsClose(again, ours, 1e-6, 'our import vs ours');
      back.dispose();
      tf.dispose([ours, theirs, again]);
      expect(tf.memory().numTensors).to.equal(before);
      net.dispose();
    });
  }

  it('layout: 1 writes batch-first nodes without transposes, which our importer runs as net.predict', async () => {
    const net = rt.network({
      cell: 'lstm',
      layers: 2,
      bidirectional: true,
      inputSize: 3,
      units: 4,
      outputSize: 2,
      seed: 9,
    });
    const bytes = await rt.interop.toOnnx(net, { layout: 1 });
    const onnx = await onnxProto('test');
    const nodes = onnx.ModelProto.decode(bytes).graph?.node ?? [];
    expect(nodes.map((n) => n.opType)).to.not.include('Transpose');
    const model = await rt.interop.fromOnnx(bytes);
    const [a, b] = [net.predict(x), await model.predict(x)];
    expectAbsClose(b, a, 1e-6);
    tf.dispose(b);
    model.dispose();
    net.dispose();
    // onnxruntime 1.30's CPU kernels refuse layout 1; should a later one run it, it must agree.
    const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 4 }).catch((e: Error) => e);
    if (session instanceof Error) expect(session.message).to.match(/layout == 1/);
    else {
      const out = await session.run({ x: new ort.Tensor('float32', (await x.data()) as Float32Array, x.shape) });
      expectAbsClose(Array.from(out.y.data as Float32Array), a, 1e-5);
    }
    tf.dispose(a);
  });

  it('exports LayersModels: ours in tf.layers.bidirectional, stacked, last step only; and tfjs own layers', async () => {
    const ours = tf.sequential({
      layers: [
        tf.layers.bidirectional({
          layer: rt.layers.gru({ units: 4, returnSequences: true, seed: 3 }) as unknown as tf.RNN,
          inputShape: [null, 3],
        }),
        rt.layers.lstm({ units: 3, seed: 4 }),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const tfjs = tf.sequential({
      layers: [
        tf.layers.bidirectional({
          layer: tf.layers.lstm({ units: 4, returnSequences: true, recurrentInitializer: 'glorotUniform' }) as tf.RNN,
          inputShape: [null, 3],
        }),
        tf.layers.simpleRNN({ units: 3, returnSequences: true, recurrentInitializer: 'glorotUniform' }),
        tf.layers.gru({ units: 3, returnSequences: true, recurrentInitializer: 'glorotUniform' }),
        tf.layers.dense({ units: 2 }),
      ],
    });
    for (const model of [ours, tfjs]) {
      const before = tf.memory().numTensors;
      const want = model.predict(x) as tf.Tensor;
      const got = await runOrt(await rt.interop.toOnnx(model), x);
      expect(got.shape).to.deep.equal(want.shape);
      expectAbsClose(got, want, 1e-5);
      tf.dispose([want, got]);
      expect(tf.memory().numTensors).to.equal(before);
      model.dispose();
    }
  });

  it('a Keras 3 .keras file, loaded with loadKeras and exported, runs in onnxruntime as Keras computes it (1e-5)', async () => {
    const keras = join(FIXTURES, 'keras', 'keras3-lstm-bigru');
    const ref = JSON.parse(readFileSync(`${keras}.json`, 'utf8'));
    const model = await rt.interop.loadKeras(readFileSync(`${keras}.keras`));
    const input = tf.tensor(ref.input.data, ref.input.shape);
    const got = await runOrt(await rt.interop.toOnnx(model), input);
    expectAbsClose(got, ref.output.data, 1e-5);
    tf.dispose([input, got]);
    model.dispose();
  });

  it('rt.interop.save(net, "x.onnx") and rt.interop.load give the same predictions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rt-onnx-'));
    try {
      const net = rt.network({ cell: 'gru', inputSize: 3, units: 4, outputSize: 2, seed: 8 });
      await rt.interop.save(net, join(dir, 'net.onnx'));
      const loaded = await rt.interop.load(join(dir, 'net.onnx'));
      expect(loaded).to.be.instanceOf(rt.interop.OnnxModel);
      const y = await (loaded as rt.interop.OnnxModel).predict(x);
      const want = net.predict(x);
      expectAbsClose(y, want, 1e-6);
      tf.dispose([y, want]);
      (loaded as rt.interop.OnnxModel).dispose();
      net.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A copy of `bytes` with `edit` applied to its decoded model. */
async function edited(bytes: Uint8Array, edit: (graph: Onnx.GraphProto) => void): Promise<Uint8Array> {
  const onnx = await onnxProto('test');
  const model = onnx.ModelProto.decode(bytes);
  edit(model.graph as Onnx.GraphProto);
  return onnx.ModelProto.encode(model).finish();
}

describe('interop: ONNX sequence_lens and initial states, against onnxruntime-node', () => {
  it('a bidirectional LSTM node fed lengths [5, 2] and initial h, c gives what onnxruntime gives, to 1e-5', async () => {
    const net = rt.network({ cell: 'lstm', bidirectional: true, inputSize: 3, units: 4, outputSize: 2, seed: 12 });
    const bytes = await edited(await rt.interop.toOnnx(net), (g) => {
      (g.node[1].input as string[]).push('lens', 'h0', 'c0');
      const float = (dims: number[]) => ({
        tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
      });
      g.input.push(
        { name: 'lens', type: { tensorType: { elemType: 6, shape: { dim: [{ dimValue: 2 }] } } } },
        { name: 'h0', type: float([2, 2, 4]) },
        { name: 'c0', type: float([2, 2, 4]) },
      );
    });
    const feeds = {
      x: seededTensor([2, 5, 3], 13),
      lens: tf.tensor1d([5, 2], 'int32'),
      h0: seededTensor([2, 2, 4], 14, 0.5),
      c0: seededTensor([2, 2, 4], 15, 0.5),
    };
    const session = await ort.InferenceSession.create(bytes);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds))
      ortFeeds[k] = new ort.Tensor(
        t.dtype === 'int32' ? 'int32' : 'float32',
        (await t.data()) as Float32Array,
        t.shape,
      );
    const want = (await session.run(ortFeeds)).y;
    const before = tf.memory().numTensors;
    const model = await rt.interop.fromOnnx(bytes);
    const out = await model.run(feeds);
    expectAbsClose(out.y, Array.from(want.data as Float32Array), 1e-5);
    tf.dispose(Object.values(out));
    model.dispose();
    expect(tf.memory().numTensors).to.equal(before);
    tf.dispose(Object.values(feeds));
    net.dispose();
  });
});

describe('interop: ONNX refusals name what they refuse', () => {
  it('an unknown operator, an attribute we cannot honour (clip), a cell kind or activation ONNX lacks', async () => {
    const net = rt.network({ cell: 'lstm', inputSize: 3, units: 2, outputSize: 1, seed: 1 });
    const bytes = await rt.interop.toOnnx(net);
    const conv = await edited(bytes, (g) => (g.node[1].opType = 'Conv'));
    await rt.interop.fromOnnx(conv).then(
      () => expect.fail('accepted Conv'),
      (e: Error) => expect(e.message).to.match(/operator 'Conv' is not supported here/),
    );
    const clip = await edited(bytes, (g) =>
      (g.node[1].attribute as Onnx.IAttributeProto[]).push({ name: 'clip', type: 1, f: 3 }),
    );
    const model = await rt.interop.fromOnnx(clip);
    const x = tf.zeros([1, 2, 3]);
    await model.predict(x).then(
      () => expect.fail('accepted clip'),
      (e: Error) => expect(e.message).to.match(/attribute 'clip' \(cell clipping\) is not supported/),
    );
    model.dispose();
    x.dispose();
    net.dispose();
    const gelu = rt.network({ cell: 'elman', activation: 'gelu', inputSize: 3, units: 2, outputSize: 1 });
    await rt.interop.toOnnx(gelu).then(
      () => expect.fail('exported gelu'),
      (e: Error) => expect(e.message).to.match(/activation 'gelu' has no ONNX recurrent activation/),
    );
    gelu.dispose();
    const swish = rt.network({ cell: 'gru', inputSize: 3, units: 2, outputSize: 1, outputActivation: 'swish' });
    await rt.interop.toOnnx(swish).then(
      () => expect.fail('exported swish'),
      (e: Error) => expect(e.message).to.match(/output activation 'swish' has no ONNX operator/),
    );
    swish.dispose();
  });
});
