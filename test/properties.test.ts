// Property tests: `rt.unroll` (fused weights, one input projection, masks blended in) agrees
// with a plain loop of `cell.step` (test/helpers/reference-loop.ts) for random shapes, masks,
// directions, initial states and cells.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import fc from 'fast-check';
import * as rt from '../src/index.js';
import type { Cell, State } from '../src/cells/cell.js';
import { expectAbsClose, expectRelClose } from './helpers/close.js';
import { fcParams, seedArb, seededTensor } from './helpers/property.js';
import { referenceUnroll, referenceUnrollTensors } from './helpers/reference-loop.js';

const ELMAN_ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'linear', 'softsign', 'softplus', 'elu', 'selu', 'swish', 'gelu'];
const GATE_ACTIVATIONS = ['sigmoid', 'hardSigmoid'];

/** A random cell description: kind, sizes and the options of that kind. */
const cellArb = fc.oneof(
  fc.record({ kind: fc.constant('elman' as const), activation: fc.constantFrom(...ELMAN_ACTIVATIONS) }),
  fc.record({ kind: fc.constant('lstm' as const), recurrentActivation: fc.constantFrom(...GATE_ACTIVATIONS) }),
  fc.record({
    kind: fc.constant('gru' as const),
    resetAfter: fc.boolean(),
    recurrentActivation: fc.constantFrom(...GATE_ACTIVATIONS),
  }),
);

/** A case: cell, shapes, data seed, direction, and an optional mask and initial state. */
const caseArb = fc
  .record({
    cell: cellArb,
    batch: fc.integer({ min: 1, max: 3 }),
    time: fc.integer({ min: 1, max: 6 }),
    inputSize: fc.integer({ min: 1, max: 4 }),
    units: fc.integer({ min: 1, max: 5 }),
    seed: seedArb,
    reverse: fc.boolean(),
    withInitialState: fc.boolean(),
    maskDtype: fc.constantFrom('none', 'float32', 'int32', 'bool'),
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      mask: fc.array(fc.array(fc.integer({ min: 0, max: 1 }), { minLength: c.time, maxLength: c.time }), {
        minLength: c.batch,
        maxLength: c.batch,
      }),
    }),
  );

function buildCell(c: CaseShape): Cell {
  const { cell, inputSize, units, seed } = c;
  if (cell.kind === 'elman') return rt.cells.elman({ inputSize, units, seed, activation: cell.activation });
  if (cell.kind === 'lstm') {
    return rt.cells.lstm({ inputSize, units, seed, recurrentActivation: cell.recurrentActivation });
  }
  return rt.cells.gru({
    inputSize,
    units,
    seed,
    resetAfter: cell.resetAfter,
    recurrentActivation: cell.recurrentActivation,
  });
}

type CaseShape = {
  cell:
    | { kind: 'elman'; activation: string }
    | { kind: 'lstm'; recurrentActivation: string }
    | { kind: 'gru'; resetAfter: boolean; recurrentActivation: string };
  batch: number;
  time: number;
  inputSize: number;
  units: number;
  seed: number;
};

/** The mask of a case as a tensor of its dtype, or undefined. */
function maskTensor(c: { batch: number; time: number; maskDtype: string }, mask: number[][]): tf.Tensor | undefined {
  if (c.maskDtype === 'none') return undefined;
  if (c.maskDtype === 'bool') {
    return tf.tensor2d(
      mask.map((r) => r.map((v) => v === 1)),
      [c.batch, c.time],
      'bool',
    );
  }
  return tf.tensor2d(mask, [c.batch, c.time], c.maskDtype as 'float32' | 'int32');
}

