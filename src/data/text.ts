/**
 * Character-level text for language models: a corpus becomes a vocabulary of its characters and
 * a sequence of ids, cut into windows where the target of step t is the character at t + 1.
 *
 * A corpus is either free text, or one item per line (names, words, titles). In the second case
 * the items are joined by `'\n'`, which then means "end of item": a model trained on it learns
 * where items start and stop, and sampling makes one item at a time.
 */
import * as tf from '@tensorflow/tfjs';
import { checkKeys, checkOneOf, checkPositiveInt, checkSeed, describe, show } from '../check/index.js';
import { prng } from '../init.js';

/** The character that separates items in a line corpus. */
export const BOUNDARY = '\n';

export type CorpusMode = 'lines' | 'text';

/** A corpus encoded as ids into its own vocabulary. */
export interface CharCorpus {
  /** `'lines'`: one item per line, separated by {@link BOUNDARY}; `'text'`: free text. */
  mode: CorpusMode;
  vocabulary: Vocabulary;
  /** The whole text as vocabulary ids (a line corpus starts and ends with a boundary). */
  ids: Int32Array;
  /** Number of items (lines) of a line corpus, else 0. */
  items: number;
}

/** The characters of a corpus, sorted by code point; a character's id is its index. */
export class Vocabulary {
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    if (!Array.isArray(chars) || chars.length === 0 || !chars.every((c) => typeof c === 'string' && c.length > 0)) {
      throw new TypeError('Vocabulary: expected a non-empty array of characters');
    }
    this.index = new Map(chars.map((c, i) => [c, i]));
    if (this.index.size !== chars.length) throw new Error('Vocabulary: expected distinct characters');
    this.chars = [...chars];
  }

  get size(): number {
    return this.chars.length;
  }

  has(char: string): boolean {
    return this.index.has(char);
  }

  /** The ids of the characters of `text`; a character outside the vocabulary is an error. */
  encode(text: string): number[] {
    return Array.from(text, (c) => {
      const id = this.index.get(c);
      if (id === undefined) {
        throw new Error(`Vocabulary: the character ${show(c)} is not in the vocabulary of the corpus`);
      }
      return id;
    });
  }

  decode(ids: Iterable<number>): string {
    return Array.from(ids, (id) => this.chars[id]).join('');
  }
}

/**
 * Reads a corpus. `mode: 'auto'` (the default) takes it as one item per line when it has at
 * least two non-empty lines and their median length is at most 40 characters, else as free text.
 * Line endings are normalised to `'\n'`; in a line corpus lines are trimmed and empty ones dropped.
 */
export function charCorpus(text: string, options: { mode?: CorpusMode | 'auto' } = {}): CharCorpus {
  if (typeof text !== 'string') throw new TypeError(`charCorpus: expected text to be a string, got ${typeof text}`);
  checkKeys('charCorpus', options, ['mode']);
  const wanted = checkOneOf('charCorpus', 'mode', options.mode ?? 'auto', ['auto', 'lines', 'text'] as const);
  const normalised = text.replace(/\r\n?/g, '\n');
  const lines = normalised
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length === 0) throw new Error('charCorpus: the corpus is empty (no characters other than white space)');
  const mode: CorpusMode = wanted === 'auto' ? (looksLikeLines(lines) ? 'lines' : 'text') : wanted;
  const body = mode === 'lines' ? BOUNDARY + lines.join(BOUNDARY) + BOUNDARY : normalised;
  const vocabulary = new Vocabulary([...new Set(Array.from(body))].sort());
  return {
    mode,
    vocabulary,
    ids: Int32Array.from(vocabulary.encode(body)),
    items: mode === 'lines' ? lines.length : 0,
  };
}

function looksLikeLines(lines: string[]): boolean {
  if (lines.length < 2) return false;
  const lengths = lines.map((l) => Array.from(l).length).sort((a, b) => a - b);
  return lengths[Math.floor(lengths.length / 2)] <= 40;
}

