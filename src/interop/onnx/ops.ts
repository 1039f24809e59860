/**
 * The ONNX operators the importer runs besides `RNN`, `LSTM` and `GRU` (see `recurrent-op.ts`):
 * the heads (`MatMul`, `Add`, `Gemm`, activations) and the shape plumbing that exporters such
 * as `torch.onnx.export` put around a recurrent node (`Shape`, `Gather`, `Slice`, `Reshape`,
 * `Transpose`, `Squeeze`, …), each with tfjs's ops. Integers (int64 in ONNX) are int32 tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { checkAttributes, type AttributeValue } from './attributes.js';
import { fromTensorProto, tensorProtoValues, type Onnx } from './proto.js';

/** What an operator sees: its node's name for messages, its attributes, the model's opset. */
export interface OpContext {
  where: string;
  attrs: Map<string, AttributeValue>;
  opset: number;
}

/** An operator: which inputs it needs as numbers (read before it runs), and what it computes. */
export interface Op {
  /** Attributes it honours; any other is refused. */
  attributes: readonly string[];
  /** Indices of inputs read into numbers before `run` (shapes, axes, lengths). */
  read?: readonly number[];
  run(ctx: OpContext, inputs: (tf.Tensor | undefined)[], values: (number[] | undefined)[]): tf.Tensor[];
}

const num = (ctx: OpContext, name: string, fallback: number) => {
  const v = ctx.attrs.get(name);
  return v === undefined ? fallback : (v as number);
};
const ints = (ctx: OpContext, name: string) => ctx.attrs.get(name) as number[] | undefined;

/** An input that must be there. */
function need(ctx: OpContext, inputs: (tf.Tensor | undefined)[], i: number): tf.Tensor {
  const t = inputs[i];
  if (!t) throw new Error(`${ctx.where}: input ${i} is missing`);
  return t;
}

/** Axes from the attribute (opset < 13) or the second input (opset ≥ 13), made non-negative for `rank`. */
function axesOf(ctx: OpContext, values: (number[] | undefined)[], rank: number): number[] | undefined {
  const axes = ints(ctx, 'axes') ?? values[1];
  return axes?.map((a) => (a < 0 ? a + rank : a));
}

const unary = (f: (x: tf.Tensor) => tf.Tensor): Op => ({
  attributes: [],
  run: (ctx, inputs) => [f(need(ctx, inputs, 0))],
});
const binary = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Op => ({
  attributes: [],
  run: (ctx, inputs) => [f(need(ctx, inputs, 0), need(ctx, inputs, 1))],
});

/** `a @ b` with numpy's rules for the ranks exporters write: `[..., K] @ [K, N]` and equal batch ranks. */
function matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (b.rank === 2) {
    const K = a.shape[a.rank - 1];
    const flat = tf.matMul(tf.reshape(a, [-1, K]), b as tf.Tensor2D);
    const [, N = 0] = flat.shape;
    return tf.reshape(flat, [...a.shape.slice(0, -1), N]);
  }
  return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
}

/** `Slice` with ONNX's clamping of starts and ends (negative from the end, huge to the end). */
function slice(ctx: OpContext, x: tf.Tensor, values: (number[] | undefined)[]): tf.Tensor {
  const [, starts, ends, axesIn, steps] = values;
  if (!starts || !ends) throw new Error(`${ctx.where}: Slice needs starts and ends`);
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + x.rank : a));
  const begin = x.shape.map(() => 0);
  const size = [...x.shape];
  axes.forEach((axis, i) => {
    if (axis < 0 || axis >= x.rank)
      throw new Error(`${ctx.where}: Slice axis ${axesIn?.[i]} is outside a rank-${x.rank} tensor`);
    if (steps && steps[i] !== 1)
      throw new Error(`${ctx.where}: Slice with step ${steps[i]} is not supported here (only 1)`);
    const dim = x.shape[axis];
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const s = clamp(starts[i]);
    begin[axis] = s;
    size[axis] = Math.max(clamp(ends[i]) - s, 0);
  });
  return tf.slice(x, begin, size);
}

/** `Reshape`: 0 copies the input's dimension (unless allowzero), -1 is inferred. */
function reshape(ctx: OpContext, x: tf.Tensor, shape: number[]): tf.Tensor {
  const allowZero = num(ctx, 'allowzero', 0) === 1;
  return tf.reshape(x, allowZero ? shape : shape.map((d, i) => (d === 0 ? x.shape[i] : d)));
}

