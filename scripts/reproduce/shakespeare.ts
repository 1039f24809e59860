/**
 * Character-level language modelling on Tiny Shakespeare (`data/tinyshakespeare.txt`), against
 * nanoGPT's published 1.88 nats per character (its CPU configuration: a 4-layer transformer of
 * width 128, context 64, 2,000 iterations, ~3 minutes on a laptop) and char-rnn's ~1.4–1.5 (LSTMs
 * of 2 × 512 trained for hours on a GPU). nanoGPT's split: the first 90% of the characters train,
 * the last 10% validate.
 *
 * Trains `rt.network` (one-hot characters in, logits of the next character out, a loss at every
 * step) with `rt.train` on shuffled non-overlapping windows of `--seq` characters until a budget of
 * training time is spent (default 3 minutes of the process's CPU time: steady on a shared machine;
 * `--by wall` for wall time), the learning rate decaying along a cosine to a tenth over the budget.
 * On the wasm backend the LSTM and GRU run their whole-sequence WebAssembly kernel.
 *
 *     npx tsx scripts/reproduce/shakespeare.ts [--cell lstm] [--units 256] [--seq 128] [--batch 32]
 *         [--truncate 0] [--lr 0.004] [--minutes 3] [--by cpu] [--seed 1] [--backend wasm]
 *         [--out out/reproduce] [--save models/shakespeare-lstm]
 *
 * Reports the validation loss two ways (nats per character, mean cross-entropy):
 * - `windowLoss`: every non-overlapping window of 64 characters of the validation text (1,742),
 *   each from a zero state, every position counted: nanoGPT's regime (context 64);
 * - `streamLoss`: the validation text as 64 contiguous streams, the state carried through each.
 *
 * Writes `out/reproduce/shakespeare-<cell>.json` (with the learning curve: the window loss on the
 * first 200 windows every `--every` seconds of training) and, with `--save DIR`, the model as
 * `tfjs-recurrent train` saves one (so `tfjs-recurrent sample DIR` reads it) and its card.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { saveCharModel, VOCAB_FILE } from '../../src/cli/char-model.js';
import { charWindows } from '../../src/data/text.js';
import { fastPathFor } from '../../src/fast/index.js';
import * as rt from '../../src/index.js';
import { writeCard, writeFormatted } from '../train-models/card.js';
import { cosineRate, TrainingClock } from './clock.js';
import { shakespeare, streamLoss, windowLoss } from './shakespeare-data.js';

const { values: args } = parseArgs({
  options: {
    cell: { type: 'string', default: 'lstm' },
    units: { type: 'string', default: '256' },
    layers: { type: 'string', default: '1' },
    seq: { type: 'string', default: '128' },
    batch: { type: 'string', default: '32' },
    truncate: { type: 'string', default: '0' },
    lr: { type: 'string', default: '0.004' },
    minutes: { type: 'string', default: '3' },
    by: { type: 'string', default: 'cpu' },
    every: { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'wasm' },
    out: { type: 'string', default: 'out/reproduce' },
    save: { type: 'string' },
  },
});
const [units, layers, seq, batch, truncate, learningRate, minutes, every, seed] = [
  args.units,
  args.layers,
  args.seq,
  args.batch,
  args.truncate,
  args.lr,
  args.minutes,
  args.every,
  args.seed,
].map(Number);
const by = args.by === 'wall' ? 'wall' : 'cpu';
const cell = args.cell as rt.CellKind;
await rt.backends.use(args.backend);

/** The window loss's context: nanoGPT's `block_size` of its CPU configuration. */
const EVAL_SEQ = 64;
/** Windows of the quick check stored in the card. */
const CHECK_WINDOWS = 100;
/** Windows of the learning curve's quick estimates. */
const CURVE_WINDOWS = 200;

const { vocabulary, train, validation } = shakespeare();
const V = vocabulary.size;
const net = rt.network({ cell, inputSize: V, units, layers, outputSize: V, seed });
const fast = net.cells
  .flat()
  .every((c) => fastPathFor(c.config)?.sequenceKernel?.fits(truncate || seq, batch, false) === true);