/** `[batch, time, size]` one-hot rows for `ids[b][t]`. */
export function oneHot(ids: readonly (readonly number[])[], size: number): tf.Tensor3D {
  checkPositiveInt('oneHot', 'size', size);
  if (!Array.isArray(ids) || !ids.every((row) => Array.isArray(row))) {
    throw new TypeError(`oneHot: expected ids as an array of rows (number[][]), got ${describe(ids)}`);
  }
  const batch = ids.length;
  const time = batch > 0 ? ids[0].length : 0;
  if (!ids.every((row) => row.length === time)) throw new RangeError('oneHot: expected rows of equal length');
  const values = new Float32Array(batch * time * size);
  ids.forEach((row, b) =>
    row.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= size) {
        throw new RangeError(`oneHot: expected ids in [0, ${size}), got ${id}`);
      }
      values[(b * time + t) * size + id] = 1;
    }),
  );
  return tf.tensor3d(values, [batch, time, size]);
}

export interface WindowOptions {
  /** Steps per window. */
  seq: number;
  /** Windows per batch (the last batch of a pass may be smaller). */
  batch: number;
  /** Seed of the order of the windows; each pass over the data draws a new order from it. */
  seed: number;
}

/** How many windows of `seq` steps (plus one target step) the corpus holds. */
export function windowCount(corpus: CharCorpus, seq: number): number {
  checkCorpus('windowCount', corpus);
  return Math.max(0, Math.floor((corpus.ids.length - 1) / checkPositiveInt('windowCount', 'seq', seq)));
}

function checkCorpus(where: string, corpus: CharCorpus): void {
  if (corpus === null || typeof corpus !== 'object' || !(corpus.ids instanceof Int32Array)) {
    throw new TypeError(`${where}: expected a corpus from charCorpus(text), got ${describe(corpus)}`);
  }
}

/**
 * Batches of non-overlapping windows for next-character prediction: `x` one-hot
 * `[batch, seq, vocabulary]` of characters `k·seq … k·seq + seq - 1`, `y` the ids `[batch, seq]`
 * (int32) of the characters one step later (labels for `sparseSoftmaxCrossEntropy`). Every pass visits every window once, in a new shuffled order; each
 * batch is disposed when the next one is asked for.
 */
export function charWindows(
  corpus: CharCorpus,
  options: WindowOptions,
): AsyncIterable<{ x: tf.Tensor3D; y: tf.Tensor2D }> & { batches: number } {
  checkCorpus('charWindows', corpus);
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`charWindows: expected options { seq, batch, seed }, got ${describe(options)}`);
  }
  checkKeys('charWindows', options, ['seq', 'batch', 'seed']);
  const seq = checkPositiveInt('charWindows', 'seq', options.seq);
  const batch = checkPositiveInt('charWindows', 'batch', options.batch);
  checkSeed('charWindows', options.seed);
  const count = windowCount(corpus, seq);
  if (count === 0) {
    throw new RangeError(
      `charWindows: the corpus has ${corpus.ids.length} characters, fewer than one window of seq + 1 = ${seq + 1}`,
    );
  }
  const size = corpus.vocabulary.size;
  const window = (k: number, shift: number) => Array.from(corpus.ids.subarray(k * seq + shift, k * seq + shift + seq));
  let pass = 0;
  return {
    batches: Math.ceil(count / batch),
    async *[Symbol.asyncIterator]() {
      const order = shuffled(count, prng(options.seed + 7919 * pass++));
      for (let start = 0; start < count; start += batch) {
        const ks = order.slice(start, start + batch);
        const x = oneHot(
          ks.map((k) => window(k, 0)),
          size,
        );
        const data = {
          x,
          y: tf.tensor2d(
            ks.map((k) => window(k, 1)),
            [ks.length, seq],
            'int32',
          ),
        };
        try {
          yield data;
        } finally {
          tf.dispose([data.x, data.y]);
        }
      }
    },
  };
}

/** `0 … n-1` in a random order (Fisher–Yates). */
function shuffled(n: number, rand: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