describe('properties: unroll agrees with a plain loop of cell.step', () => {
  it('for random cells, shapes, masks, reverse and initial states (1e-5)', () => {
    const before = tf.memory().numTensors;
    fc.assert(
      fc.property(caseArb, ({ c, mask }) => {
        const cell = buildCell(c);
        try {
          tf.tidy(() => {
            const x = seededTensor([c.batch, c.time, c.inputSize], c.seed + 1) as tf.Tensor3D;
            let initialState: State | undefined;
            if (c.withInitialState) {
              initialState = { h: seededTensor([c.batch, c.units], c.seed + 2) as tf.Tensor2D };
              if (cell.stateNames.includes('c')) {
                initialState.c = seededTensor([c.batch, c.units], c.seed + 3, 2) as tf.Tensor2D;
              }
            }
            const m = maskTensor(c, mask);
            const got = rt.unroll(cell, x, { initialState, reverse: c.reverse, mask: m });
            const want = referenceUnroll(cell, x, {
              initialState,
              reverse: c.reverse,
              mask: m ? mask : undefined,
            });
            expect(got.outputs.shape).to.deep.equal([c.batch, c.time, c.units]);
            expectAbsClose(got.outputs, want.outputs, 1e-5, 'outputs');
            expectAbsClose(got.state.h, want.state.h, 1e-5, 'state.h');
            if (cell.stateNames.includes('c')) expectAbsClose(got.state.c!, want.state.c!, 1e-5, 'state.c');
          });
        } finally {
          cell.dispose();
        }
      }),
      fcParams(50),
    );
    expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
  });

  it('with gradients: the fast whole-sequence gradient equals the per-step autodiff (1e-4 relative)', () => {
    const before = tf.memory().numTensors;
    fc.assert(
      fc.property(caseArb, ({ c, mask }) => {
        const cell = buildCell(c);
        try {
          tf.tidy(() => {
            const hasC = cell.stateNames.includes('c');
            // x, h0 and c0 are variables too, so that one variableGrads call differentiates all.
            const x = tf.variable(seededTensor([c.batch, c.time, c.inputSize], c.seed + 1)) as tf.Variable<tf.Rank.R3>;
            const h0 = tf.variable(seededTensor([c.batch, c.units], c.seed + 2)) as tf.Variable<tf.Rank.R2>;
            const c0 = tf.variable(seededTensor([c.batch, c.units], c.seed + 3)) as tf.Variable<tf.Rank.R2>;
            const R = seededTensor([c.batch, c.time, c.units], c.seed + 4);
            const S = seededTensor([c.batch, c.units], c.seed + 5);
            const U = seededTensor([c.batch, c.units], c.seed + 6);
            const m = maskTensor(c, mask);
            const states = c.withInitialState ? [h0, ...(hasC ? [c0] : [])] : [];
            const vars = [...Object.values(cell.params), x, ...states];
            const initialState = (): State | undefined =>
              c.withInitialState ? { h: h0, ...(hasC ? { c: c0 } : {}) } : undefined;
            const loss = (run: () => { outputs: tf.Tensor; state: State }) => () => {
              const { outputs, state } = run();
              let L = tf.add(tf.sum(tf.mul(outputs, R)), tf.sum(tf.mul(state.h, S)));
              if (state.c) L = tf.add(L, tf.sum(tf.mul(state.c, U)));
              return L as tf.Scalar;
            };
            const got = tf.variableGrads(
              loss(() => rt.unroll(cell, x, { initialState: initialState(), reverse: c.reverse, mask: m })),
              vars,
            );
            const want = tf.variableGrads(
              loss(() =>
                referenceUnrollTensors(cell, x, {
                  initialState: initialState(),
                  reverse: c.reverse,
                  mask: m ? mask : undefined,
                }),
              ),
              vars,
            );
            expectRelClose(got.value, want.value, 1e-5, 'loss');
            for (const v of vars) expectRelClose(got.grads[v.name], want.grads[v.name], 1e-4, `dL/d${v.name}`);
            tf.dispose([x, h0, c0]);
          });
        } finally {
          cell.dispose();
        }
      }),
      fcParams(40),
    );
    expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
  });

  it('a fully masked row keeps its initial state and repeats it at every step', () => {
    fc.assert(
      fc.property(cellArb, seedArb, fc.boolean(), (desc, seed, reverse) => {
        const c: CaseShape = { cell: desc, batch: 2, time: 4, inputSize: 3, units: 2, seed };
        const cell = buildCell(c);
        try {
          tf.tidy(() => {
            const x = seededTensor([2, 4, 3], seed + 1);
            const h0 = seededTensor([2, 2], seed + 2) as tf.Tensor2D;
            const initialState: State = { h: h0 };
            if (cell.stateNames.includes('c')) initialState.c = seededTensor([2, 2], seed + 3) as tf.Tensor2D;
            const mask = tf.tensor2d([
              [0, 0, 0, 0],
              [1, 1, 1, 1],
            ]);
            const { outputs, state } = rt.unroll(cell, x, { initialState, mask, reverse });
            const row0 = (outputs.arraySync() as number[][][])[0];
            const h0row = (h0.arraySync() as number[][])[0];
            for (const step of row0) expect(step).to.deep.equal(h0row);
            expect((state.h.arraySync() as number[][])[0]).to.deep.equal(h0row);
          });
        } finally {
          cell.dispose();
        }
      }),
      fcParams(25),
    );
  });
});
