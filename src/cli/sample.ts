/**
 * `tfjs-recurrent sample DIR`: text from a model that `tfjs-recurrent train` saved. The network
 * reads the prime (after an item boundary, for a corpus of one item per line), then draws one
 * character at a time from `softmax(logits / temperature)` and feeds it back, carrying the state.
 * `--temperature 0` always takes the likeliest character; temperatures between 0 and 0.001 are
 * refused (logits / temperature would overflow and every draw be the last character).
 * In `lines` mode a sample ends at the boundary, so each sample is one new item; a boundary drawn
 * before the sample has `--min-length` characters (default 1: never an empty item) is drawn again
 * from the other characters (their probabilities renormalised).
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, type Command } from 'commander';
import { BOUNDARY, oneHot, type Vocabulary } from '../data/text.js';
import { prng } from '../init.js';
import type { State } from '../cells/cell.js';
import type { RecurrentNetwork } from '../network.js';
import * as rt from '../index.js';
import { loadCharModel } from './char-model.js';
import { command, integer, positiveInt, printJson, startBackend } from './command.js';
import { checkTemperature, MIN_TEMPERATURE, show } from '../check/index.js';

export const SAMPLE_DEFAULTS = {
  n: 10,
  temperature: 0.8,
  prime: '',
  minLength: 1,
  maxLength: 100,
  backend: 'wasm',
  seed: 1,
};

interface SampleOptions {
  n: number;
  temperature: number;
  prime: string;
  minLength: number;
  maxLength: number;
  backend: string;
  seed: number;
  json?: boolean;
}

export function registerSample(program: Command): void {
  const d = SAMPLE_DEFAULTS;
  program.addCommand(
    command('sample', 'Generate text from a model saved by `train`')
      .argument(
        '<dir>',
        `the directory \`train --out\` wrote, or ${SHIPPED}names-lstm or ${SHIPPED}shakespeare-gru (models the package ships)`,
      )
      .option('--n <count>', 'number of samples', positiveInt, d.n)
      .option(
        '--temperature <t>',
        `lower: likelier characters, higher: more variety; 0: always the likeliest (at least ${MIN_TEMPERATURE} otherwise)`,
        temperature,
        d.temperature,
      )
      .option('--prime <text>', 'text every sample starts with', d.prime)
      .option('--min-length <n>', 'the fewest characters of a sample (prime included)', positiveInt, d.minLength)
      .option('--max-length <n>', 'the most characters generated per sample', positiveInt, d.maxLength)
      .option('--backend <name>', 'TensorFlow.js backend', d.backend)
      .option('--seed <n>', 'seed of the random draws', integer, d.seed)
      .option('--json', 'print {"samples":[...]} as the last line of stdout')
      .action((dir: string, options: SampleOptions) => sampleCommand(dir, options)),
  );
}

async function sampleCommand(dir: string, o: SampleOptions): Promise<void> {
  if (o.minLength > o.maxLength + Array.from(o.prime).length) {
    throw new Error(
      `sample: --min-length ${o.minLength} is more than --prime's length plus --max-length ${o.maxLength}; ` +
        'lower --min-length or raise --max-length',
    );
  }
  await startBackend('sample', o.backend);
  const { net, vocabulary, mode } = await loadCharModel('sample', modelDir(dir));
  try {
    const unknown = [...new Set(Array.from(o.prime))].filter((c) => !vocabulary.has(c));
    if (unknown.length > 0) {
      throw new Error(
        `sample: --prime has ${unknown.map((c) => show(c)).join(', ')}, which the corpus never had; ` +
          `use characters of the corpus`,
      );
    }
    // A line corpus starts every item after a boundary; free text continues from the prime.
    const context = (vocabulary.has(BOUNDARY) ? BOUNDARY : '') + o.prime;
    if (context === '') throw new Error('sample: give --prime (the corpus has no line break to start from)');
    const generated = await generate(net, vocabulary, context, {
      n: o.n,
      temperature: o.temperature,
      minLength: Math.max(0, o.minLength - Array.from(o.prime).length),
      maxLength: o.maxLength,
      stopAtBoundary: mode === 'lines',
      rand: prng(o.seed),
    });
    const samples = generated.map((s) => o.prime + s);
    if (o.json) printJson({ samples });
    else console.log(samples.join(mode === 'lines' ? '\n' : '\n\n'));
  } finally {
    net.dispose();
  }
}

/** The prefix that names a model the package ships: `tfjs-recurrent:names-lstm`. */
const SHIPPED = 'tfjs-recurrent:';
/** The shipped models that are character models (with a `vocab.json`); rt.models.path names the others. */
const CHARACTER_MODELS: readonly rt.models.ModelName[] = ['names-lstm', 'shakespeare-gru'];

