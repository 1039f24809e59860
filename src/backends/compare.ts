/**
 * The same model on several backends: speed, agreement with the CPU backend and the number of
 * kernels a training step launches.
 *
 * Every backend gets its own copy of the model's weights (read once, written into new variables
 * while that backend is active), so all rows start from the same numbers.
 */
import * as tf from '@tensorflow/tfjs';
import type { Cell } from '../cells/cell.js';
import { createCell } from '../cells/kinds.js';
import { checkKeys, checkPositiveInt, checkTensor, show } from '../check/index.js';
import { uniqueName } from '../init.js';
import { networkFromSaved, RecurrentNetwork } from '../network.js';
import { unroll } from '../unroll.js';
import { use } from './use.js';

/** What {@link compare} measures on one backend. */
export interface CompareRow {
  backend: string;
  /** Median milliseconds of one forward pass over the whole sequence, outputs downloaded. */
  forwardMs: number;
  /**
   * Median milliseconds of one training step: `tf.variableGrads` of the mean squared error
   * (BPTT through the unrolled graph) and an Adam update of every parameter.
   */
  trainStepMs: number;
  /** `max |y_backend - y_cpu|` over the outputs of the first forward pass. */
  maxAbsDiffVsCpu: number;
  /** Kernels one training step launches (`tf.profile`), divided by the number of time steps. */
  kernelsPerStep: number;
  /** The GPU renderer (WebGL's unmasked renderer string, WebGPU's adapter), when there is one. */
  renderer?: string;
}

export interface CompareOptions {
  /** A network (`y` is its output) or a cell (`y` is `h_t` at every step). */
  model: RecurrentNetwork | Cell;
  /** `[batch, time, inputSize]` */
  x: tf.Tensor;
  /** The target of the training step, shaped as the model's output (default: zeros). */
  y?: tf.Tensor;
  /** Backend names, e.g. `['cpu', 'wasm', 'webgl']`; each is started with `use`. */
  backends: string[];
  /** Timed repetitions of each measure, after one untimed warm-up (default 5). */
  steps?: number;
}

/** Values read once from the caller's tensors, to be written on every backend. */
type Snapshot = { shape: number[]; values: Float32Array };

/** A copy of the model living on the active backend. */
interface Replica {
  params: tf.Variable[];
  forward(x: tf.Tensor3D): tf.Tensor3D;
  dispose(): void;
}

/**
 * Runs the model on each backend in turn and returns one {@link CompareRow} per backend, in the
 * order given. The backend that was active before is active again afterwards.
 */
export async function compare(options: CompareOptions): Promise<CompareRow[]> {
  const { model, x, y, backends, steps, outputSize } = checkCompareOptions(options);
  const weights = await snapshotAll(model.params);
  const [batch, time] = x.shape;
  const inputs = {
    x: await snapshot(x),
    y: y
      ? await snapshot(y)
      : { shape: [batch, time, outputSize], values: new Float32Array(batch * time * outputSize) },
  };
  const before = tf.getBackend();

  try {
    const reference = await onBackend('cpu', model, weights, async (replica) => {
      const xCpu = restore(inputs.x) as tf.Tensor3D;
      const values = await outputValues(replica, xCpu);
      xCpu.dispose();
      return values;
    });
    const rows: CompareRow[] = [];
    for (const backend of backends) {
      rows.push(
        await onBackend(backend, model, weights, (replica) => measure(backend, replica, inputs, reference, steps)),
      );
    }
    return rows;
  } finally {
    if (before && tf.getBackend() !== before) await use(before);
  }
}

/** Starts `backend`, builds a replica of the model there, runs `f` on it and disposes it. */
async function onBackend<T>(
  backend: string,
  model: RecurrentNetwork | Cell,
  weights: Record<string, Snapshot>,
  f: (replica: Replica) => Promise<T>,
): Promise<T> {
  await use(backend);
  const replica = replicate(model, weights);
  try {
    return await f(replica);
  } finally {
    replica.dispose();
  }
}