console.log(
  `${cell} ${layers}×${units}, windows of ${seq} × batch ${batch}: ` +
    `whole-sequence kernel ${fast ? 'taken' : 'NOT taken'} on ${tf.getBackend()}`,
);

const optimizer = tf.train.adam(learningRate);
const budget = minutes * 60;
const clock = new TrainingClock();
const curve: { wall: number; cpu: number; steps: number; trainLoss: number; windowLoss: number }[] = [];
let steps = 0;
let recent: number[] = [];
let nextPoint = every;
const point = () => {
  clock.pause();
  const spent = clock.elapsed;
  const trainLoss = recent.reduce((a, b) => a + b, 0) / Math.max(1, recent.length);
  curve.push({ ...spent, steps, trainLoss, windowLoss: windowLoss(net, validation, EVAL_SEQ, CURVE_WINDOWS) });
  const p = curve.at(-1)!;
  console.log(
    `${p.cpu.toFixed(0)} s CPU (${p.wall.toFixed(0)} s wall), step ${steps}: train ${trainLoss.toFixed(3)}, ` +
      `validation (first ${CURVE_WINDOWS} windows) ${p.windowLoss.toFixed(3)}`,
  );
  recent = [];
  clock.resume();
};
await rt.train(net, charWindows(train, { seq, batch, seed }), {
  loss: 'sparseSoftmaxCrossEntropy',
  optimizer,
  epochs: 1000,
  clipNorm: 5,
  ...(truncate > 0 && { bptt: { truncate } }),
  progress: false,
  callbacks: {
    onBatchEnd: (_b, logs) => {
      steps++;
      recent.push(logs.loss);
      const spent = clock.elapsed[by];
      (optimizer as unknown as { learningRate: number }).learningRate = cosineRate(learningRate, spent / budget);
      if (spent >= nextPoint) {
        nextPoint += every;
        point();
      }
      if (clock.spent(budget, by)) net.stopTraining = true;
    },
  },
});
clock.pause();
const trained = clock.elapsed;
const characters = steps * batch * seq;
console.log('evaluating on the whole validation text…');
const final = { windowLoss: windowLoss(net, validation, EVAL_SEQ), streamLoss: streamLoss(net, validation) };
console.log(
  `validation: ${final.windowLoss.toFixed(4)} nats/char (windows of ${EVAL_SEQ}), ${final.streamLoss.toFixed(4)} ` +
    `(streams); ${steps} steps, ${(characters / 1e6).toFixed(2)} M characters in ${trained.cpu.toFixed(0)} s CPU, ` +
    `${trained.wall.toFixed(0)} s wall`,
);

const hyper = { cell, layers, units, seq, batch, truncate, learningRate, clipNorm: 5, seed };
const result = {
  task: 'Tiny Shakespeare, character-level (nanoGPT split: first 90% train, last 10% validation)',
  ...hyper,
  backend: tf.getBackend(),
  wholeSequenceKernel: fast,
  budget: { seconds: budget, by },
  trainingSeconds: { cpu: trained.cpu, wall: trained.wall },
  steps,
  characters,
  ...final,
  published: { nanoGptCpu: 1.88, charRnn: '1.4-1.5' },
  curve,
};
const name = `shakespeare-${cell}${layers > 1 ? `-${layers}x${units}` : ''}`;
await mkdir(args.out, { recursive: true });
await writeFile(join(args.out, `${name}.json`), `${JSON.stringify(result, null, 1)}\n`);
console.log(`wrote ${join(args.out, `${name}.json`)}`);

if (args.save) await save(args.save);
optimizer.dispose();
net.dispose();

