/**
 * The rows of `[n_i, w]` tensors one under the other (`tf.concat` on axis 0), as the fast path
 * stacks its steps: the outputs `h_1..h_T` forward, and every step's `dL/dhp_t` for the weight
 * gradients.
 *
 * On WebGL tfjs's packed concat reads every output entry on its own, through a chain of tests of
 * all its inputs, and costs several times more per entry with more inputs (about 8 times with
 * SwiftShader for 16 inputs against 4). Where every input has an even number of rows, each 2×2
 * texel of the output is one texel of one input: a program of ours copies whole texels, up to 8
 * inputs at once, level by level (50 steps of `[32, 512]`: 9 ms against 33 for tfjs's concat in
 * groups of 4, on SwiftShader). Its gradient cuts `dy` back into the inputs' rows. Elsewhere (odd
 * rows on WebGL: tfjs's concat in groups of 4; other backends: one `tf.concat`, grouped by tfjs's
 * own limits).
 */
import * as tf from '@tensorflow/tfjs';
import { ownKernel, type WebGLBackend } from './kernels.js';

interface ConcatAttrs {
  /** The rows of each input. */
  rows: number[];
}

/** The first row of each input in the output. */
const starts = (rows: number[]) => rows.map((_, i) => rows.slice(0, i).reduce((a, b) => a + b, 0));

/** The WebGL program: each fragment copies the texel of the input its rows lie in. */
function program(rows: number[], width: number) {
  const names = rows.map((_, i) => `T${i}`);
  const at = starts(rows);
  const last = rows.length - 1;
  const copies = names
    .map((name, i) => {
      const copy = `{ v = get${name}(r - ${at[i]}, c); }`;
      return i === last ? copy : `if (r < ${at[i] + rows[i]}) ${copy}`;
    })
    .join(' else ');
  return {
    variableNames: names,
    outputShape: [at[last] + rows[last], width],
    packedInputs: true,
    packedOutput: true,
    userCode: `
      void main() {
        ivec2 rc = getOutputCoords();
        int r = rc.x;
        int c = rc.y;
        vec4 v;
        ${copies}
        setOutput(v);
      }`,
  };
}

const kernel = ownKernel(
  'TfjsRecurrentConcatRows',
  {
    webgl: ({ inputs, attrs, backend }) => {
      const { rows } = attrs as unknown as ConcatAttrs;
      const ts = rows.map((_, i) => inputs[`T${i}`] as tf.TensorInfo);
      return (backend as WebGLBackend).runWebGLProgram(program(rows, ts[0].shape[1]), ts, 'float32');
    },
  },
  {
    gradFunc: (dy, _saved, attrs) => {
      const { rows } = attrs as unknown as ConcatAttrs;
      const at = starts(rows);
      return Object.fromEntries(rows.map((n, i) => [`T${i}`, () => tf.slice(dy as tf.Tensor2D, [at[i], 0], [n, -1])]));
    },
  },
);

/** Inputs per program of ours on WebGL (8 copied fastest: 4 and 16 took about a quarter longer). */
const GROUP = 8;

/** `tf.concat(ts, 0)` of `[n_i, w]` tensors (see the module's comment for how). */
export function concatRows(ts: tf.Tensor2D[]): tf.Tensor2D {
  if (ts.length === 1) return ts[0].clone();
  if (tf.getBackend() !== 'webgl') return tf.concat2d(ts, 0);
  // Our program reads the first input's width: other widths go to tf.concat, which refuses them.
  const width = ts[0].shape[1];
  const texels = ts.every((t) => t.shape[0] % 2 === 0 && t.shape[1] === width) && kernel.runs();
  const join = texels
    ? (xs: tf.Tensor2D[]) =>
        kernel.run(Object.fromEntries(xs.map((x, i) => [`T${i}`, x])), {
          rows: xs.map((x) => x.shape[0]),
        }) as tf.Tensor2D
    : (xs: tf.Tensor2D[]) => tf.concat2d(xs, 0);
  const group = texels ? GROUP : 4;
  return tf.tidy(() => {
    let level = ts;
    while (level.length > 1) {
      const next: tf.Tensor2D[] = [];
      for (let i = 0; i < level.length; i += group) {
        next.push(i + 1 === level.length ? level[i] : join(level.slice(i, i + group)));
      }
      level = next;
    }
    return level[0];
  });
}

/** `tf.stack` of `[B, w]` tensors (`[n, B, w]`), through {@link concatRows}. */
export function stackRows(ts: tf.Tensor2D[]): tf.Tensor3D {
  const [batch, width] = ts[0].shape;
  return tf.reshape(concatRows(ts), [ts.length, batch, width]);
}
