/**
 * The page's backend gives the cpu backend's numbers where the package reads tensors back:
 * `rt.train`'s losses, `diagnostics.gradientNormsAsync` and `interop.compareWithPyTorchAsync`. On
 * webgpu and webgl the synchronous `gradientNorms` refuses and names its async twin.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from 'tfjs-recurrent';
import { fixtures, relativeError, SIZES } from './fixtures.js';
import { requestedBackend } from './requested.js';

const { batch, time, inputSize, units, outputSize } = SIZES;

/** Runs `f` on the cpu backend and comes back to the page's (f's tensors stay on the cpu). */
async function onCpu<T>(f: () => Promise<T>): Promise<T> {
  await rt.backends.use('cpu');
  try {
    return await f();
  } finally {
    await rt.backends.use(requestedBackend());
  }
}

/** A network and an example made the same way on any backend. */
function example() {
  return {
    net: rt.network({ cell: 'lstm', inputSize, units, outputSize, seed: 6 }),
    x: tf.tensor3d(
      Array.from({ length: 2 * batch * time * inputSize }, (_, i) => Math.sin(1.3 * i)),
      [2 * batch, time, inputSize],
    ),
    y: tf.tensor3d(
      Array.from({ length: 2 * batch * time * outputSize }, (_, i) => 0.5 * Math.cos(0.7 * i)),
      [2 * batch, time, outputSize],
    ),
  };
}

/** Defines this file's tests (called by page.ts: the bundler drops side-effect-only imports). */
export function readsSuite(): void {
  describe('reads agree with cpu', () => {
    it('rt.train: the losses of 3 epochs (SGD, clipNorm) within 1e-5 relative', async () => {
      const losses = async () => {
        const { net, x, y } = example();
        try {
          const history = await rt.train(
            net,
            { x, y },
            {
              loss: 'mse',
              epochs: 3,
              batchSize: batch,
              // SGD: Adam's first steps move every weight by about ±learningRate whatever the gradient's
              // size, so a gradient entry of ±1e-9 on two backends parts them (WebGL on SwiftShader: 1e-3).
              optimizer: 'sgd',
              learningRate: 0.1,
              clipNorm: 0.5,
              seed: 1,
              progress: false,
            },
          );
          return history.history.loss;
        } finally {
          tf.dispose([x, y]);
          net.dispose();
        }
      };
      const cpu = await onCpu(losses);
      const here = await losses();
      expect(relativeError(here, cpu), `${here.join(', ')} vs cpu ${cpu.join(', ')}`).to.be.at.most(1e-5);
    });

    it('diagnostics.gradientNormsAsync within 1e-5 relative; gradientNorms refuses on GPU backends', async () => {
      const norms = async (sync: boolean) => {
        const { net, x, y } = example();
        try {
          return sync
            ? rt.diagnostics.gradientNorms(net, x, y, { loss: 'mse' })
            : await rt.diagnostics.gradientNormsAsync(net, x, y, { loss: 'mse' });
        } finally {
          tf.dispose([x, y]);
          net.dispose();
        }
      };
      const cpu = await onCpu(() => norms(true));
      const here = await norms(false);
      expect(relativeError(here.perStep, cpu.perStep), 'perStep').to.be.at.most(1e-5);
      expect(relativeError(Object.values(here.perParam), Object.values(cpu.perParam)), 'perParam').to.be.at.most(1e-5);
      if (['webgpu', 'webgl'].includes(requestedBackend())) {
        let error: Error | undefined;
        await norms(true).catch((e: Error) => (error = e));
        expect(error?.message).to.match(/gradientNorms: .*use await rt\.diagnostics\.gradientNormsAsync/);
      }
    });

    it('interop.compareWithPyTorchAsync: lstm and gru within the parity tolerances', async () => {
      const all = await fixtures();
      for (const name of ['lstm', 'gru']) {
        const d = await rt.interop.compareWithPyTorchAsync(all[name]);
        expect(Math.max(d.outputs, d.h_T, d.c_T ?? 0), `${name} outputs`).to.be.at.most(1e-5);
        expect(Math.max(...Object.values(d.grads), d.grad_x, d.grad_h0, d.grad_c0 ?? 0), `${name} grads`).to.be.at.most(
          1e-4,
        );
      }
    });
  });
}