async function measure(
  backend: string,
  replica: Replica,
  inputs: { x: Snapshot; y: Snapshot },
  reference: Float32Array,
  steps: number,
): Promise<CompareRow> {
  const x = restore(inputs.x) as tf.Tensor3D;
  const y = restore(inputs.y);
  const optimizer = tf.train.adam(1e-3);

  const forward = () => outputValues(replica, x);
  const trainStep = async (): Promise<void> => {
    const { value, grads } = tf.variableGrads(
      () => tf.losses.meanSquaredError(y, replica.forward(x)) as tf.Scalar,
      replica.params,
    );
    optimizer.applyGradients(grads as Record<string, tf.Variable>);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  };

  try {
    const maxAbsDiffVsCpu = maxAbsDiff(await forward(), reference);
    const forwardMs = await medianMs(forward, steps);
    await trainStep(); // warm-up: shaders compile, optimizer slots appear
    const profile = await tf.profile(trainStep);
    const trainStepMs = await medianMs(trainStep, steps);
    const renderer = rendererName();
    return {
      backend,
      forwardMs,
      trainStepMs,
      maxAbsDiffVsCpu,
      kernelsPerStep: profile.kernels.length / x.shape[1],
      ...(renderer ? { renderer } : {}),
    };
  } finally {
    optimizer.dispose();
    tf.dispose([x, y]);
  }
}

/** Runs the replica forward and downloads its outputs (which also waits for asynchronous backends). */
async function outputValues(replica: Replica, x: tf.Tensor3D): Promise<Float32Array> {
  const out = tf.tidy(() => replica.forward(x));
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

/** A copy of `model` whose parameters are new variables on the active backend. */
function replicate(model: RecurrentNetwork | Cell, weights: Record<string, Snapshot>): Replica {
  const params: Record<string, tf.Variable> = {};
  for (const [symbol, snap] of Object.entries(weights)) {
    const value = restore(snap);
    params[symbol] = tf.variable(value, true, uniqueName(symbol));
    value.dispose();
  }
  const list = Object.values(params);
  if (model instanceof RecurrentNetwork) {
    // Stacked and bidirectional networks too: the replica is built as a saved network is loaded.
    const net = networkFromSaved({ config: model.config, params });
    return { params: list, forward: (x) => net.predict(x), dispose: () => net.dispose() };
  }
  const cell = createCell(model.config, { params });
  return { params: list, forward: (x) => unroll(cell, x).outputs, dispose: () => cell.dispose() };
}

async function snapshot(t: tf.Tensor): Promise<Snapshot> {
  return { shape: t.shape.slice(), values: Float32Array.from(await t.data()) };
}

function restore(s: Snapshot): tf.Tensor {
  return tf.tensor(s.values, s.shape);
}

async function snapshotAll(params: Record<string, tf.Variable>): Promise<Record<string, Snapshot>> {
  const out: Record<string, Snapshot> = {};
  for (const [symbol, p] of Object.entries(params)) out[symbol] = await snapshot(p);
  return out;
}

/** The median of `n` timings of `f`, in milliseconds. */
async function medianMs(f: () => Promise<unknown>, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** WebGL's unmasked renderer string or WebGPU's adapter, for the active backend. */
function rendererName(): string | undefined {
  const backend = tf.backend() as unknown as {
    gpgpu?: { gl?: WebGLRenderingContext };
    adapterInfo?: { vendor?: string; architecture?: string };
  };
  const gl = backend.gpgpu?.gl;
  if (gl) {
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  }
  const adapter = backend.adapterInfo;
  return adapter ? [adapter.vendor, adapter.architecture].filter(Boolean).join(' ') || undefined : undefined;
}

function checkCompareOptions(options: CompareOptions) {
  const where = 'backends.compare';
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: expected options { model, x, y?, backends, steps? }, got ${show(options)}`);
  }
  checkKeys(where, options, ['model', 'x', 'y', 'backends', 'steps']);
  const { model, x, y, backends } = options;
  const isCell = (m: unknown): m is Cell =>
    m !== null && typeof m === 'object' && typeof (m as Cell).step === 'function' && 'config' in m;
  if (!(model instanceof RecurrentNetwork) && !isCell(model)) {
    throw new TypeError(`${where}: expected model to be a RecurrentNetwork or a Cell, got ${show(model)}`);
  }
  const [batch, time] = checkTensor(where, 'x', x, ['batch', 'time', model.inputSize]).shape as number[];
  const outSize = model instanceof RecurrentNetwork ? model.outputSize : model.units;
  if (y !== undefined) checkTensor(where, 'y', y, [batch, time, outSize]);
  if (!Array.isArray(backends) || backends.length === 0 || !backends.every((b) => typeof b === 'string' && b)) {
    throw new TypeError(`${where}: expected backends to be a non-empty array of names, got ${show(backends)}`);
  }
  const steps = options.steps === undefined ? 5 : checkPositiveInt(where, 'steps', options.steps);
  return { model, x: x as tf.Tensor3D, y, backends, steps, outputSize: outSize };
}
