import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadCharModel } from '../src/cli/char-model.js';
import * as rt from '../src/index.js';
import { mnistAccuracy, mnistRows } from '../scripts/reproduce/mnist-data.js';
import { shakespeare, windowLoss } from '../scripts/reproduce/shakespeare-data.js';

const metrics = (name: rt.models.ModelName) =>
  JSON.parse(readFileSync(join(rt.models.path(name), 'metrics.json'), 'utf8')) as Record<string, number>;

describe('reproduction models (models/shakespeare-*, models/mnist-rows-*): each scores its card metric again', () => {
  let tensors: number;
  beforeEach(() => (tensors = tf.memory().numTensors));
  afterEach(() => expect(tf.memory().numTensors, 'tensors leaked').to.equal(tensors));

  it('shakespeare-gru: validation loss of the first 100 windows as stored, below nanoGPT CPU 1.88 in full', async () => {
    const card = metrics('shakespeare-gru');
    const { net, vocabulary } = await loadCharModel('test', rt.models.path('shakespeare-gru'));
    const { validation } = shakespeare();
    expect(vocabulary.chars).to.deep.equal(validation.vocabulary.chars);
    const nats = windowLoss(net, validation, 64, 100);
    net.dispose();
    expect(nats).to.be.closeTo(card.validationWindowLossFirst100, 1e-4);
    expect(card.validationWindowLoss).to.be.below(1.88);
  });

  it('mnist-rows-lstm: accuracy on the first 500 test images as stored (to one image)', async () => {
    const card = metrics('mnist-rows-lstm');
    const net = await rt.models.load('mnist-rows-lstm');
    const head = mnistRows('t10k', 500);
    const accuracy = await mnistAccuracy(net, head);
    tf.dispose([head.x, head.y]);
    net.dispose();
    expect(accuracy).to.be.closeTo(card.testAccuracyFirst500, 1 / 500 + 1e-9);
  });
});
