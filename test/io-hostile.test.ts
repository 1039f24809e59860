// Issue 18, the file half: hostile model files and damaged checkpoints get a clear answer, never a
// hang and never silently wrong numbers. FIFOs (made with mkfifo) and devices are refused without
// being opened for a blocking read; NaN/Inf and duplicate weights, deeply nested JSON, vocabularies
// that do not belong to the network and damaged trainer/optimizer state are refused, naming the
// file and the field.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { renameSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { checkOutDir, loadCharModel, saveCharModel } from '../src/cli/char-model.js';
import { charCorpus } from '../src/data/text.js';
import { checkpointRun } from './helpers/checkpoint-run.js';
import { bitwiseEqual } from './helpers/property.js';

let base: string;
let dir: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'rt-io-hostile-'));
  dir = join(base, 'model');
  mkdirSync(dir);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const hasMkfifo = (() => {
  try {
    execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function fifo(path: string): void {
  rmSync(path, { force: true });
  execFileSync('mkfifo', [path]);
}

/** `promise` rejects, within 5 s, with an Error whose message matches `pattern`. */
async function refused(promise: Promise<unknown>, pattern: RegExp): Promise<Error> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('HUNG: no answer within 5 s')), 5000);
  });
  let error: Error | undefined;
  try {
    const value = await Promise.race([promise, hang]);
    (value as { dispose?: () => void } | undefined)?.dispose?.();
  } catch (e) {
    error = e as Error;
  } finally {
    clearTimeout(timer);
  }
  expect(error, `expected a refusal matching ${pattern}`).to.be.instanceOf(Error);
  expect(error!.message).to.match(pattern);
  return error!;
}

async function saveNet(cell: 'elman' | 'lstm' = 'elman'): Promise<tf.io.ModelJSON> {
  const net = rt.network({ cell, inputSize: 2, units: 3, outputSize: 2, seed: 4 });
  await net.save(`file://${dir}`);
  net.dispose();
  return JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
}

const loaders = {
  network: () => rt.loadNetwork(`file://${dir}`),
  layersModel: () => tf.loadLayersModel(`file://${dir}`),
};

describe('io hostile: only regular files of sane size are read', () => {
  for (const [name, load] of Object.entries(loaders)) {
    it(`${name}: a FIFO as model.json or as the weights file is refused at once`, async function () {
      if (!hasMkfifo) this.skip();
      await saveNet();
      const weights = join(dir, 'weights.bin');
      fifo(weights);
      await refused(load(), /weights\.bin.*not a regular file|FIFO/);
      fifo(join(dir, 'model.json'));
      await refused(load(), /Cannot read .*model\.json: it is a FIFO \(named pipe\), expected a regular file/);
    });

    it(`${name}: /dev/zero (a device) as model.json is refused before reading`, async () => {
      symlinkSync('/dev/zero', join(dir, 'model.json'));
      const before = process.memoryUsage().rss;
      await refused(load(), /model\.json: it is a character device, expected a regular file/);
      expect(process.memoryUsage().rss - before).to.be.below(100 * 1024 * 1024);
    });
  }

  it('a model.json larger than the limit is refused by its size', async () => {
    const file = join(dir, 'model.json');
    writeFileSync(file, '');
    execFileSync('truncate', ['-s', `${65 * 1024 * 1024}`, file]);
    await refused(rt.loadNetwork(`file://${dir}`), /model\.json: it is 68157440 bytes, expected at most 67108864/);
  });
});

