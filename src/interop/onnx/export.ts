/**
 * ONNX files out: {@link toOnnx} writes a network of ours, or a `tf.LayersModel` of recurrent
 * layers and a dense head, as an ONNX model (opset 14) built of ONNX's own `RNN`, `LSTM` and `GRU`
 * operators, so that any ONNX runtime runs it with its native kernels:
 *
 * - input `x: [batch, time, inputSize]`, output `y: [batch, time, outputSize]` (or
 *   `[batch, outputSize]` when the last recurrent layer returns its last step only);
 * - each recurrent layer is one node, with `layout = 0` between two `Transpose`s (or
 *   `layout = 1` without them, see {@link ToOnnxOptions}), gate orders iofc
 *   (LSTM) and zrh (GRU), `linear_before_reset = 1` for a GRU with `resetAfter: true`,
 *   `direction: bidirectional` for a bidirectional layer (outputs concatenated, forward first);
 * - the head is `MatMul` + `Add` and its activation (`Softmax` on the last axis, `Sigmoid`,
 *   `Tanh`, `Relu`; none for `linear`).
 *
 * Refused, naming it: a cell kind ONNX has no operator for, an activation it has no equal for,
 * and layers or options it cannot express (`goBackwards` alone, `stateful`, `returnState`,
 * a bidirectional merge other than `concat`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell } from '../../cells/cell.js';
import { checkKeys, describe, show } from '../../check/index.js';
import * as ourLayers from '../../layers/index.js';
import { fromTfjsActivation } from '../keras.js';
import { cellFromKerasWeights, type KerasRecurrentSpec } from '../keras-weights.js';
import type { NetworkParts } from '../layers-model.js';
import { floatTensorProto, int64TensorProto, onnxProto, type Onnx } from './proto.js';
import { ONNX_OP, onnxKind, onnxWeights, toOnnxActivation } from './recurrent.js';

/** A recurrent layer to write: one cell per direction. */
interface StackLayer {
  cells: Cell[];
  /** Every step (`true`) or the last one. */
  sequences: boolean;
}

/** A model as the exporter sees it: recurrent layers, then at most one dense head. */
interface Stack {
  inputSize: number;
  layers: StackLayer[];
  head: { W: tf.Tensor2D; b: tf.Tensor1D; activation: string } | null;
  /** Tensors and cells made for the export (freed after it). */
  made: { dispose(): void }[];
}

/** tfjs's recurrent layers by class name. */
const TFJS_KINDS: Record<string, KerasRecurrentSpec['kind']> = { SimpleRNN: 'elman', LSTM: 'lstm', GRU: 'gru' };

const HEAD_OPS: Record<string, string | null> = {
  linear: null,
  softmax: 'Softmax',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  relu: 'Relu',
};

function networkStack(net: NetworkParts): Stack {
  const layers = net.cells.map((cells) => ({ cells: [...cells], sequences: true }));
  const { W_yh, b_y } = net.outputParams;
  return {
    inputSize: layers[0].cells[0].inputSize,
    layers,
    head: { W: W_yh as tf.Tensor2D, b: b_y as tf.Tensor1D, activation: net.outputActivation },
    made: [],
  };
}

/**
 * The cell a recurrent layer (ours or tfjs's own) computes, refusing what a cell cannot say.
 * tfjs's Bidirectional keeps its backward half with `goBackwards: true` (`backwardHalf`): the
 * ONNX node reverses that direction by itself.
 */