/** The directory of `dir`: itself, or the shipped model it names. */
function modelDir(dir: string): string {
  if (!dir.startsWith(SHIPPED)) return dir;
  const name = dir.slice(SHIPPED.length);
  const model = CHARACTER_MODELS.find((m) => m === name);
  if (model === undefined) {
    const names = CHARACTER_MODELS.map((n) => SHIPPED + n).join(' or ');
    throw new Error(`sample: ${dir} is not a character model the package ships; give ${names}`);
  }
  return rt.models.path(model);
}

/**
 * `n` continuations of `context`, drawn character by character. Each stops at the boundary
 * (which it does not include) when `stopAtBoundary`, or after `maxLength` characters; a boundary
 * drawn before `minLength` characters is redrawn from the other characters.
 */
async function generate(
  net: RecurrentNetwork,
  vocabulary: Vocabulary,
  context: string,
  o: {
    n: number;
    temperature: number;
    minLength: number;
    maxLength: number;
    stopAtBoundary: boolean;
    rand: () => number;
  },
): Promise<string[]> {
  const out: number[][] = Array.from({ length: o.n }, () => []);
  const done = new Array<boolean>(o.n).fill(false);
  const boundary = vocabulary.has(BOUNDARY) ? vocabulary.encode(BOUNDARY)[0] : -1;
  let input = oneHot(
    Array.from({ length: o.n }, () => vocabulary.encode(context)),
    vocabulary.size,
  );
  let state: State | undefined;
  try {
    for (let i = 0; i < o.maxLength && !done.every(Boolean); i++) {
      const step = tf.tidy(() => {
        const { y, state: next } = net.apply(input, state ? { initialState: state } : {});
        const time = y.shape[1];
        const logits = y.slice([0, time - 1, 0], [o.n, 1, vocabulary.size]).reshape([o.n, vocabulary.size]);
        // Temperature 0 is argmax: the likeliest character (drawn from the probabilities below).
        const probs = tf.softmax(o.temperature === 0 ? logits : tf.div(logits, o.temperature));
        return { probs, state: next };
      });
      const probs = await step.probs.array();
      step.probs.dispose();
      if (state) tf.dispose(Object.values(state));
      state = step.state;
      const ids = (probs as number[][]).map((p, row) => {
        // Too short to end: the boundary is left out of the draw.
        const exclude = o.stopAtBoundary && out[row].length < o.minLength ? boundary : -1;
        const u = o.rand();
        return o.temperature === 0 ? likeliest(p, exclude) : draw(p, u, exclude);
      });
      ids.forEach((id, row) => {
        if (done[row]) return;
        if (o.stopAtBoundary && id === boundary) done[row] = true;
        else out[row].push(id);
      });
      input.dispose();
      input = oneHot(
        ids.map((id) => [id]),
        vocabulary.size,
      );
    }
  } finally {
    input.dispose();
    if (state) tf.dispose(Object.values(state));
  }
  return out.map((ids) => vocabulary.decode(ids));
}

/** Parses `--temperature`: 0 (argmax) or at least {@link MIN_TEMPERATURE}. */
function temperature(value: string): number {
  const n = Number(value);
  try {
    return checkTemperature('sample', '--temperature', value.trim() !== '' && !Number.isNaN(n) ? n : value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/**
 * The index that the uniform draw `u` falls on in the cumulative distribution `p`, leaving out
 * the index `exclude` (-1: none) and renormalising the rest.
 */
function draw(p: readonly number[], u: number, exclude: number): number {
  const total = p.reduce((sum, v, k) => (k === exclude ? sum : sum + v), 0);
  // All the probability on the excluded index (underflow): the likeliest of the rest.
  if (!(total > 0)) return likeliest(p, exclude);
  let sum = 0;
  let last = -1;
  for (let k = 0; k < p.length; k++) {
    if (k === exclude) continue;
    sum += p[k] / total;
    last = k;
    if (u < sum) return k;
  }
  return last;
}

/** The index of the largest `p[k]`, leaving out `exclude` (-1: none). */
function likeliest(p: readonly number[], exclude: number): number {
  let best = -1;
  for (let k = 0; k < p.length; k++) if (k !== exclude && (best < 0 || p[k] > p[best])) best = k;
  return best;
}