describe('io hostile: silently wrong files are refused', () => {
  for (const [name, load] of Object.entries(loaders)) {
    it(`${name}: NaN and infinite weights, naming the weight`, async () => {
      for (const bad of [NaN, Infinity, -Infinity]) {
        if (name === 'network') await saveNet();
        else {
          const net = rt.network({ cell: 'elman', inputSize: 2, units: 3, outputSize: 2, seed: 4 });
          const model = net.toLayersModel();
          await model.save(`file://${dir}`);
          model.dispose();
          net.dispose();
        }
        const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
        delete json.weightsCrc32; // as another tool writes it: the value check, not the checksum, answers
        writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
        const file = join(dir, json.weightsManifest[0].paths[0]);
        const bytes = readFileSync(file);
        bytes.writeFloatLE(bad, 4);
        writeFileSync(file, bytes);
        const first = json.weightsManifest[0].weights[0].name;
        await refused(load(), new RegExp(`weight "${first}" holds ${bad} at flat index 1`));
      }
    });

    it(`${name}: duplicate weight entries (the later would win)`, async () => {
      const json = await saveNet();
      delete (json as unknown as Record<string, unknown>).weightsCrc32;
      const group = json.weightsManifest[0];
      const file = join(dir, group.paths[0]);
      const bytes = readFileSync(file);
      const firstBytes = 4 * group.weights[0].shape.reduce((a, b) => a * b, 1);
      group.weights.push(group.weights[0]);
      writeFileSync(file, Buffer.concat([bytes, bytes.subarray(0, firstBytes)]));
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      await refused(load(), /weight "W_hx" appears twice/);
    });

    it(`${name}: deeply nested JSON, without a stack overflow`, async () => {
      const json = await saveNet();
      const deep = '['.repeat(200_000) + ']'.repeat(200_000);
      const text = JSON.stringify({ ...json, userDefinedMetadata: { x: 0 } }).replace('{"x":0}', `{"x":${deep}}`);
      writeFileSync(join(dir, 'model.json'), text);
      await refused(load(), /Malformed .*model\.json: JSON nested deeper than 64 levels/);
    });
  }

  it('layersModel: a class config that is not an object, and a weight named "constructor"', async () => {
    const save = async () => {
      const net = rt.network({ cell: 'lstm', inputSize: 2, units: 3, outputSize: 2, seed: 4 });
      const model = net.toLayersModel();
      await model.save(`file://${dir}`);
      model.dispose();
      net.dispose();
      return JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    };
    const json = await save();
    json.modelTopology.config.layers[0].config = 5;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    await refused(
      tf.loadLayersModel(`file://${dir}`),
      /Malformed .*model\.json: modelTopology\.config\.layers\[0\]\.config of "LSTM" is 5, expected an object/,
    );
    const again = await save();
    again.weightsManifest[0].weights[0].name = 'constructor';
    writeFileSync(join(dir, 'model.json'), JSON.stringify(again));
    await refused(
      tf.loadLayersModel(`file://${dir}`),
      /the weight name "constructor" is a property of every JavaScript/,
    );
  });

  it('a weights file changed behind the manifest (same size) fails the checksum', async () => {
    await saveNet();
    const file = join(dir, 'weights.bin');
    const bytes = readFileSync(file);
    bytes.writeFloatLE(0.25, 8);
    writeFileSync(file, bytes);
    await refused(rt.loadNetwork(`file://${dir}`), /Weights of .*model\.json do not match the checksum weightsCrc32/);
  });

  it('in-memory artifacts: NaN and duplicates are refused too', async () => {
    const net = rt.network({ cell: 'elman', inputSize: 1, units: 2, outputSize: 1, seed: 1 });
    const artifacts = await rt.io.networkArtifacts(net);
    const data = new Float32Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!).slice(0));
    data[0] = NaN;
    const bad = { ...artifacts, weightData: data.buffer };
    expect(() => rt.io.networkFromArtifacts(bad)).to.throw(/weight "W_hx" holds NaN/);
    net.dispose();
  });

  it('file:// URLs are decoded: my%20model is the folder "my model"', async () => {
    const net = rt.network({ cell: 'gru', inputSize: 2, units: 2, outputSize: 1, seed: 2 });
    await net.save(`file://${base}/my%20model`);
    expect(existsSync(join(base, 'my model', 'model.json'))).to.equal(true);
    expect(existsSync(join(base, 'my%20model'))).to.equal(false);
    const back = await rt.loadNetwork(`file://${base}/my%20model`);
    for (const [k, v] of Object.entries(net.params)) expect(bitwiseEqual(back.params[k], v), k).to.equal(true);
    await refused(rt.loadNetwork(`file://${base}/100%`), /Malformed file URL .*write a literal % as %25/);
    back.dispose();
    net.dispose();
  });
});

