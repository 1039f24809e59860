import * as tf from '@tensorflow/tfjs';
import * as rt from '../../src/index.js';

/** `describe(`${title} (${backend})`, body)` for each backend, switching to it and back. */
export function describeOnBackends(title: string, backends: readonly string[], body: (backend: string) => void): void {
  for (const backend of backends) {
    describe(`${title} (${backend})`, () => {
      let previous: string;
      before(async () => {
        previous = tf.getBackend() ?? 'cpu';
        await rt.backends.use(backend);
      });
      after(async () => {
        await rt.backends.use(previous);
      });
      body(backend);
    });
  }
}
