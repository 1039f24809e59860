/**
 * ONNX's `RNN`, `LSTM` and `GRU` operators, computed by our cells: each direction's weights
 * become one of our cells (see `recurrent.ts`) and {@link unroll} runs it, backwards for
 * `direction: reverse` and the second half of `bidirectional`; `sequence_lens` becomes unroll's
 * mask (a padded step carries the state on) and zeros in `Y` past each length, as ONNX defines.
 *
 * Refused, by name: `clip`, `input_forget`, LSTM peepholes (`P` other than zeros: our LSTM has
 * none), an LSTM whose g and h activations differ (ours has one), activations we do not have.
 */
import * as tf from '@tensorflow/tfjs';
import type { State } from '../../cells/cell.js';
import { unroll } from '../../unroll.js';
import type { Op, OpContext } from './ops.js';
import {
  cellFromOnnx,
  fromOnnxActivation,
  ONNX_GATES,
  ONNX_KIND,
  type DirectionConfig,
  type OnnxKind,
} from './recurrent.js';

/** ONNX's default activations of one direction. */
const DEFAULT_ACTIVATIONS: Record<OnnxKind, string[]> = {
  elman: ['Tanh'],
  lstm: ['Sigmoid', 'Tanh', 'Tanh'],
  gru: ['Sigmoid', 'Tanh'],
};

const COMMON = ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout'];

/** Each direction's configuration from the node's attributes. */
export function directionConfigs(ctx: OpContext, kind: OnnxKind, directions: number): DirectionConfig[] {
  const a = ctx.attrs;
  if (a.has('clip')) throw new Error(`${ctx.where}: attribute 'clip' (cell clipping) is not supported here`);
  if (((a.get('input_forget') as number | undefined) ?? 0) !== 0) {
    throw new Error(`${ctx.where}: attribute 'input_forget' (coupled input and forget gates) is not supported here`);
  }
  const per = DEFAULT_ACTIVATIONS[kind].length;
  const names =
    (a.get('activations') as string[] | undefined) ?? new Array(directions).fill(DEFAULT_ACTIVATIONS[kind]).flat();
  if (names.length !== per * directions) {
    throw new Error(
      `${ctx.where}: expected ${per * directions} activations (${per} per direction), got ${names.length}`,
    );
  }
  const alphas = [...((a.get('activation_alpha') as number[] | undefined) ?? [])];
  const betas = [...((a.get('activation_beta') as number[] | undefined) ?? [])];
  const ours = names.map((name) => {
    const takes = name.toLowerCase() === 'hardsigmoid';
    return fromOnnxActivation(ctx.where, {
      name,
      alpha: takes ? alphas.shift() : undefined,
      beta: takes ? betas.shift() : undefined,
    });
  });
  if (alphas.length || betas.length) {
    throw new Error(
      `${ctx.where}: activation_alpha/activation_beta name values for activations we do not have (${names.join(', ')})`,
    );
  }
  const resetAfter = kind === 'gru' ? ((a.get('linear_before_reset') as number | undefined) ?? 0) !== 0 : undefined;
  return Array.from({ length: directions }, (_, d) => {
    const [f, g, h] = ours.slice(d * per, (d + 1) * per) as [string, string, string];
    if (kind === 'elman') return { kind, activation: f };
    if (kind === 'lstm' && g !== h) {
      throw new Error(
        `${ctx.where}: LSTM activations g = ${names[d * per + 1]} and h = ${names[d * per + 2]} differ; ours uses one activation for both`,
      );
    }
    return { kind, activation: g, recurrentActivation: f, resetAfter };
  });
}

