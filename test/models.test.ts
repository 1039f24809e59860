import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadCharModel } from '../src/cli/char-model.js';
import * as rt from '../src/index.js';
import {
  addingMse,
  addingTest,
  CO2_HOLDOUT_MONTHS as H,
  co2Forecast,
  co2OneStep,
  co2Series,
  MODELS_DIR,
  namesCrossEntropy,
  namesSplit,
  rmse,
  type Co2Scaling,
} from '../scripts/train-models/data.js';

const dir = (name: string) => join(MODELS_DIR, name);
const json = <T>(name: string, file: string): T => JSON.parse(readFileSync(join(dir(name), file), 'utf8')) as T;

/** A fresh evaluation matches the card's number: the saved weights are the ones that were measured. */
function expectCardValue(measured: number, recorded: number): void {
  expect(measured).to.be.closeTo(recorded, 1e-3 * Math.abs(recorded) + 1e-6);
}

describe('trained models (models/*): each loads and scores its card metric on held-out data', () => {
  let tensors: number;
  beforeEach(() => (tensors = tf.memory().numTensors));
  afterEach(() => expect(tf.memory().numTensors, 'tensors leaked').to.equal(tensors));

  it('adding-lstm: MSE on 1000 held-out sequences (T = 50) far below the 1/6 baseline', async () => {
    const card = json<{ testMse: number; baselineMse: number }>('adding-lstm', 'metrics.json');
    const net = await rt.loadNetwork(`file://${dir('adding-lstm')}`);
    const test = addingTest();
    const mse = addingMse(net, test);
    tf.dispose([test.x, test.y]);
    net.dispose();
    expectCardValue(mse, card.testMse);
    expect(mse).to.be.below(rt.data.ADDING_BASELINE_MSE / 20);
  });

  it('co2-gru: one-step RMSE on the last 60 months beats the seasonal-naive baseline', async () => {
    const card = json<Record<string, number>>('co2-gru', 'metrics.json');
    const scaling = json<Co2Scaling>('co2-gru', 'preprocessing.json');
    const net = await rt.loadNetwork(`file://${dir('co2-gru')}`);
    const { ppm } = co2Series();
    const actual = ppm.slice(-H);
    const oneStep = rmse(co2OneStep(net, ppm, scaling, H), actual);
    const naive = rmse(co2OneStep(null, ppm, scaling, H), actual);
    const forecast = rmse(co2Forecast(net, ppm.slice(0, -H), scaling, H), actual);
    net.dispose();
    expectCardValue(oneStep, card.oneStepRmse);
    expectCardValue(naive, card.seasonalNaiveOneStepRmse);
    expect(forecast).to.be.closeTo(card.forecastRmse, 0.01 * card.forecastRmse);
    expect(oneStep).to.be.below(naive);
  });

  it('names-lstm: cross-entropy of held-out names well below the unigram baseline', async () => {
    const card = json<{ heldOutCrossEntropy: number; unigramCrossEntropy: number }>('names-lstm', 'metrics.json');
    const { net, vocabulary } = await loadCharModel('test', dir('names-lstm'));
    const { test } = namesSplit();
    const known = test.filter((n) => [...n].every((c) => vocabulary.has(c)));
    expect(known.length, 'held-out names the vocabulary covers').to.be.above(0.99 * test.length);
    const nats = namesCrossEntropy(net, vocabulary, known);
    net.dispose();
    expectCardValue(nats, card.heldOutCrossEntropy);
    expect(nats).to.be.below(0.8 * card.unigramCrossEntropy);
  });
});
