/**
 * An ONNX file as a network of ours: {@link networkFromOnnx} reads the graph's recurrent nodes and
 * dense head ({@link OnnxModel.recurrentParts}) into a `RecurrentNetwork` (stacked,
 * bidirectional), then runs both on a seeded input and refuses the result unless they agree:
 * the shape plumbing between the nodes is not read, so this check is what proves the network is
 * the graph. It sits above `network.ts`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell } from '../../cells/cell.js';
import { RecurrentNetwork } from '../../network.js';
import { fromOnnx } from './import.js';
import { cellFromOnnx } from './recurrent.js';

/** Largest |network − graph| accepted, relative to the graph's largest output. */
const TOLERANCE = 1e-4;

/**
 * A network (`rt.network`'s kind: stacked, bidirectional, with a dense head) holding the weights
 * of an ONNX file whose graph is that: `RNN`/`LSTM`/`GRU` nodes read batch-first
 * (`[batch, time, features]` in and out, as `toOnnx` and `torch.onnx.export` of a `batch_first`
 * module write them) and a `MatMul` + `Add` (or `Gemm`) head. Graphs of another shape
 * (time-major, `sequence_lens`, initial states, no head, other layers) are refused, naming why;
 * `fromOnnx` runs those.
 */
export async function networkFromOnnx(bytes: Uint8Array): Promise<RecurrentNetwork> {
  const where = 'networkFromOnnx';
  const model = await fromOnnx(bytes);
  const made: Cell[][] = [];
  let net: RecurrentNetwork | null = null;
  try {
    if (model.inputNames.length !== 1 || model.outputNames.length !== 1) {
      throw new Error(
        `${where}: expected a graph with one input and one output, got ${model.inputNames.length} and ${model.outputNames.length}`,
      );
    }
    const { layers, head } = model.recurrentParts(where);
    const headW = head?.W;
    const headB = head?.b;
    if (!head || !headW || !headB)
      throw new Error(`${where}: the graph has no dense head (MatMul + Add or Gemm) after its recurrent nodes`);
    for (const layer of layers) {
      const D = layer.configs.length;
      const cells: Cell[] = [];
      made.push(cells);
      for (let d = 0; d < D; d++) {
        const part = (t: tf.Tensor) => tf.tidy(() => tf.squeeze(tf.slice(t, d, 1), [0]));
        const [W, R, B] = [part(layer.W), part(layer.R), layer.B ? part(layer.B) : null];
        try {
          cells.push(cellFromOnnx(layer.configs[d], W as tf.Tensor2D, R as tf.Tensor2D, B as tf.Tensor1D | null));
        } finally {
          tf.dispose([W, R, B].filter((t): t is tf.Tensor => t !== null));
        }
      }
    }
    const W_yh = tf.tidy(() => tf.variable(head.transposed ? headW : tf.transpose(headW), true));
    const b_y = tf.variable(headB, true);
    try {
      net = new RecurrentNetwork(made, W_yh.shape[0] ?? 0, head.activation, { W_yh, b_y });
    } catch (err) {
      tf.dispose([W_yh, b_y]);
      throw err;
    }
    const x = tf.randomNormal([2, 3, net.inputSize], 0, 1, 'float32', 13);
    try {
      const want = await model.predict(x);
      const got = net.predict(x);
      const same = want.rank === got.rank && want.shape.every((d, i) => d === got.shape[i]);
      const measures = same ? tf.tidy(() => [tf.max(tf.abs(tf.sub(got, want))), tf.max(tf.abs(want))]) : [];
      const [diff, scale] = same ? await Promise.all(measures.map((t) => t.data())) : [[Infinity], [1]];
      tf.dispose(measures);
      tf.dispose([want, got]);
      if (!(diff[0] <= TOLERANCE * Math.max(scale[0], 1))) {
        throw new Error(
          `${where}: the graph is not a batch-first stack of recurrent layers with a dense head (the network built from its nodes differs from it by ${diff[0]}); use fromOnnx, which runs any graph it reads`,
        );
      }
    } finally {
      x.dispose();
    }
    return net;
  } catch (err) {
    if (net) net.dispose();
    else made.flat().forEach((c) => c.dispose());
    throw err;
  } finally {
    model.dispose();
  }
}