/** The operator of one cell kind. */
function recurrentOp(kind: OnnxKind): Op {
  const extra = kind === 'lstm' ? ['input_forget'] : kind === 'gru' ? ['linear_before_reset'] : [];
  return {
    attributes: [...COMMON, ...extra],
    read: [4, 7],
    run(ctx, inputs, values) {
      const direction = (ctx.attrs.get('direction') as string | undefined) ?? 'forward';
      if (!['forward', 'reverse', 'bidirectional'].includes(direction)) {
        throw new Error(`${ctx.where}: expected direction forward, reverse or bidirectional, got '${direction}'`);
      }
      const D = direction === 'bidirectional' ? 2 : 1;
      const configs = directionConfigs(ctx, kind, D);
      const layout = (ctx.attrs.get('layout') as number | undefined) ?? 0;
      const [X0, W, R] = [0, 1, 2].map((i) => {
        const t = inputs[i];
        if (!t) throw new Error(`${ctx.where}: input ${['X', 'W', 'R'][i]} is missing`);
        return t;
      });
      const B = inputs[3];
      const P = values[7];
      if (P && P.some((v) => v !== 0)) {
        throw new Error(
          `${ctx.where}: input P (LSTM peepholes) is not supported here: our LSTM has no peephole connections`,
        );
      }
      const G = ONNX_GATES[kind].length;
      const [, rows = 0] = W.shape;
      const H = rows / G;
      const hidden = ctx.attrs.get('hidden_size') as number | undefined;
      if (W.rank !== 3 || W.shape[0] !== D || !Number.isInteger(H) || (hidden !== undefined && hidden !== H)) {
        throw new Error(
          `${ctx.where}: expected W of shape [${D}, ${G} * hidden_size (${hidden ?? '?'}), input], got [${W.shape.join(', ')}]`,
        );
      }
      const x = (layout === 0 ? tf.transpose(X0, [1, 0, 2]) : X0) as tf.Tensor3D;
      const [batch, time] = x.shape;
      const lens = values[4];
      const mask = lens && lens.some((n) => n !== time) ? maskOf(lens, time) : undefined;
      const stateOf = (t: tf.Tensor | undefined, d: number) =>
        t
          ? (tf.squeeze(
              tf.slice(t, layout === 0 ? [d, 0, 0] : [0, d, 0], layout === 0 ? [1, batch, H] : [batch, 1, H]),
              [layout],
            ) as tf.Tensor2D)
          : undefined;
      const ys: tf.Tensor3D[] = [];
      const states: State[] = [];
      for (let d = 0; d < D; d++) {
        const part = (t: tf.Tensor) => tf.squeeze(tf.slice(t, d, 1), [0]);
        const cell = cellFromOnnx(
          configs[d],
          part(W) as tf.Tensor2D,
          part(R) as tf.Tensor2D,
          B ? (part(B) as tf.Tensor1D) : null,
        );
        try {
          const h = stateOf(inputs[5], d);
          const c = stateOf(inputs[6], d);
          const zeros = cell.initialState(batch);
          const initialState: State =
            kind === 'lstm' ? { h: h ?? zeros.h, c: c ?? (zeros.c as tf.Tensor2D) } : { h: h ?? zeros.h };
          const reverse = direction === 'reverse' || d === 1;
          const { outputs, state } = unroll(cell, x, { initialState, reverse, mask });
          ys.push(mask ? tf.mul(outputs, tf.expandDims(mask, 2)) : outputs);
          states.push(state);
        } finally {
          cell.dispose();
        }
      }
      const Y =
        layout === 0
          ? tf.stack(
              ys.map((y) => tf.transpose(y, [1, 0, 2])),
              1,
            )
          : tf.stack(ys, 2);
      const final = (s: 'h' | 'c') =>
        tf.stack(
          states.map((st) => st[s] as tf.Tensor2D),
          layout,
        );
      return kind === 'lstm' ? [Y, final('h'), final('c')] : [Y, final('h')];
    },
  };
}

/** `[batch, time]`: 1 before each sequence's length, 0 after. */
function maskOf(lens: number[], time: number): tf.Tensor2D {
  return tf.tensor2d(
    lens.flatMap((n) => Array.from({ length: time }, (_, t) => (t < n ? 1 : 0))),
    [lens.length, time],
  );
}

/** `RNN`, `LSTM`, `GRU`. */
export const RECURRENT_OPS: Record<string, Op> = Object.fromEntries(
  Object.entries(ONNX_KIND).map(([name, kind]) => [name, recurrentOp(kind)]),
);
