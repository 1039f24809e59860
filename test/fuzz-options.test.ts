/**
 * Option objects of every public entry point, mutated by fast-check: a valid object with keys set
 * to hostile values (NaN, ±Infinity, -0, 1e300, strings for numbers, null, arrays, objects,
 * `__proto__` and unknown keys). Every call must end correctly (finite numbers out) or with a
 * clear error: an Error whose message starts with the entry point's name and is not a
 * JavaScript-internal message ("Cannot read properties of …"). Nothing may hang: the sizes in
 * the pool are small or absurd (refused before allocation), and training is stopped after a few
 * batches by its own callback.
 *
 * `FUZZ_RUNS=2000 FC_SEED=random npx mocha test/fuzz-options.test.ts` (or `npm run fuzz`) runs
 * a longer search; a failure prints the seed and path that replay it.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import fc from 'fast-check';
import * as rt from '../src/index.js';
import { fcParams } from './helpers/property.js';

const RUNS = Number(process.env.FUZZ_RUNS) || 25;

/** Values no option should take silently. */
const hostile = fc.constantFrom<unknown>(
  0,
  -1,
  1,
  2,
  0.5,
  -0,
  NaN,
  Infinity,
  -Infinity,
  1e300,
  '',
  '1',
  'tanh',
  'bogus',
  true,
  false,
  null,
  undefined,
  [],
  [1, 2],
  {},
  { truncate: 2 },
  () => 1,
);