function layerCell(
  where: string,
  layer: tf.layers.Layer,
  made: Stack['made'],
  backwardHalf = false,
): { cell: Cell; sequences: boolean } {
  const config = layer.getConfig();
  for (const option of ['stateful', 'returnState', 'goBackwards'] as const) {
    if (config[option] === true && !(backwardHalf && option === 'goBackwards'))
      throw new Error(`${where}: layer '${layer.name}' has ${option}: true, which the ONNX export cannot express`);
  }
  if (layer instanceof ourLayers.RecurrentLayer) {
    if (!layer.cell) throw new Error(`${where}: layer '${layer.name}' is not built yet`);
    return { cell: layer.cell, sequences: layer.returnSequences };
  }
  const kind = TFJS_KINDS[layer.getClassName()];
  const [kernel, recurrentKernel, bias] = layer.getWeights();
  if (!kind || !recurrentKernel)
    throw new Error(`${where}: layer '${layer.name}' (${layer.getClassName()}) is not a built recurrent layer`);
  const at = `${where}(${layer.getClassName()} '${layer.name}')`;
  const cell = cellFromKerasWeights(
    at,
    {
      kind,
      units: config.units as number,
      activation: fromTfjsActivation(at, config.activation as string),
      recurrentActivation: kind === 'elman' ? undefined : fromTfjsActivation(at, config.recurrentActivation as string),
      resetAfter: false,
    },
    kernel,
    recurrentKernel,
    bias ?? null,
  );
  made.push(cell);
  return { cell, sequences: config.returnSequences === true };
}

function modelStack(where: string, model: tf.LayersModel): Stack {
  const stack: Stack = { inputSize: 0, layers: [], head: null, made: [] };
  try {
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw new Error(
        `${where}: expected a model with one input and one output, got ${model.inputs.length} and ${model.outputs.length}`,
      );
    }
    const [, , inputSize] = model.inputs[0].shape;
    stack.inputSize = inputSize ?? 0;
    for (const layer of model.layers) {
      const name = layer.getClassName();
      if (name === 'InputLayer') continue;
      if (stack.head)
        throw new Error(
          `${where}: layer '${layer.name}' (${name}) follows the dense head; only recurrent layers and one final dense layer are exported`,
        );
      if (name === 'Bidirectional') {
        const bi = layer as unknown as {
          forwardLayer: tf.layers.Layer;
          backwardLayer: tf.layers.Layer;
          mergeMode: string;
        };
        if (bi.mergeMode !== 'concat')
          throw new Error(
            `${where}: Bidirectional '${layer.name}' merges with '${bi.mergeMode}'; ONNX's bidirectional output is 'concat'`,
          );
        const forward = layerCell(where, bi.forwardLayer, stack.made);
        const backward = layerCell(where, bi.backwardLayer, stack.made, true);
        stack.layers.push({ cells: [forward.cell, backward.cell], sequences: forward.sequences });
      } else if (name === 'Dense' || layer instanceof ourLayers.RecurrentOutput) {
        const [W, b] = layer.getWeights();
        const activation = String(layer.getConfig().activation ?? 'linear');
        const Wt = name === 'Dense' ? tf.transpose(W) : W;
        if (name === 'Dense') stack.made.push(Wt);
        stack.head = { W: Wt as tf.Tensor2D, b: b as tf.Tensor1D, activation };
      } else if (layer instanceof ourLayers.RecurrentLayer || name in TFJS_KINDS) {
        const { cell, sequences } = layerCell(where, layer, stack.made);
        stack.layers.push({ cells: [cell], sequences });
      } else {
        throw new Error(
          `${where}: layer '${layer.name}' (${name}) has no ONNX export here; expected recurrent layers, Bidirectional, and one final Dense or layers.output`,
        );
      }
    }
    if (!stack.layers.length) throw new Error(`${where}: the model has no recurrent layer`);
    stack.layers.slice(0, -1).forEach((l, i) => {
      if (!l.sequences)
        throw new Error(
          `${where}: recurrent layer ${i} returns its last step only, yet another recurrent layer follows it`,
        );
    });
    return stack;
  } catch (err) {
    stack.made.forEach((m) => m.dispose());
    throw err;
  }
}

/** Builds the graph's nodes and weights with fresh names. */
class GraphBuilder {
  readonly nodes: Onnx.INodeProto[] = [];
  readonly initializers: Onnx.ITensorProto[] = [];
  private count = 0;

  name(base: string): string {
    return `${base}_${this.count++}`;
  }

  async weight(base: string, t: tf.Tensor): Promise<string> {
    const name = this.name(base);
    this.initializers.push(floatTensorProto(name, t.shape, (await t.data()) as Float32Array));
    return name;
  }

  ints(base: string, values: number[]): string {
    const name = this.name(base);
    this.initializers.push(int64TensorProto(name, values));
    return name;
  }

