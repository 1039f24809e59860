/**
 * ONNX files in: {@link fromOnnx} reads a `.onnx` model whose graph is built of `RNN`, `LSTM` and
 * `GRU` nodes (computed by our cells, see `recurrent-op.ts`), heads of `MatMul`/`Gemm`/`Add` and
 * activations, and the shape plumbing exporters write around them (see `ops.ts`). Any other
 * operator, an operator from another domain, or an attribute we cannot honour is refused when
 * the file is read, naming it.
 */
import * as tf from '@tensorflow/tfjs';
import { describe } from '../../check/index.js';
import { attributesOf } from './attributes.js';
import { checkOpAttributes, OPS, type Op, type OpContext } from './ops.js';
import { fromTensorProto, onnxProto, toNumber, type Onnx } from './proto.js';
import { directionConfigs, RECURRENT_OPS } from './recurrent-op.js';
import { ONNX_KIND, type DirectionConfig } from './recurrent.js';

const ALL_OPS: Record<string, Op> = { ...OPS, ...RECURRENT_OPS };

interface PlannedNode {
  /** The ONNX operator's name (`LSTM`, `MatMul`, …). */
  type: string;
  op: Op;
  ctx: OpContext;
  inputs: string[];
  outputs: string[];
}

/** What {@link OnnxModel.recurrentParts} finds. */
export interface RecurrentParts {
  /** Each recurrent node: its directions' configurations and its stacked W, R, B. */
  layers: { configs: DirectionConfig[]; W: tf.Tensor; R: tf.Tensor; B: tf.Tensor | null }[];
  /** The head's weight (`[features, outputs]`, or `[outputs, features]` when `transposed`), bias and activation. */
  head: { W: tf.Tensor | null; b: tf.Tensor | null; transposed: boolean; activation: string } | null;
}

/**
 * An ONNX graph, run with tfjs's ops and our recurrent cells. Build one with {@link fromOnnx};
 * `dispose()` frees its weights.
 */
export class OnnxModel {
  /** The graph's inputs that are not weights (fed to {@link run}), in the file's order. */
  readonly inputNames: readonly string[];
  /** The graph's outputs, in the file's order. */
  readonly outputNames: readonly string[];
  private readonly weights: Map<string, tf.Tensor>;
  private readonly nodes: readonly PlannedNode[];

  private constructor(
    inputNames: string[],
    outputNames: string[],
    weights: Map<string, tf.Tensor>,
    nodes: PlannedNode[],
  ) {
    this.inputNames = inputNames;
    this.outputNames = outputNames;
    this.weights = weights;
    this.nodes = nodes;
  }

  /**
   * Runs the graph on `feeds` (one tensor per name in {@link inputNames}) and returns every
   * graph output by name (new tensors; dispose them). Integer inputs (`sequence_lens`) may be
   * int32 tensors. Asynchronous: shapes and lengths are read with `await data()`, so it runs on
   * every backend.
   */
  async run(feeds: Record<string, tf.Tensor>): Promise<Record<string, tf.Tensor>> {
    const missing = this.inputNames.filter((n) => !(feeds?.[n] instanceof tf.Tensor));
    if (missing.length) {
      throw new TypeError(
        `OnnxModel.run: expected a tensor for each input ${this.inputNames.join(', ')}; missing ${missing.join(', ')} (got ${describe(feeds)})`,
      );
    }
    const values = new Map<string, tf.Tensor>([...this.weights, ...Object.entries(feeds)]);
    const made: tf.Tensor[] = [];
    try {
      for (const node of this.nodes) {
        const inputs = node.inputs.map((n) => {
          if (n === '') return undefined;
          const v = values.get(n);
          if (!v) throw new Error(`${node.ctx.where}: input '${n}' is computed by no node before it`);
          return v;
        });
        const read = await Promise.all(
          inputs.map(async (t, i) => (t && node.op.read?.includes(i) ? Array.from(await t.data()) : undefined)),
        );
        const outputs = tf.tidy(() => node.op.run(node.ctx, inputs, read));
        made.push(...outputs);
        node.outputs.forEach((name, i) => {
          if (name !== '' && outputs[i]) values.set(name, outputs[i]);
        });
      }
      const result: Record<string, tf.Tensor> = {};
      for (const name of this.outputNames) {
        const v = values.get(name);
        if (!v) throw new Error(`OnnxModel.run: graph output '${name}' is computed by no node`);
        result[name] = v.clone();
      }
      return result;
    } finally {
      tf.dispose(made);
    }
  }

  /** {@link run} for a graph with one input and one output: `x` in, that output back. */
  async predict(x: tf.Tensor): Promise<tf.Tensor> {
    if (this.inputNames.length !== 1 || this.outputNames.length !== 1) {
      throw new Error(
        `OnnxModel.predict: the graph has inputs ${this.inputNames.join(', ')} and outputs ${this.outputNames.join(', ')}; use run({ name: tensor, … }) for more than one`,
      );
    }
    const out = await this.run({ [this.inputNames[0]]: x });
    return out[this.outputNames[0]];
  }