/** Messages that say nothing to a user: JavaScript's own, from deep inside. */
const INTERNAL =
  /Cannot read propert|Cannot set propert|is not a function|is not iterable|Maximum call stack|Invalid (array|string) length|Cannot convert|undefined \(reading/;

/** `base` with up to four keys (its own, unknown ones or `__proto__`) set to hostile values. */
function mutated(base: Record<string, unknown>, extraKeys: string[] = []) {
  const keys = [...Object.keys(base), ...extraKeys, 'bogusOption', '__proto__', 'constructor'];
  return fc.array(fc.tuple(fc.constantFrom(...keys), hostile), { minLength: 1, maxLength: 4 }).map((edits) => {
    const o: Record<string, unknown> = { ...base };
    for (const [k, v] of edits)
      Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    return o;
  });
}

/** Every tensor in `out` (a tensor, an array, or an object of them) holds finite numbers. */
async function expectFinite(out: unknown): Promise<void> {
  const tensors: tf.Tensor[] = [];
  const walk = (v: unknown) => {
    if (v instanceof tf.Tensor) tensors.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(out);
  for (const t of tensors) {
    const values = await t.data();
    expect(
      Array.from(values).every((x) => Number.isFinite(x)),
      'a call that succeeded gave non-finite values',
    ).to.equal(true);
  }
}

/** Runs `call`; success must give finite numbers, failure a clear error from `where`. */
async function correctOrClear(where: RegExp, call: () => unknown): Promise<void> {
  let out: unknown;
  try {
    out = await call();
  } catch (e) {
    expect(e, 'a thrown value that is not an Error').to.be.instanceOf(Error);
    const message = (e as Error).message;
    expect(message, 'a message from deep inside').not.to.match(INTERNAL);
    expect(message, `a message that does not name the entry point`).to.match(where);
    return;
  }
  await expectFinite(out);
  tf.dispose(out as tf.TensorContainer);
}

const x = () => tf.randomUniform([2, 3, 2], -1, 1, 'float32', 1);

describe('fuzz: option objects of every public entry point (correct, or a clear error)', function () {
  this.timeout(120_000);

  for (const kind of ['elman', 'lstm', 'gru'] as const) {
    it(`rt.cells.${kind}`, async () => {
      await fc.assert(
        fc.asyncProperty(
          mutated({ inputSize: 2, units: 3, seed: 1 }, ['activation', 'recurrentActivation', 'resetAfter', 'params']),
          async (o) => {
            await correctOrClear(new RegExp(`^cells(\\.${kind})?: `), () => {
              const cell = rt.cells[kind](o as never);
              const out = tf.tidy(() => cell.step(tf.ones([1, cell.inputSize]), cell.initialState(1)));
              cell.dispose();
              return out;
            });
          },
        ),
        fcParams(RUNS),
      );
    });
  }

  it('rt.network and net.apply', async () => {
    const base = { cell: 'lstm', inputSize: 2, units: 3, outputSize: 1, seed: 1 };
    await fc.assert(
      fc.asyncProperty(
        mutated(base, [
          'activation',
          'recurrentActivation',
          'outputActivation',
          'resetAfter',
          'layers',
          'bidirectional',
          'dropout',
          'useBias',
        ]),
        async (o) => {
          await correctOrClear(/^(network|cells(\.\w+)?): /, () => {
            const net = rt.network(o as never);
            const input = tf.randomUniform([2, 3, net.inputSize], -1, 1, 'float32', 1);
            const y = net.predict(input);
            input.dispose();
            net.dispose();
            return y;
          });
        },
      ),
      fcParams(RUNS),
    );
  });

  it('rt.unroll', async () => {
    const cell = rt.cells.gru({ inputSize: 2, units: 3, seed: 1 });
    await fc.assert(
      fc.asyncProperty(mutated({ reverse: false, fast: true }, ['initialState', 'mask', 'probe']), async (o) => {
        const input = x();
        await correctOrClear(/^unroll: /, () => rt.unroll(cell, input, o as never));
        input.dispose();
      }),
      fcParams(RUNS),
    );
    cell.dispose();
  });

  for (const kind of ['elman', 'lstm', 'gru'] as const) {
    it(`rt.layers.${kind}, applied`, async () => {
      const base = { units: 3, returnSequences: false, goBackwards: false, seed: 1 };
      await fc.assert(
        fc.asyncProperty(mutated(base, ['activation', 'returnState', 'stateful', 'name']), async (o) => {
          const input = x();
          await correctOrClear(new RegExp(`^layers\\.${kind}( '[^']*')?: `), () => {
            const layer = rt.layers[kind](o as never);
            const out = layer.apply(input) as tf.Tensor | tf.Tensor[];
            layer.dispose();
            return out;
          });
          input.dispose();
        }),
        fcParams(RUNS),
      );
    });
  }

  it('rt.train (stopped by its own callback after 3 batches)', async () => {
    const net = rt.network({ cell: 'elman', inputSize: 2, units: 3, outputSize: 1, seed: 1 });
    const data = {
      x: tf.randomUniform([8, 3, 2], -1, 1, 'float32', 2),
      y: tf.randomUniform([8, 1], 0, 1, 'float32', 3),
    };
    const base = { loss: 'mse', epochs: 1, batchSize: 4, seed: 1, progress: false };
    const keys = [
      'target',
      'optimizer',
      'learningRate',
      'shuffle',
      'bptt',
      'clipNorm',
      'clipValue',
      'validation',
      'validationSplit',
      'verbose',
    ];
    await fc.assert(
      fc.asyncProperty(mutated(base, keys), async (o) => {
        let batches = 0;
        const stop = { onBatchEnd: () => void (++batches >= 3 && (net.stopTraining = true)) };
        await correctOrClear(/^train: /, async () => {
          const h = await rt.train(net, data, { ...(o as object), callbacks: stop } as unknown as rt.TrainOptions);
          expect(
            h.history.loss.every((v) => Number.isFinite(v)),
            'a non-finite loss without an error',
          ).to.equal(true);
          return null;
        });
      }),
      fcParams(RUNS),
    );
    tf.dispose([data.x, data.y]);
    net.dispose();
  });

  it('rt.diagnostics.gradientNorms', async () => {
    const net = rt.network({ cell: 'lstm', inputSize: 2, units: 3, outputSize: 1, seed: 1 });
    const input = x();
    const y = tf.randomUniform([2, 1], 0, 1, 'float32', 4);
    await fc.assert(
      fc.asyncProperty(mutated({ loss: 'mse' }, ['target']), async (o) => {
        await correctOrClear(/^diagnostics.gradientNorms(Async)?: /, async () => {
          const g = await rt.diagnostics.gradientNormsAsync(net, input, y, o as never);
          expect(
            g.perStep.every((v) => Number.isFinite(v)),
            'a non-finite norm without an error',
          ).to.equal(true);
          return null;
        });
      }),
      fcParams(RUNS),
    );
    tf.dispose([input, y]);
    net.dispose();
  });
});
