// safetensors in and out: PyTorch state dicts written by scripts/onnx-fixtures.py (PyTorch's
// outputs), our files read back by PyTorch (load_state_dict(strict=True) and its forward pass),
// the dtypes, and the refusals.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as rt from '../src/index.js';
import { expectAbsClose } from './helpers/close.js';
import { seededTensor } from './helpers/property.js';

const TORCH = join(import.meta.dirname, '..', 'fixtures', 'onnx');
const PYTHON = '/usr/bin/python3';

/** A safetensors file from a header object and raw data bytes. */
function file(header: object, data: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('interop: safetensors written from PyTorch state dicts', () => {
  const cases: [string, rt.interop.StateDictOptions, boolean][] = [
    ['lstm-2layer-bidirectional', {}, true],
    ['gru-bidirectional', {}, true],
    ['gru-time-major', {}, false],
    ['rnn-relu-2layer', { nonlinearity: 'relu' }, true],
  ];
  for (const [name, options, batchFirst] of cases) {
    it(`${name}.safetensors loads into a network giving PyTorch's outputs to 1e-5`, () => {
      const ref = JSON.parse(readFileSync(join(TORCH, `${name}.json`), 'utf8'));
      const before = tf.memory().numTensors;
      const net = rt.interop.fromSafetensors(readFileSync(join(TORCH, `${name}.safetensors`)), options);
      const x = tf.tensor3d(ref.input.data, ref.input.shape);
      const time = (t: tf.Tensor3D) => (batchFirst ? t : (tf.transpose(t, [1, 0, 2]) as tf.Tensor3D));
      const y = tf.tidy(() => time(net.predict(time(x))));
      expectAbsClose(y, ref.output.data, 1e-5, name);
      tf.dispose([x, y]);
      net.dispose();
      expect(tf.memory().numTensors).to.equal(before);
    });
  }
});

describe('interop: safetensors out', () => {
  it("writes PyTorch's names, reads back the same network, and records the kind and nonlinearity", async () => {
    const net = rt.network({
      cell: 'elman',
      activation: 'relu',
      layers: 2,
      bidirectional: true,
      inputSize: 3,
      units: 4,
      outputSize: 2,
      seed: 2,
    });
    const bytes = await rt.interop.toSafetensors(net);
    const { tensors, metadata } = rt.interop.readSafetensors(bytes);
    expect(Object.keys(tensors)).to.deep.equal(Object.keys(rt.interop.toPyTorch(net)));
    expect(Object.keys(tensors)).to.include.members(['rnn.weight_ih_l1_reverse', 'fc.weight', 'fc.bias']);
    expect(metadata.format).to.equal('pt');
    const back = rt.interop.fromSafetensors(bytes);
    expect(back.cells[0][0].config.activation).to.equal('relu');
    const x = seededTensor([2, 5, 3], 4);
    const [a, b] = [net.predict(x), back.predict(x)];
    expectAbsClose(b, a, 1e-7);
    tf.dispose([x, a, b]);
    net.dispose();
    back.dispose();
    const sigmoid = rt.network({ cell: 'gru', inputSize: 3, units: 4, outputSize: 2, outputActivation: 'sigmoid' });
    await rt.interop.toSafetensors(sigmoid).then(
      () => expect.fail('wrote a sigmoid head as nn.Linear'),
      (e: Error) => expect(e.message).to.match(/outputActivation 'sigmoid'/),
    );
    sigmoid.dispose();
  });

  it('PyTorch loads our file with load_state_dict(strict=True) and computes our predictions to 1e-5', async function () {
    const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.log(
        `      skipped: ${PYTHON} with torch is not available (${probe.error?.message ?? probe.stderr.trim()})`,
      );
      this.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), 'rt-safetensors-'));
    try {
      const net = rt.network({
        cell: 'lstm',
        layers: 2,
        bidirectional: true,
        inputSize: 3,
        units: 4,
        outputSize: 2,
        seed: 6,
      });
      await rt.interop.save(net, join(dir, 'net.safetensors'));
      const x = seededTensor([2, 5, 3], 9);
      writeFileSync(join(dir, 'x.json'), JSON.stringify(Array.from(await x.data())));
      // The state dict is parsed as the safetensors specification says (Debian has no safetensors package).
      const script = `
import json, struct, sys, numpy as np, torch
raw = open(sys.argv[1] + '/net.safetensors', 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
sd = {k: torch.from_numpy(np.frombuffer(raw[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]], '<f4').reshape(v['shape']).copy())
      for k, v in header.items() if k != '__metadata__'}
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = torch.nn.Linear(8, 2)
    def forward(self, x):
        return self.fc(self.rnn(x)[0])
net = Net()
net.load_state_dict(sd, strict=True)
x = torch.tensor(json.load(open(sys.argv[1] + '/x.json')), dtype=torch.float32).reshape(2, 5, 3)
print(json.dumps(net(x).detach().reshape(-1).tolist()))
`;
      const run = spawnSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' });
      expect(run.status, run.stderr).to.equal(0);
      const theirs = JSON.parse(run.stdout) as number[];
      const ours = net.predict(x);
      expectAbsClose(ours, theirs, 1e-5, 'ours vs PyTorch');
      tf.dispose([x, ours]);
      net.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('interop: safetensors format', () => {
  it('reads F32, F64, F16 and BF16 as float32 values', () => {
    // 1.5 in each: F32 0x3FC00000, F64 0x3FF8000000000000, F16 0x3E00, BF16 0x3FC0; then -2 in F16 (0xC000).
    const data = [0, 0, 0xc0, 0x3f, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x00, 0x3e, 0xc0, 0x3f, 0x00, 0xc0];
    const { tensors } = rt.interop.readSafetensors(
      file(
        {
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          b: { dtype: 'F64', shape: [], data_offsets: [4, 12] },
          c: { dtype: 'F16', shape: [1], data_offsets: [12, 14] },
          d: { dtype: 'BF16', shape: [1], data_offsets: [14, 16] },
          e: { dtype: 'F16', shape: [1, 1], data_offsets: [16, 18] },
        },
        data,
      ),
    );
    expect([tensors.a, tensors.b, tensors.c, tensors.d].map((t) => t.data[0])).to.deep.equal([1.5, 1.5, 1.5, 1.5]);
    expect(tensors.e).to.deep.equal({ shape: [1, 1], data: new Float32Array([-2]) });
  });

  it('writes what it reads, 8-byte aligned', () => {
    const bytes = rt.interop.writeSafetensors({ 'ü.w': { shape: [2, 2], data: [1, 2, 3, 4] } }, { note: 'x' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).to.equal(0);
    const { tensors, metadata } = rt.interop.readSafetensors(bytes);
    expect(tensors['ü.w']).to.deep.equal({ shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) });
    expect(metadata).to.deep.equal({ note: 'x' });
  });

  it('refuses a dtype it does not read, bad offsets, overlaps, a header that does not fit, naming them', () => {
    const refusals: [Uint8Array, RegExp][] = [
      [
        file({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Array(8).fill(0)),
        /tensor 'w' has dtype "I64"/,
      ],
      [
        file({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Array(4).fill(0)),
        /needs 8 bytes, its offsets span 4/,
      ],
      [
        file({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 8] } }, new Array(4).fill(0)),
        /outside the 4 bytes of data/,
      ],
      [
        file(
          {
            v: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
            w: { dtype: 'F32', shape: [1], data_offsets: [2, 6] },
          },
          new Array(8).fill(0),
        ),
        /tensors 'v' and 'w' overlap/,
      ],
      [new Uint8Array([255, 255, 0, 0, 0, 0, 0, 0, 123]), /header length 65535 does not fit/],
    ];
    for (const [bytes, pattern] of refusals) expect(() => rt.interop.readSafetensors(bytes)).to.throw(pattern);
  });
});

describe('interop: rt.interop.load and save choose the format', () => {
  it('a .safetensors path or bytes, a folder saved with net.save or tfjs, a state dict object; refusals name the format', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rt-load-'));
    try {
      const net = rt.network({ cell: 'gru', layers: 2, inputSize: 3, units: 4, outputSize: 2, seed: 3 });
      const x = seededTensor([2, 4, 3], 5);
      const want = net.predict(x);
      await rt.interop.save(net, join(dir, 'net.safetensors'));
      await rt.interop.save(net, join(dir, 'folder'));
      const loaded = [
        await rt.interop.load(join(dir, 'net.safetensors')),
        await rt.interop.load(`file://${join(dir, 'folder')}`),
        await rt.interop.load(readFileSync(join(dir, 'net.safetensors'))),
        await rt.interop.load(rt.interop.toPyTorch(net)),
      ];
      for (const [i, m] of loaded.entries()) {
        expect(m, `source ${i}`).to.be.instanceOf(rt.RecurrentNetwork);
        const y = (m as rt.RecurrentNetwork).predict(x);
        expectAbsClose(y, want, 1e-6, `source ${i}`);
        y.dispose();
        (m as rt.RecurrentNetwork).dispose();
      }
      const tfjsModel = net.toLayersModel();
      await tfjsModel.save(`file://${join(dir, 'tfjs')}`);
      const layersModel = await rt.interop.load(join(dir, 'tfjs', 'model.json'));
      expect(layersModel).to.be.instanceOf(tf.LayersModel);
      const z = (layersModel as tf.LayersModel).predict(x) as tf.Tensor;
      expectAbsClose(z, want, 1e-5, 'a tfjs LayersModel folder');
      tf.dispose(z);
      tfjsModel.dispose();
      (layersModel as tf.LayersModel).dispose();
      await rt.interop.save(net, join(dir, 'net.h5')).then(
        () => expect.fail('saved .h5'),
        (e: Error) => expect(e.message).to.match(/expected a path ending \.onnx or \.safetensors/),
      );
      await rt.interop.load(new Uint8Array(16).fill(7)).then(
        () => expect.fail('loaded junk'),
        (e: Error) => expect(e.message).to.match(/none of the formats read here/),
      );
      tf.dispose([x, want]);
      net.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
