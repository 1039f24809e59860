/**
 * Tiny Shakespeare (`data/tinyshakespeare.txt`, see `data/SOURCES.md`) for character-level
 * language modelling, split as nanoGPT splits it (the first 90% of the characters for training,
 * the last 10% for validation), and the validation losses the reproduction reports, in nats per
 * character.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { oneHot, Vocabulary, type CharCorpus } from '../../src/data/text.js';
import type * as rt from '../../src/index.js';

export const SHAKESPEARE_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'data',
  'tinyshakespeare.txt',
);

/** The share of the text, from its start, that is trained on (nanoGPT's `n = int(0.9 * len(data))`). */
export const TRAIN_SHARE = 0.9;

/** The text's vocabulary (its 65 characters, sorted) and the two parts as corpora of ids. */
export interface Shakespeare {
  vocabulary: Vocabulary;
  train: CharCorpus;
  validation: CharCorpus;
}

export function shakespeare(): Shakespeare {
  const text = readFileSync(SHAKESPEARE_FILE, 'utf8');
  const vocabulary = new Vocabulary([...new Set(text)].sort());
  const ids = Int32Array.from(vocabulary.encode(text));
  const n = Math.floor(TRAIN_SHARE * ids.length);
  const corpus = (part: Int32Array): CharCorpus => ({ mode: 'text', vocabulary, ids: part, items: 0 });
  return { vocabulary, train: corpus(ids.subarray(0, n)), validation: corpus(ids.subarray(n)) };
}

/** The summed negative log-likelihood (nats) of `targets` `[batch, time]` under the logits `[batch, time, vocabulary]`. */
function summedNats(logits: tf.Tensor3D, targets: tf.Tensor2D): number {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const picked = tf.mul(logp, tf.oneHot(targets, logits.shape[2]));
    return -tf.sum(picked).dataSync()[0];
  });
}

const rowsOf = (ids: Int32Array, starts: number[], length: number) =>
  starts.map((s) => Array.from(ids.subarray(s, s + length)));

/** The windows of `length` characters at `starts`: x one-hot, y the ids of the characters after. */
function windowsAt(corpus: CharCorpus, starts: number[], length: number): { x: tf.Tensor3D; y: tf.Tensor2D } {
  const next = rowsOf(
    corpus.ids,
    starts.map((s) => s + 1),
    length,
  );
  return {
    x: oneHot(rowsOf(corpus.ids, starts, length), corpus.vocabulary.size),
    y: tf.tensor2d(next, [starts.length, length], 'int32'),
  };
}

/**
 * Mean cross-entropy (nats per character) over the non-overlapping windows of `seq` characters of
 * `corpus` (window k: characters `k·seq … k·seq + seq - 1`, each predicting the next), every window
 * read from a zero state, every position counted: the regime of nanoGPT's evaluation (windows of
 * its context length, a loss at every position). `windows`: only the first so many (default all).
 */
export function windowLoss(net: rt.RecurrentNetwork, corpus: CharCorpus, seq: number, windows?: number): number {
  const all = Math.floor((corpus.ids.length - 1) / seq);
  const count = Math.min(windows ?? all, all);
  let nats = 0;
  for (let start = 0; start < count; start += 256) {
    const starts = Array.from({ length: Math.min(256, count - start) }, (_, i) => (start + i) * seq);
    const { x, y } = windowsAt(corpus, starts, seq);
    const logits = net.predict(x);
    nats += summedNats(logits, y);
    tf.dispose([x, y, logits]);
  }
  return nats / (count * seq);
}

/**
 * Mean cross-entropy (nats per character) of the whole of `corpus` read as `streams` contiguous
 * parts, each from a zero state carried through its part in chunks of `chunk` characters, as
 * char-rnn evaluates: every character but each part's first has all of its part before it.
 */
export function streamLoss(net: rt.RecurrentNetwork, corpus: CharCorpus, streams = 64, chunk = 256): number {
  const length = Math.floor((corpus.ids.length - 1) / streams);
  let states: rt.State[] | undefined;
  let nats = 0;
  for (let t = 0; t < length; t += chunk) {
    const steps = Math.min(chunk, length - t);
    const starts = Array.from({ length: streams }, (_, s) => s * length + t);
    const { x, y } = windowsAt(corpus, starts, steps);
    const run = net.apply(x, states && { initialState: states });
    nats += summedNats(run.y, y);
    if (states) tf.dispose(states.flatMap((s) => Object.values(s)));
    states = run.states;
    tf.dispose([x, y, run.y]);
  }
  if (states) tf.dispose(states.flatMap((s) => Object.values(s)));
  return nats / (length * streams);
}
