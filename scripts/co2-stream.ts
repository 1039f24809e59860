/**
 * Streaming with `net.stepper()`: the shipped CO2 model (`models/co2-gru`) forecasts the Mauna Loa
 * reading one month ahead as each month's reading arrives, one step at a time, its state kept
 * between readings, no tensors per step.
 *
 *   npx tsx scripts/co2-stream.ts [--backend wasm|cpu] [--months 24]
 *
 * Each month the features of the reading just in (`co2Features` of scripts/train-models/data.ts:
 * the change since last month and how it differs from a year before, scaled with the model's
 * `preprocessing.json`) go into `stepper.step`, whose output is next month's change against a year
 * before, `D`; the forecast is `v_{t+1} = v_t + d_{t-11} + D`. It prints the last months' forecasts
 * beside the readings, checks every forecast against `net.predict` over the whole series, and
 * reports the microseconds a step took.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { co2Features, co2Series, type Co2Scaling } from './train-models/data.js';

const { values: args } = parseArgs({
  options: { backend: { type: 'string', default: 'wasm' }, months: { type: 'string', default: '24' } },
});
await rt.backends.use(args.backend);
const dir = rt.models.path('co2-gru');
const net = await rt.loadNetwork(`file://${dir}`);
const scaling = JSON.parse(readFileSync(join(dir, 'preprocessing.json'), 'utf8')) as Co2Scaling;
const { time, ppm } = co2Series();
const features = co2Features(ppm, scaling);
const first = ppm.length - features.length; // the month of features[0]

// The stream: month by month, the forecast of the next reading from the model's one step.
const stepper = net.stepper();
const forecasts: number[] = [];
const micros: number[] = [];
for (const [i, x] of features.entries()) {
  const start = performance.now();
  const [D] = stepper.step(x);
  micros.push((performance.now() - start) * 1000);
  const t = first + i + 1; // the month forecast
  if (t < ppm.length) forecasts.push(ppm[t - 1] + (ppm[t - 12] - ppm[t - 13]) + D * scaling.D.std);
}
stepper.dispose();

// The same forecasts from the whole series at once: the stepper must agree.
const whole = tf.tidy(() => net.predict(tf.tensor3d([features])));
const D = Array.from(await whole.data());
whole.dispose();
let worst = 0;
for (const [i, f] of forecasts.entries()) {
  const t = first + i + 1;
  worst = Math.max(worst, Math.abs(f - (ppm[t - 1] + (ppm[t - 12] - ppm[t - 13]) + D[i] * scaling.D.std)));
}

const months = Number(args.months);
console.log(`month     reading  forecast (ppm, ${args.backend}, made the month before)`);
for (let k = forecasts.length - months; k < forecasts.length; k++) {
  const t = first + k + 1;
  const date = `${Math.floor(time[t])}-${String(Math.round((time[t] % 1) * 12) + 1).padStart(2, '0')}`;
  console.log(`${date}   ${ppm[t].toFixed(2)}   ${forecasts[k].toFixed(2)}`);
}
const sorted = [...micros].sort((a, b) => a - b);
console.log(
  `${features.length} steps, median ${sorted[sorted.length >> 1].toFixed(1)} µs per step; ` +
    `largest difference from net.predict over the whole series: ${worst.toExponential(1)} ppm`,
);
if (worst > 1e-3) throw new Error(`co2-stream: the stepper disagrees with net.predict by ${worst} ppm`);
net.dispose();