/** `1234567` as `1,234,567`. */
function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Saves the model where `tfjs-recurrent sample` reads it, draws a sample with that command, and writes the card. */
async function save(dir: string): Promise<void> {
  await saveCharModel(dir, net, train);
  // Stored as the repository formats JSON (the lint check reads models/).
  const vocabFile = join(dir, VOCAB_FILE);
  await writeFormatted(vocabFile, await readFile(vocabFile, 'utf8'));
  const sampleArgs = ['sample', dir, '--n', '1', '--max-length', '500', '--temperature', '0.8', '--seed', '1'];
  const sample = spawnSync('npx', ['tsx', 'src/cli/main.ts', ...sampleArgs], { encoding: 'utf8' });
  if (sample.status !== 0) throw new Error(`sample failed (exit ${sample.status}): ${sample.stderr}`);
  const flags = Object.entries(args)
    .filter(([k]) => !['out', 'save', 'every'].includes(k))
    .map(([k, v]) => `--${k} ${v}`);
  const machine = `${process.arch} ${(await import('node:os')).cpus()[0]?.model ?? ''}`.trim();
  await writeCard(dir, {
    title: `${name}: a character-level language model of Tiny Shakespeare`,
    summary:
      `A${cell === 'lstm' ? 'n' : ''} ${cell.toUpperCase()} (${layers > 1 ? `${layers} layers of ` : ''}${units} units) ` +
      `that reads the text one character at a time (one-hot, ${V} characters) and gives the logits of the next one, ` +
      `trained for ${minutes} minutes of CPU time on one core (${tf.getBackend()} backend) as the reproduction of ` +
      "nanoGPT's CPU configuration (validation loss 1.88 nats per character in ~3 minutes; char-rnn's long GPU runs reach ~1.4–1.5).",
    data: [
      `\`data/tinyshakespeare.txt\` (Tiny Shakespeare, ${count(train.ids.length + validation.ids.length)} characters, ` +
        'public domain; source in `data/SOURCES.md`).',
      `nanoGPT's split: the first 90% of the characters (${count(train.ids.length)}) train, the last 10% ` +
        `(${count(validation.ids.length)}) validate.`,
      `\`vocab.json\`: the ${V} characters (the network's inputs and outputs, in order).`,
    ],
    training: [
      `\`rt.train\`: shuffled non-overlapping windows of ${seq} characters, batch ${batch}` +
        `${truncate > 0 ? `, truncated BPTT every ${truncate} steps` : ', full BPTT through each window'}, ` +
        `softmax cross-entropy at every step, Adam ${learningRate} decaying along a cosine to a tenth over the budget, ` +
        'gradients clipped to global norm 5.',
      `${steps} steps (${(characters / 1e6).toFixed(2)} M characters, ${(characters / train.ids.length).toFixed(2)} passes) in ` +
        `${trained.cpu.toFixed(0)} s of CPU time (${trained.wall.toFixed(0)} s wall) on ${machine}, ` +
        `backend ${tf.getBackend()}${fast ? ' (whole-sequence WebAssembly kernel)' : ''}.`,
      `Sample (\`npx tsx src/cli/main.ts ${sampleArgs.join(' ')}\`, from a line break):\n\n${sample.stdout
        .trimEnd()
        .split('\n')
        .map((l) => `  > ${l}`)
        .join('\n')}`,
    ],
    command: `npx tsx scripts/reproduce/shakespeare.ts ${flags.join(' ')} --save ${dir}`,
    metrics: {
      validationWindowLoss: {
        value: final.windowLoss,
        about: `nats per character, mean over all ${count(Math.floor((validation.ids.length - 1) / EVAL_SEQ))} non-overlapping ${EVAL_SEQ}-character windows of the validation text, each from a zero state (nanoGPT CPU: 1.88)`,
      },
      [`validationWindowLossFirst${CHECK_WINDOWS}`]: {
        value: windowLoss(net, validation, EVAL_SEQ, CHECK_WINDOWS),
        about: `the same over the first ${CHECK_WINDOWS} windows (what the test checks quickly)`,
      },
      validationStreamLoss: {
        value: final.streamLoss,
        about:
          'nats per character, the validation text as 64 contiguous streams with the state carried (char-rnn: ~1.4–1.5)',
      },
    },
    usage: `
// npx tsx src/cli/main.ts sample ${dir} --max-length 500
import * as rt from 'tfjs-recurrent';
const net = await rt.models.load('${basename(dir)}'); // the copy the package ships; inputs/outputs: the characters of vocab.json
`,
    checkedBy: 'test/models-reproduce.test.ts',
  });
  console.log(`saved to ${dir}`);
}