  node(opType: string, inputs: string[], attributes: Onnx.IAttributeProto[] = [], outputs = 1): string[] {
    const out = Array.from({ length: outputs }, () => this.name(opType.toLowerCase()));
    this.nodes.push({ opType, input: inputs, output: out, name: this.name(`${opType}_node`), attribute: attributes });
    return out;
  }
}

const INT = 2;
const STRING = 3;
const FLOATS = 6;
const INTS = 7;
const STRINGS = 8;
const text = (s: string) => new TextEncoder().encode(s);
const intAttr = (name: string, i: number): Onnx.IAttributeProto => ({ name, type: INT, i });
const intsAttr = (name: string, ints: number[]): Onnx.IAttributeProto => ({ name, type: INTS, ints });

/**
 * One recurrent layer's node; returns its `[time, batch, directions * hidden]` output (`[batch,
 * time, …]` with `layout` 1), or `[batch, directions * hidden]` for the last step only.
 */
async function recurrentNode(
  g: GraphBuilder,
  where: string,
  X: string,
  layer: StackLayer,
  index: number,
  layout: 0 | 1,
): Promise<string> {
  const [first] = layer.cells;
  const kind = onnxKind(where, first.kind);
  for (const c of layer.cells) {
    if (c.kind !== first.kind || c.units !== first.units || c.inputSize !== first.inputSize) {
      throw new Error(`${where}: the two directions of layer ${index} differ in kind or size`);
    }
  }
  const weights = layer.cells.map((c) => onnxWeights(where, c));
  let W: string, R: string, B: string;
  try {
    const stacked = (k: 'W' | 'R' | 'B') => tf.stack(weights.map((w) => w[k]));
    const [Wt, Rt, Bt] = [stacked('W'), stacked('R'), stacked('B')];
    try {
      W = await g.weight(`W${index}`, Wt);
      R = await g.weight(`R${index}`, Rt);
      B = await g.weight(`B${index}`, Bt);
    } finally {
      tf.dispose([Wt, Rt, Bt]);
    }
  } finally {
    tf.dispose(weights.flatMap((w) => [w.W, w.R, w.B]));
  }
  const activations: string[] = [];
  const alphas: number[] = [];
  const betas: number[] = [];
  for (const c of layer.cells) {
    const { activation, recurrentActivation } = c.config;
    const ours =
      kind === 'elman'
        ? [activation]
        : kind === 'gru'
          ? [recurrentActivation, activation]
          : [recurrentActivation, activation, activation];
    for (const name of ours) {
      const a = toOnnxActivation(where, name ?? 'sigmoid');
      activations.push(a.name);
      if (a.alpha !== undefined) {
        alphas.push(a.alpha);
        betas.push(a.beta ?? 0);
      }
    }
  }
  const D = layer.cells.length;
  const attributes: Onnx.IAttributeProto[] = [
    intAttr('hidden_size', first.units),
    { name: 'direction', type: STRING, s: text(D === 2 ? 'bidirectional' : 'forward') },
    { name: 'activations', type: STRINGS, strings: activations.map(text) },
  ];
  if (alphas.length)
    attributes.push(
      { name: 'activation_alpha', type: FLOATS, floats: alphas },
      { name: 'activation_beta', type: FLOATS, floats: betas },
    );
  if (kind === 'gru') attributes.push(intAttr('linear_before_reset', first.config.resetAfter ? 1 : 0));
  if (layout === 1) attributes.push(intAttr('layout', 1));
  const [Y, Yh] = g.node(ONNX_OP[kind], [X, W, R, B], attributes, 2);
  if (layout === 1) {
    // [batch, time, D, hidden] -> [batch, time, D * hidden]; [batch, D, hidden] -> [batch, D * hidden]
    return layer.sequences
      ? g.node('Reshape', [Y, g.ints('shape', [0, 0, -1])])[0]
      : g.node('Reshape', [Yh, g.ints('shape', [0, -1])])[0];
  }
  if (layer.sequences) {
    // [time, D, batch, hidden] -> [time, batch, D, hidden] -> [time, batch, D * hidden]
    const [t] = g.node('Transpose', [Y], [intsAttr('perm', [0, 2, 1, 3])]);
    return g.node('Reshape', [t, g.ints('shape', [0, 0, -1])])[0];
  }
  // [D, batch, hidden] -> [batch, D, hidden] -> [batch, D * hidden]
  const [t] = g.node('Transpose', [Yh], [intsAttr('perm', [1, 0, 2])]);
  return g.node('Reshape', [t, g.ints('shape', [0, -1])])[0];
}