describe('io hostile: the CLI model directory (model and vocabulary as one unit)', () => {
  const corpus = charCorpus('anna\nbob\ncarl\ndora\n', { mode: 'lines' });
  const size = corpus.vocabulary.size;
  const newNet = (seed = 1) => rt.network({ cell: 'elman', inputSize: size, units: 4, outputSize: size, seed });
  const vocabFile = () => join(dir, 'vocab.json');
  const editVocab = (edit: (v: { chars: string[] }) => void) => {
    const v = JSON.parse(readFileSync(vocabFile(), 'utf8'));
    edit(v);
    writeFileSync(vocabFile(), JSON.stringify(v));
  };

  it('saves and loads back; a permuted, multi-character or wrong-size vocab.json is refused', async () => {
    const net = newNet();
    await saveCharModel(dir, net, corpus);
    expect(readdirSync(dir).sort()).to.deep.equal(['model.json', 'vocab.json', 'weights.bin']);
    const ok = await loadCharModel('sample', dir);
    expect(ok.vocabulary.chars).to.deep.equal(corpus.vocabulary.chars);
    ok.net.dispose();
    const original = readFileSync(vocabFile(), 'utf8');
    editVocab((v) => v.chars.reverse());
    await refused(
      loadCharModel('sample', dir),
      /vocab\.json is not the vocabulary the network .* was trained with \(id 0/,
    );
    writeFileSync(vocabFile(), original);
    editVocab((v) => (v.chars[1] = 'ab'));
    await refused(
      loadCharModel('sample', dir),
      /vocab\.json is malformed \(chars\[1\] is "ab", expected one character\)/,
    );
    writeFileSync(vocabFile(), original);
    editVocab((v) => v.chars.push('z'));
    await refused(
      loadCharModel('sample', dir),
      /vocab\.json is not the vocabulary .*\(\d+ characters, the network's has \d+\)/,
    );
    net.dispose();
  });

  it('a model saved without the vocabulary in model.json: a permuted vocab.json is refused', async () => {
    const net = newNet();
    await net.save(`file://${dir}`);
    const chars = [...corpus.vocabulary.chars];
    [chars[1], chars[2]] = [chars[2], chars[1]];
    const vocab = { format: 'tfjs-recurrent/char-vocabulary', version: 1, mode: 'lines', boundary: '\n', chars };
    writeFileSync(vocabFile(), JSON.stringify(vocab));
    await refused(loadCharModel('sample', dir), /vocab\.json is not in sorted order/);
    net.dispose();
  });

  it('a FIFO vocab.json is refused at once', async function () {
    if (!hasMkfifo) this.skip();
    const net = newNet();
    await saveCharModel(dir, net, corpus);
    fifo(vocabFile());
    await refused(loadCharModel('sample', dir), /vocab\.json: it is a FIFO/);
    net.dispose();
  });

  it('killed between the two renames: the previous pair loads; the next save cleans up', async () => {
    const net = newNet(1);
    await saveCharModel(dir, net, corpus);
    renameSync(dir, `${dir}.previous`);
    mkdirSync(`${dir}.partial-999999-1`);
    writeFileSync(`${dir}.partial-999999-1/model.json`, '{');
    const back = await loadCharModel('sample', dir);
    for (const [k, v] of Object.entries(net.params)) expect(bitwiseEqual(back.net.params[k], v), k).to.equal(true);
    back.net.dispose();
    const next = newNet(2);
    await saveCharModel(dir, next, corpus);
    expect(readdirSync(base).sort()).to.deep.equal(['model']);
    net.dispose();
    next.dispose();
  });

  it('--out is checked before training, with clear messages', async () => {
    writeFileSync(join(base, 'afile'), 'x');
    await refused(checkOutDir('train', join(base, 'afile')), /--out .*afile: .*afile is a file; expected a directory/);
    await refused(checkOutDir('train', join(base, 'afile', 'sub')), /a part of the path is a file/);
    await refused(checkOutDir('train', '/proc/nope'), /is in a virtual file system/);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await refused(checkOutDir('train', dir), /holds files that are not a model \(notes\.txt\)/);
    await checkOutDir('train', join(base, 'new', 'deeper'));
    expect(readdirSync(base).sort()).to.deep.equal(['afile', 'model', 'new']);
  });
});

describe('io hostile: damaged checkpoints', () => {
  let ckpt: string;
  beforeEach(async () => {
    ckpt = join(base, 'ckpt');
    (await checkpointRun(ckpt, 2)).net.dispose();
  });
  const trainer = () => join(ckpt, 'trainer.json');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test edits the JSON freely
  const editTrainer = (edit: (t: Record<string, any>) => void) => {
    const t = JSON.parse(readFileSync(trainer(), 'utf8'));
    edit(t);
    writeFileSync(trainer(), JSON.stringify(t));
  };
  const resume = (epochs = 3) => checkpointRun(ckpt, epochs).then((r) => r.net);

  it('epochsDone beyond the history or the requested epochs', async () => {
    const saved = readFileSync(trainer(), 'utf8');
    editTrainer((t) => (t.epochsDone = 1e9));
    await refused(resume(), /Malformed trainer state .*trainer\.json: epochsDone is 1000000000, expected at most/);
    writeFileSync(trainer(), saved);
    editTrainer((t) => (t.epochsDone = 5));
    await refused(resume(), /epochsDone is 5 but history\.loss holds 2 losses/);
    writeFileSync(trainer(), saved);
    await refused(resume(1), /the checkpoint has 2 epochs done, more than the 1 epochs this run asks for/);
  });

  it('non-numeric losses in the saved history', async () => {
    editTrainer((t) => (t.history.loss[1] = '0.5'));
    await refused(resume(), /trainer\.json: history\.loss\[1\] is "0\.5", expected a finite number/);
    editTrainer((t) => (t.history.loss[1] = null));
    await refused(resume(), /history\.loss\[1\] is null/);
  });

  it('truncated, NaN, mis-shaped or missing optimizer weights, naming the file and the weight', async () => {
    const bin = join(ckpt, 'optimizer.bin');
    const bytes = readFileSync(bin);
    const saved = readFileSync(trainer(), 'utf8');
    writeFileSync(bin, bytes.subarray(0, bytes.length - 4));
    await refused(resume(), /optimizer\.bin .*: the file is \d+ bytes but the specs describe \d+ \(truncated/);
    const nan = Buffer.from(bytes);
    nan.writeFloatLE(NaN, 8);
    writeFileSync(bin, nan);
    await refused(resume(), /optimizer\.bin .*: weight ".*" holds NaN at flat index \d+/);
    writeFileSync(bin, bytes);
    editTrainer((t) => {
      const spec = t.optimizerWeights[1];
      spec.shape = [...spec.shape].reverse();
      if (spec.shape.length === 1) spec.shape = [1, spec.shape[0]];
    });
    await refused(resume(), /optimizer\.bin .*: weight ".*" has shape \[.*\], expected \[.*\]/);
    writeFileSync(trainer(), saved);
    let cut = 0;
    editTrainer((t) => {
      const last = t.optimizerWeights.filter((s: { name: string }) => !s.name.startsWith('exact/')).pop();
      cut = 4 * last.shape.reduce((a: number, b: number) => a * b, 1);
      t.optimizerWeights = t.optimizerWeights.filter((s: { name: string }) => s !== last && s.name !== last.name);
    });
    // The accumulators stored after the slots move down by the removed weight's bytes.
    const specs = JSON.parse(readFileSync(trainer(), 'utf8')).optimizerWeights as { name: string; shape: number[] }[];
    const slotBytes = specs
      .filter((s) => !s.name.startsWith('exact/'))
      .reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
    writeFileSync(bin, Buffer.concat([bytes.subarray(0, slotBytes), bytes.subarray(slotBytes + cut)]));
    await refused(resume(), /optimizer\.bin .*: \d+ state weights for \d+ variables; .*weights missing or extra/);
  });

  it('a FIFO trainer.json or optimizer.bin is refused at once', async function () {
    if (!hasMkfifo) this.skip();
    fifo(join(ckpt, 'optimizer.bin'));
    await refused(resume(), /optimizer\.bin: it is a FIFO/);
    fifo(trainer());
    await refused(resume(), /trainer\.json: it is a FIFO/);
    await refused(rt.loadCheckpoint(ckpt), /trainer\.json: it is a FIFO/);
  });

  it('two runs on one checkpoint path: the second is refused by the lock, naming the holder', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const first = checkpointRun(ckpt, 3, {
      callbacks: {
        onEpochEnd: async () => {
          entered();
          await gate;
        },
      },
    });
    await inside;
    await refused(
      resume(4),
      /the checkpoint path .*ckpt is locked by process \d+ .*give this run another checkpoint\.path/,
    );
    release();
    (await first).net.dispose();
    expect(existsSync(`${ckpt}.lock`), 'the lock goes when the run ends').to.equal(false);
  });
});
