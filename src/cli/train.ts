/**
 * `tfjs-recurrent train --text FILE`: a character-level language model on any text file (one item
 * per line, such as names, or free text). The network reads one-hot characters and predicts the
 * next character at every step (logits, softmax cross-entropy), trained with explicit BPTT;
 * the model and its vocabulary are saved to a directory that `tfjs-recurrent sample` reads.
 */
import type { Command } from 'commander';
import { charCorpus, charWindows, type CharCorpus } from '../data/text.js';
import * as rt from '../index.js';
import { MAX_BINARY_BYTES, readRegularFile } from '../io/file.js';
import { epochLine } from '../progress.js';
import { checkOutDir, saveCharModel } from './char-model.js';
import { BIN, command, displayPath, integer, positiveInt, positiveNumber, printJson, startBackend } from './command.js';

export const TRAIN_DEFAULTS = {
  cell: 'lstm',
  units: 128,
  epochs: 10,
  seq: 32,
  batch: 32,
  lr: 0.005,
  clipNorm: 5,
  mode: 'auto',
  backend: 'wasm',
  out: 'model',
  seed: 1,
};

interface TrainCommandOptions {
  text: string;
  cell: string;
  units: number;
  epochs: number;
  seq: number;
  batch: number;
  lr: number;
  mode: string;
  backend: string;
  out: string;
  seed: number;
  json?: boolean;
}

export function registerTrain(program: Command): void {
  const d = TRAIN_DEFAULTS;
  program.addCommand(
    command(
      'train',
      'Train a character-level language model on a text file (one item per line, or free text) and save it ' +
        `with its vocabulary; then generate with \`${BIN} sample DIR\``,
    )
      .requiredOption('--text <file>', 'the corpus: a UTF-8 text file')
      .option('--cell <kind>', 'elman, lstm or gru', d.cell)
      .option('--units <n>', 'hidden units', positiveInt, d.units)
      .option('--epochs <n>', 'passes over the corpus', positiveInt, d.epochs)
      .option('--seq <n>', 'characters per training window (BPTT length)', positiveInt, d.seq)
      .option('--batch <n>', 'windows per batch', positiveInt, d.batch)
      .option('--lr <rate>', 'learning rate of Adam', positiveNumber, d.lr)
      .option('--mode <mode>', 'lines (one item per line), text (free text) or auto', d.mode)
      .option('--backend <name>', 'TensorFlow.js backend', d.backend)
      .option('--out <dir>', 'directory to save the model and vocab.json to', d.out)
      .option('--seed <n>', 'seed of the initial weights and the order of the windows', integer, d.seed)
      .option('--json', 'print {"history":{"loss":[...]},"out":DIR} as the last line of stdout')
      .action((options: TrainCommandOptions) => trainCommand(options)),
  );
}

async function trainCommand(o: TrainCommandOptions): Promise<void> {
  const cell = rt.cells.CELL_KINDS.find((k) => k === o.cell);
  if (!cell) throw new Error(`train: --cell must be one of ${rt.cells.CELL_KINDS.join(', ')}, got '${o.cell}'`);
  if (o.mode !== 'auto' && o.mode !== 'lines' && o.mode !== 'text') {
    throw new Error(`train: --mode must be lines, text or auto, got '${o.mode}'`);
  }
  await checkOutDir('train', o.out);
  const corpus = await readCorpus(o.text, o.mode);
  const data = windows(corpus, o);
  await startBackend('train', o.backend);
  const size = corpus.vocabulary.size;
  if (!o.json) {
    const what = corpus.mode === 'lines' ? `${corpus.items} lines` : 'free text';
    console.log(
      `corpus ${displayPath(o.text)}: ${corpus.ids.length} characters (${what}), ${size} distinct; ` +
        `${data.batches} batches per epoch`,
    );
  }
  const net = rt.network({ cell, inputSize: size, units: o.units, outputSize: size, seed: o.seed });
  // A bar on a terminal; in a pipe or a CI log, one plain line per epoch.
  const bar = !o.json && process.stdout.isTTY === true;
  let started = Date.now();
  const lines = {
    onEpochEnd: (epoch: number, logs: { loss: number }) => {
      console.log(epochLine(epoch, o.epochs, logs, Date.now() - started));
      started = Date.now();
    },
  };
  try {
    const history = await rt.train(net, data, {
      loss: 'sparseSoftmaxCrossEntropy',
      target: 'everyStep',
      optimizer: 'adam',
      learningRate: o.lr,
      clipNorm: TRAIN_DEFAULTS.clipNorm,
      epochs: o.epochs,
      seed: o.seed,
      progress: bar,
      callbacks: bar || o.json ? {} : lines,
    });
    await saveCharModel(o.out, net, corpus);
    const loss = history.history.loss;
    if (o.json) {
      printJson({ history: { loss }, out: o.out });
      return;
    }
    const drop = 100 * (1 - loss[loss.length - 1] / loss[0]);
    console.log(
      `loss per character: ${loss.map((l) => l.toFixed(3)).join(' → ')} ` +
        `(epoch 1 to ${loss.length}: ${drop >= 0 ? '-' : '+'}${Math.abs(drop).toFixed(0)}%)`,
    );
    console.log(`saved to ${displayPath(o.out)}; generate with: ${BIN} sample ${o.out}`);
  } finally {
    net.dispose();
  }
}

/** Reads and encodes the corpus; a missing, unreadable, binary or empty file is a clear error. */
async function readCorpus(file: string, mode: string): Promise<CharCorpus> {
  const bytes = await readRegularFile(file, MAX_BINARY_BYTES, 'a corpus').catch((err: Error) => {
    const m = /^Cannot read .*?: (.*)$/s.exec(err.message);
    const why = m ? m[1].replace(/^ENOENT \(no such file\)$/, 'no such file') : err.message;
    throw new Error(`train: cannot read --text ${file} (${why}); give a text file: one item per line, or free text`);
  });
  const text = utf8Text(file, bytes);
  if (text.trim() === '') {
    throw new Error(
      `train: --text ${file} is empty; give a text file with some text (one item per line, or free text)`,
    );
  }
  return charCorpus(text, { mode: mode as 'auto' | 'lines' | 'text' });
}

/** `bytes` as UTF-8 text, refusing a binary file (a NUL byte, or bytes that are not UTF-8). */
function utf8Text(file: string, bytes: Uint8Array): string {
  const refuse = (why: string) =>
    new Error(
      `train: --text ${file} is not a text file (${why}); give a UTF-8 text file: one item per line, or free text`,
    );
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw refuse(`a NUL byte at byte ${nul}`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw refuse('bytes that are not valid UTF-8');
  }
}

/** The training windows, or an error saying how to fit a short corpus. */
function windows(corpus: CharCorpus, o: TrainCommandOptions): ReturnType<typeof charWindows> {
  if (corpus.ids.length < o.seq + 1) {
    throw new Error(
      `train: --text ${o.text} has ${corpus.ids.length} characters, fewer than one window of --seq ${o.seq} ` +
        `plus the next character; lower --seq or give a longer text`,
    );
  }
  return charWindows(corpus, { seq: o.seq, batch: o.batch, seed: o.seed });
}