/** The ONNX model's bytes. */
async function encode(stack: Stack, where: string, layout: 0 | 1): Promise<Uint8Array> {
  const onnx = await onnxProto(where);
  const g = new GraphBuilder();
  let cur = layout === 1 ? 'x' : g.node('Transpose', ['x'], [intsAttr('perm', [1, 0, 2])])[0];
  for (const [i, layer] of stack.layers.entries()) cur = await recurrentNode(g, where, cur, layer, i, layout);
  const sequences = stack.layers[stack.layers.length - 1].sequences;
  if (sequences && layout === 0) cur = g.node('Transpose', [cur], [intsAttr('perm', [1, 0, 2])])[0];
  if (stack.head) {
    const { W, b, activation } = stack.head;
    if (!(activation in HEAD_OPS)) {
      throw new Error(
        `${where}: output activation '${activation}' has no ONNX operator here; expected one of ${Object.keys(HEAD_OPS).join(', ')}`,
      );
    }
    const Wt = tf.transpose(W);
    let weight: string;
    try {
      weight = await g.weight('W_yh_T', Wt);
    } finally {
      Wt.dispose();
    }
    cur = g.node('Add', [g.node('MatMul', [cur, weight])[0], await g.weight('b_y', b)])[0];
    const op = HEAD_OPS[activation];
    if (op) cur = g.node(op, [cur], op === 'Softmax' ? [intAttr('axis', -1)] : [])[0];
  }
  g.nodes.push({ opType: 'Identity', input: [cur], output: ['y'], name: 'output' });
  const float = (dims: (string | number)[]): Onnx.ITypeProto => ({
    tensorType: {
      elemType: 1,
      shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
    },
  });
  const model: Onnx.IModelProto = {
    irVersion: 7,
    producerName: 'tfjs-recurrent',
    opsetImport: [{ domain: '', version: 14 }],
    graph: {
      name: 'tfjs-recurrent',
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: 'x', type: float(['batch', 'time', stack.inputSize]) }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1 } } }],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Options of {@link toOnnx}. */
export interface ToOnnxOptions {
  /**
   * The recurrent nodes' `layout` attribute (opset 14): 0 (default) reads `[time, batch, …]`, so
   * the graph transposes around each node; 1 reads `[batch, time, …]` and needs no transposes.
   * Either way the graph's input and output are batch-first. onnxruntime 1.30's CPU kernels
   * refuse `layout = 1` ("Batchwise recurrent operations are not supported"); ONNX's reference
   * implementation and {@link fromOnnx} run it.
   */
  layout?: 0 | 1;
}

/**
 * The bytes of an ONNX model computing `source`: a network of ours (`rt.network`) or a
 * `tf.LayersModel` of recurrent layers (ours, or tfjs's `simpleRNN`/`lstm`/`gru`, in
 * `tf.layers.bidirectional` with `mergeMode: 'concat'` or not) and at most one final `dense` or
 * `layers.output`. Write them to a `.onnx` file (`rt.interop.save(net, 'x.onnx')` does both).
 */
export async function toOnnx(source: NetworkParts | tf.LayersModel, options: ToOnnxOptions = {}): Promise<Uint8Array> {
  const where = 'toOnnx';
  checkKeys(where, options, ['layout']);
  const layout = options.layout ?? 0;
  if (layout !== 0 && layout !== 1) throw new RangeError(`${where}: expected layout 0 or 1, got ${show(layout)}`);
  let stack: Stack;
  if (source instanceof tf.LayersModel) stack = modelStack(where, source);
  else if (source && typeof source === 'object' && 'cells' in source && 'outputParams' in source)
    stack = networkStack(source);
  else throw new TypeError(`${where}: expected a network (rt.network) or a tf.LayersModel, got ${describe(source)}`);
  try {
    return await encode(stack, where, layout);
  } finally {
    stack.made.forEach((m) => m.dispose());
  }
}