  /**
   * Reads an ONNX model (the bytes of a `.onnx` file). Every node is checked now: an operator we do
   * not run (or from another domain than ONNX's own) or an attribute we cannot honour is an error
   * that names the node, the operator and what it is. Weights stored outside the file (external
   * data) are refused.
   */
  static async fromBytes(bytes: Uint8Array): Promise<OnnxModel> {
    if (!(bytes instanceof Uint8Array))
      throw new TypeError(`fromOnnx: expected the bytes of an .onnx file (a Uint8Array), got ${describe(bytes)}`);
    const onnx = await onnxProto('fromOnnx');
    let model: Onnx.ModelProto;
    try {
      model = onnx.ModelProto.decode(bytes);
    } catch (err) {
      throw new Error(`fromOnnx: the bytes are not an ONNX model (${(err as Error).message})`);
    }
    const graph = model.graph;
    if (!graph) throw new Error('fromOnnx: the model has no graph');
    const opset = toNumber((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
    const plan: PlannedNode[] = (graph.node ?? []).map((node, i) => {
      const where = `fromOnnx: node ${i} '${node.name || node.output?.[0] || ''}' (${node.opType})`;
      if (node.domain && node.domain !== 'ai.onnx')
        throw new Error(`${where}: operator domain '${node.domain}' is not supported here`);
      const op = ALL_OPS[node.opType ?? ''];
      if (!op) {
        throw new Error(
          `${where}: operator '${node.opType}' is not supported here; supported: ${Object.keys(ALL_OPS).join(', ')}`,
        );
      }
      const ctx: OpContext = { where, attrs: attributesOf(where, node), opset };
      checkOpAttributes(ctx, op);
      return { type: node.opType ?? '', op, ctx, inputs: [...(node.input ?? [])], outputs: [...(node.output ?? [])] };
    });
    const weights = new Map<string, tf.Tensor>();
    try {
      for (const t of graph.initializer ?? []) weights.set(t.name ?? '', fromTensorProto('fromOnnx', t));
    } catch (err) {
      tf.dispose([...weights.values()]);
      throw err;
    }
    const inputs = (graph.input ?? []).map((v) => v.name ?? '').filter((n) => !weights.has(n));
    const outputs = (graph.output ?? []).map((v) => v.name ?? '');
    return new OnnxModel(inputs, outputs, weights, plan);
  }

  /**
   * The graph read as a stack of recurrent layers and one dense head, for `networkFromOnnx`: each
   * `RNN`/`LSTM`/`GRU` node in order (its weights must be in the file; `sequence_lens`,
   * peepholes or initial states fed from outside are refused), then a `MatMul` + `Add` or a
   * `Gemm` on stored weights, then an activation. The other nodes are not read here: the caller
   * checks the result numerically against {@link run}. Tensors are the model's own (do not dispose).
   */
  recurrentParts(where: string): RecurrentParts {
    const layers: RecurrentParts['layers'] = [];
    const head: NonNullable<RecurrentParts['head']> = { W: null, b: null, transposed: false, activation: 'linear' };
    const stored = (name: string | undefined) => (name ? this.weights.get(name) : undefined);
    for (const node of this.nodes) {
      const op = node.ctx.where;
      const type = node.type;
      if (type in RECURRENT_OPS) {
        if (head.W) throw new Error(`${where}: ${op} follows the dense head; expected recurrent layers, then one head`);
        const [, W, R, B, lens, h0, c0, P] = node.inputs;
        if (lens)
          throw new Error(`${where}: ${op} takes sequence_lens; a network runs whole sequences (use run() instead)`);
        if (P) throw new Error(`${where}: ${op} has input P (LSTM peepholes), which our LSTM does not have`);
        for (const [name, what] of [
          [h0, 'initial_h'],
          [c0, 'initial_c'],
        ] as const) {
          if (name && this.inputNames.includes(name))
            throw new Error(
              `${where}: ${op} takes ${what} from the graph input '${name}'; a network starts from zeros (use run() instead)`,
            );
        }
        const weights = [W, R, B].map(stored);
        if (!weights[0] || !weights[1] || (B && !weights[2]))
          throw new Error(`${where}: ${op} takes weights that are not stored in the file`);
        const direction = node.ctx.attrs.get('direction') ?? 'forward';
        if (direction === 'reverse')
          throw new Error(`${where}: ${op} runs in reverse alone; a network layer runs forward (or both ways)`);
        const configs = directionConfigs(node.ctx, ONNX_KIND[type], direction === 'bidirectional' ? 2 : 1);
        layers.push({ configs, W: weights[0], R: weights[1], B: weights[2] ?? null });
      } else if ((type === 'MatMul' || type === 'Gemm') && stored(node.inputs[1])?.rank === 2 && layers.length) {
        if (head.W) throw new Error(`${where}: ${op} is a second dense layer; a network has one head`);
        head.W = stored(node.inputs[1]) ?? null;
        if (type === 'Gemm') {
          const a = node.ctx.attrs;
          if ((a.get('alpha') ?? 1) !== 1 || (a.get('beta') ?? 1) !== 1 || (a.get('transA') ?? 0) !== 0)
            throw new Error(`${where}: ${op} has alpha, beta or transA other than the defaults`);
          head.transposed = a.get('transB') === 1;
          head.b = stored(node.inputs[2]) ?? null;
        }
      } else if (type === 'Add' && head.W && !head.b) {
        head.b = stored(node.inputs[0]) ?? stored(node.inputs[1]) ?? null;
      } else if (head.W && ['Softmax', 'Sigmoid', 'Tanh', 'Relu'].includes(type)) {
        head.activation = type.toLowerCase();
      }
    }
    if (!layers.length) throw new Error(`${where}: the graph has no RNN, LSTM or GRU node`);
    return { layers, head: head.W ? head : null };
  }

  /** Frees the graph's weights. */
  dispose(): void {
    tf.dispose([...this.weights.values()]);
    this.weights.clear();
  }
}

/** {@link OnnxModel.fromBytes}: reads an ONNX model from the bytes of a `.onnx` file. */
export function fromOnnx(bytes: Uint8Array): Promise<OnnxModel> {
  return OnnxModel.fromBytes(bytes);
}