/** The operators by ONNX name. */
export const OPS: Record<string, Op> = {
  Identity: unary((x) => tf.clone(x)),
  Relu: unary((x) => tf.relu(x)),
  Tanh: unary((x) => tf.tanh(x)),
  Sigmoid: unary((x) => tf.sigmoid(x)),
  Add: binary((a, b) => tf.add(a, b)),
  Sub: binary((a, b) => tf.sub(a, b)),
  Mul: binary((a, b) => tf.mul(a, b)),
  Div: binary((a, b) => tf.div(a, b)),
  MatMul: binary(matMul),
  Softmax: {
    attributes: ['axis'],
    run: (ctx, inputs) => {
      const x = need(ctx, inputs, 0);
      const axis = num(ctx, 'axis', ctx.opset >= 13 ? -1 : 1);
      const last = axis === -1 || axis === x.rank - 1;
      if (!last)
        throw new Error(
          `${ctx.where}: Softmax over axis ${axis} of a rank-${x.rank} tensor is not supported here (only the last axis)`,
        );
      return [tf.softmax(x)];
    },
  },
  Gemm: {
    attributes: ['alpha', 'beta', 'transA', 'transB'],
    run: (ctx, inputs) => {
      const [A, B] = [need(ctx, inputs, 0), need(ctx, inputs, 1)] as tf.Tensor2D[];
      const ab = tf.mul(
        tf.matMul(A, B, num(ctx, 'transA', 0) === 1, num(ctx, 'transB', 0) === 1),
        num(ctx, 'alpha', 1),
      );
      return [inputs[2] ? tf.add(ab, tf.mul(inputs[2], num(ctx, 'beta', 1))) : ab];
    },
  },
  Constant: {
    attributes: ['value', 'value_float', 'value_floats', 'value_int', 'value_ints'],
    run: (ctx) => {
      const a = ctx.attrs;
      if (a.has('value')) return [fromTensorProto(ctx.where, a.get('value') as Onnx.ITensorProto)];
      if (a.has('value_float')) return [tf.scalar(a.get('value_float') as number)];
      if (a.has('value_floats')) return [tf.tensor1d(a.get('value_floats') as number[])];
      if (a.has('value_int')) return [tf.scalar(a.get('value_int') as number, 'int32')];
      if (a.has('value_ints')) return [tf.tensor1d(a.get('value_ints') as number[], 'int32')];
      throw new Error(`${ctx.where}: Constant without a value`);
    },
  },
  ConstantOfShape: {
    attributes: ['value'],
    read: [0],
    run: (ctx, _inputs, values) => {
      const v = ctx.attrs.get('value') as Onnx.ITensorProto | undefined;
      const fill = v ? tensorProtoValues(ctx.where, v) : { values: [0], isFloat: true };
      return [tf.fill(values[0] as number[], fill.values[0], fill.isFloat ? 'float32' : 'int32')];
    },
  },
  Shape: {
    attributes: [],
    run: (ctx, inputs) => [tf.tensor1d(need(ctx, inputs, 0).shape, 'int32')],
  },
  Gather: {
    attributes: ['axis'],
    run: (ctx, inputs) => {
      const x = need(ctx, inputs, 0);
      const axis = num(ctx, 'axis', 0);
      const a = axis < 0 ? axis + x.rank : axis;
      const idx = need(ctx, inputs, 1);
      const wrapped = tf.tidy(() => {
        const dim = tf.scalar(x.shape[a] ?? 0, 'int32');
        return tf.mod(tf.add(tf.cast(idx, 'int32'), dim), dim);
      });
      const out = tf.gather(x, wrapped, a);
      wrapped.dispose();
      return [out];
    },
  },
  Unsqueeze: {
    attributes: ['axes'],
    read: [1],
    run: (ctx, inputs, values) => {
      const x = need(ctx, inputs, 0);
      const rank = x.rank + (ints(ctx, 'axes') ?? values[1] ?? []).length;
      const axes = (axesOf(ctx, values, rank) ?? []).sort((p, q) => p - q);
      const shape = [...x.shape];
      for (const a of axes) shape.splice(a, 0, 1);
      return [tf.reshape(x, shape)];
    },
  },
  Squeeze: {
    attributes: ['axes'],
    read: [1],
    run: (ctx, inputs, values) => {
      const x = need(ctx, inputs, 0);
      return [tf.squeeze(x, axesOf(ctx, values, x.rank))];
    },
  },
  Concat: {
    attributes: ['axis'],
    run: (ctx, inputs) => [
      tf.concat(
        inputs.filter((t): t is tf.Tensor => !!t),
        num(ctx, 'axis', 0),
      ),
    ],
  },
  Transpose: {
    attributes: ['perm'],
    run: (ctx, inputs) => [tf.transpose(need(ctx, inputs, 0), ints(ctx, 'perm'))],
  },
  Slice: {
    attributes: [],
    read: [1, 2, 3, 4],
    run: (ctx, inputs, values) => [slice(ctx, need(ctx, inputs, 0), values)],
  },
  Reshape: {
    attributes: ['allowzero'],
    read: [1],
    run: (ctx, inputs, values) => [reshape(ctx, need(ctx, inputs, 0), values[1] as number[])],
  },
};

/** Refuses attributes an operator does not honour. */
export function checkOpAttributes(ctx: OpContext, op: Op): void {
  checkAttributes(ctx.where, ctx.attrs, op.attributes);
}
