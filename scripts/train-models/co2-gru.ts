/**
 * Retrains `models/co2-gru`: a GRU that predicts the monthly Mauna Loa CO2 reading.
 *
 *   npx tsx scripts/train-models/co2-gru.ts
 *
 * 1958–2010 fit the weights, 2010–2015 choose the number of epochs (the weights of the best
 * epoch on them are kept), 2015–2020 are the held-out test. Runs on the wasm backend, ~1 minute.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../../src/index.js';
import { writeCard, writeFormatted } from './card.js';
import {
  CO2_HOLDOUT_MONTHS as H,
  co2Forecast,
  co2OneStep,
  co2Scaling,
  co2SeasonalNaive,
  co2Series,
  co2Windows,
  MODELS_DIR,
  rmse,
} from './data.js';

const DIR = join(MODELS_DIR, 'co2-gru');
const CONFIG = { units: 8, window: 48, batchSize: 32, learningRate: 0.003, maxEpochs: 20, seed: 1 };

await rt.backends.use('wasm');
const { time, ppm } = co2Series();
const train = ppm.slice(0, ppm.length - H);
const fit = train.slice(0, train.length - H);
const scaling = co2Scaling(fit);
const windows = co2Windows(fit, scaling, CONFIG.window);
const x = tf.tensor3d(windows.x);
const y = tf.tensor3d(windows.y);

const net = rt.network({ cell: 'gru', inputSize: 2, units: CONFIG.units, outputSize: 1, seed: CONFIG.seed });
const validation = () => rmse(co2OneStep(net, train, scaling, H), train.slice(-H));
let best = { epoch: 0, rmse: Infinity, weights: [] as tf.Tensor[] };
for (let epoch = 1; epoch <= CONFIG.maxEpochs; epoch++) {
  const h = await rt.train(
    net,
    { x, y },
    {
      loss: 'mse',
      target: 'everyStep',
      epochs: 1,
      batchSize: CONFIG.batchSize,
      learningRate: CONFIG.learningRate,
      seed: CONFIG.seed + epoch,
      progress: false,
    },
  );
  const val = validation();
  console.log(`epoch ${epoch}: training loss ${h.history.loss[0].toFixed(4)}, validation RMSE ${val.toFixed(4)} ppm`);
  if (val < best.rmse) {
    tf.dispose(best.weights);
    best = { epoch, rmse: val, weights: Object.values(net.params).map((p) => p.clone()) };
  }
}
Object.values(net.params).forEach((p, i) => p.assign(best.weights[i]));
console.log(`kept epoch ${best.epoch} (validation RMSE ${best.rmse.toFixed(4)} ppm)`);

const test = ppm.slice(-H);
const oneStep = rmse(co2OneStep(net, ppm, scaling, H), test);
const naive = rmse(co2OneStep(null, ppm, scaling, H), test);
const forecast = rmse(co2Forecast(net, train, scaling, H), test);
const naiveForecast = rmse(co2SeasonalNaive(train, H), test);
console.log(
  `test: one-step RMSE ${oneStep.toFixed(4)} (seasonal naive ${naive.toFixed(4)}), 60-month forecast RMSE ${forecast.toFixed(4)} (seasonal naive ${naiveForecast.toFixed(4)})`,
);

// A fresh folder: the file handler would otherwise keep the old weights under a new name.
await rm(DIR, { recursive: true, force: true });
await mkdir(DIR, { recursive: true });
await net.save(`file://${DIR}`);
await writeFormatted(join(DIR, 'preprocessing.json'), JSON.stringify({ ...scaling, window: CONFIG.window }, null, 2));
const month = (i: number) => `${Math.floor(time[i])}-${String(Math.round((time[i] % 1) * 12) + 1).padStart(2, '0')}`;
await writeCard(DIR, {
  title: 'co2-gru: monthly Mauna Loa CO2 with a GRU',
  summary:
    "A GRU (8 units) and a linear output that predicts next month's CO2 reading at Mauna Loa from the readings " +
    'so far. It reads, every month, the change since the month before, $d_t$, and how much that change differs ' +
    'from a year before, $D_t = d_t - d_{t-12}$, and predicts $D_{t+1}$; the reading follows as ' +
    "$v_{t+1} = v_t + d_{t-11} + D_{t+1}$. Predicting $D = 0$ is the seasonal-naive forecast (last year's " +
    'changes again), the baseline below.',
  data: [
    '`vega-datasets` `data/co2-concentration.csv` (npm), column `CO2` (ppm), ' +
      `${month(0)} to ${month(ppm.length - 1)}, ${ppm.length} months (the few missing months interpolated linearly).`,
    `Fit: ${month(0)} to ${month(fit.length - 1)}; validation (chooses the epoch): the next ${H} months; ` +
      `test (held out): ${month(ppm.length - H)} to ${month(ppm.length - 1)}.`,
    '`preprocessing.json`: the means and standard deviations that standardise the two features (from the fit part).',
    'Code: `scripts/train-models/data.ts` (`co2Series`, `co2Features`, `co2OneStep`, `co2Forecast`).',
  ],
  training: [
    `\`rt.network({ cell: 'gru', inputSize: 2, units: ${CONFIG.units}, outputSize: 1, seed: ${CONFIG.seed} })\`.`,
    `${windows.x.length} overlapping windows of ${CONFIG.window} months, the loss (MSE) at every step, Adam with ` +
      `learning rate ${CONFIG.learningRate}, batches of ${CONFIG.batchSize}, up to ${CONFIG.maxEpochs} epochs; ` +
      `the weights of epoch ${best.epoch}, best on validation, are kept. Backend: wasm.`,
  ],
  command: 'npx tsx scripts/train-models/co2-gru.ts',
  metrics: {
    oneStepRmse: { value: oneStep, about: 'ppm, each test month predicted from the actual readings before it' },
    seasonalNaiveOneStepRmse: { value: naive, about: 'ppm, the same with $D = 0$ (baseline)' },
    forecastRmse: {
      value: forecast,
      about: `ppm, all ${H} test months forecast from the training readings alone, feeding predictions back`,
    },
    seasonalNaiveForecastRmse: {
      value: naiveForecast,
      about: 'ppm, the same by repeating the last year plus its rise (baseline)',
    },
  },
  usage: `
import * as rt from 'tfjs-recurrent';
const net = await rt.loadNetwork('file://models/co2-gru');
// Features as in scripts/train-models/data.ts (co2Features), scaled with preprocessing.json.
`,
});
console.log(`saved to ${DIR}`);
