/**
 * `rt.worker`: training in a Web Worker, so that a page stays responsive while a network learns.
 * The page calls {@link train} with the worker, the network and `{ x, y }` tensors; the worker's
 * script calls {@link serve}. The network's weights and the data travel as bytes, the worker runs `rt.train` on its own TensorFlow.js, reports every
 * epoch, and sends the trained weights back into the page's network.
 *
 * ```ts
 * // train-worker.ts, bundled as its own entry
 * import * as rt from 'tfjs-recurrent';
 * rt.worker.serve({ backend: 'cpu' });
 *
 * // the page
 * const worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
 * const history = await rt.worker.train(worker, net, { x, y }, { loss: 'mse', epochs: 20, onEpochEnd: show });
 * ```
 *
 * What cannot cross to a worker is refused before anything is sent: a loss or optimizer given as
 * a function or object (give its name), `callbacks` (use `onEpochEnd`), and the Node-only
 * options `progress: true`, `checkpoint` and `resume`.
 */
import * as tf from '@tensorflow/tfjs';
import { use } from './backends/index.js';
import { checkKeys, show } from './check/index.js';
import { nodeOnly } from './lazy-import.js';
import { networkArtifacts, networkFromArtifacts } from './network-io.js';
import type { RecurrentNetwork } from './network.js';
import type { LossName } from './objective/index.js';
import {
  train as trainHere,
  TRAIN_OPTION_KEYS,
  type History,
  type OptimizerName,
  type TrainOptions,
} from './train/index.js';

/** The part of a `Worker` (or a worker's global scope) that {@link train} and {@link serve} use. */
export interface MessageTarget {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  addEventListener(type: 'error', listener: (event: Event) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'error', listener: (event: Event) => void): void;
}

/** The options of {@link train}: those of `rt.train` that can travel to a worker. */
export interface WorkerTrainOptions extends Omit<
  TrainOptions,
  'loss' | 'optimizer' | 'validation' | 'callbacks' | 'checkpoint' | 'resume'
> {
  /** The loss, by name. */
  loss: LossName;
  /** The optimizer, by name (default `'adam'`). */
  optimizer?: OptimizerName;
  /** `{ x, y }` tensors evaluated after every epoch. */
  validation?: { x: tf.Tensor; y: tf.Tensor };
  /** Called on the page after every epoch, with the epoch's losses. */
  onEpochEnd?: (epoch: number, logs: { loss: number; valLoss?: number }) => void;
}

/** A tensor as it travels: shape, dtype and values. */
interface Packed {
  shape: number[];
  dtype: 'float32' | 'int32';
  values: Float32Array | Int32Array;
}

const PREFIX = 'tfjs-recurrent/worker';
type Request = {
  type: `${typeof PREFIX}/train`;
  id: number;
  artifacts: tf.io.ModelArtifacts;
  data: { x: Packed; y: Packed };
  validation?: { x: Packed; y: Packed };
  options: Omit<WorkerTrainOptions, 'validation' | 'onEpochEnd'>;
};
type Reply =
  | { type: `${typeof PREFIX}/epoch`; id: number; epoch: number; logs: { loss: number; valLoss?: number } }
  | { type: `${typeof PREFIX}/done`; id: number; artifacts: tf.io.ModelArtifacts; history: History }
  | { type: `${typeof PREFIX}/error`; id: number; message: string };

/** rt.train's options less those refused above (callbacks, checkpoint, resume), and the page's onEpochEnd. */
const OPTION_KEYS = [
  ...TRAIN_OPTION_KEYS.filter((k) => !['callbacks', 'checkpoint', 'resume'].includes(k)),
  'onEpochEnd',
];

let nextId = 1;

/**
 * Trains `net` in `worker` (whose script called {@link serve}) on `data`, with `rt.train`'s
 * options; resolves to the history once the trained weights are back in `net`. `net` is left as
 * it was when training fails, and the error says why.
 */
export async function train(
  worker: MessageTarget,
  net: RecurrentNetwork,
  data: { x: tf.Tensor; y: tf.Tensor },
  options: WorkerTrainOptions,
): Promise<History> {
  const where = 'worker.train';
  if (!worker || typeof worker.postMessage !== 'function' || typeof worker.addEventListener !== 'function') {
    throw new TypeError(`${where}: expected a Worker (new Worker(url, { type: 'module' })), got ${show(worker)}`);
  }
  const { onEpochEnd, validation, ...sent } = checkOptions(where, options);
  const id = nextId++;
  // Listening before anything is awaited: an error of a worker that was just made (its script
  // did not load) comes while the data is read, and would otherwise leave a promise that never settles.
  let stop = () => {};
  const replied = new Promise<History>((resolve, reject) => {
    const failed = (event: Event) => {
      stop();
      const why = (event as ErrorEvent).message || 'its script did not load or threw';
      reject(new Error(`${where}: the worker failed (${why}); its script must call rt.worker.serve()`));
    };
    const listener = (event: MessageEvent) => {
      const reply = event.data as Reply;
      if (!reply || reply.id !== id) return;
      if (reply.type === `${PREFIX}/epoch`) {
        onEpochEnd?.(reply.epoch, reply.logs);
        return;
      }
      stop();
      if (reply.type === `${PREFIX}/error`) {
        reject(new Error(`${where}: training in the worker failed: ${reply.message}`));
        return;
      }
      try {
        const trained = networkFromArtifacts(reply.artifacts, 'the worker');
        for (const [name, param] of Object.entries(net.params)) param.assign(trained.params[name]);
        trained.dispose();
        resolve(reply.history);
      } catch (err) {
        reject(err as Error);
      }
    };
    stop = () => {
      worker.removeEventListener('message', listener);
      worker.removeEventListener('error', failed);
    };
    worker.addEventListener('message', listener);
    worker.addEventListener('error', failed);
  });
  // Handled below; this only keeps a failure while the data is read from being reported as unhandled.
  replied.catch(() => {});
  let request: Request;
  try {
    request = {
      type: `${PREFIX}/train`,
      id,
      artifacts: await networkArtifacts(net),
      data: await packPair(where, 'data', data),
      ...(validation ? { validation: await packPair(where, 'validation', validation) } : {}),
      options: sent,
    };
  } catch (err) {
    stop();
    throw err;
  }
  // The weights' bytes are a fresh buffer: moved, not copied. The data's may be the tensors' own
  // (on the cpu backend): copied.
  const weights = request.artifacts.weightData;
  worker.postMessage(request, weights instanceof ArrayBuffer ? [weights] : []);
  return replied;
}

/** Refuses, before anything is sent, what cannot cross to a worker or needs Node. */
function checkOptions(where: string, options: WorkerTrainOptions): WorkerTrainOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: expected options { loss, ... }, got ${show(options)}`);
  }
  const o = options as WorkerTrainOptions & Pick<TrainOptions, 'checkpoint' | 'resume' | 'callbacks'>;
  if (o.checkpoint !== undefined || o.resume !== undefined) {
    throw nodeOnly(where, 'checkpoint and resume (files on disk)', 'leave them out and save the trained network');
  }
  if (o.progress === true || (o.verbose !== undefined && o.verbose !== 0)) {
    throw nodeOnly(where, 'progress (a bar on a terminal)', 'leave it out and follow training with onEpochEnd');
  }
  if (o.callbacks !== undefined) {
    throw new Error(`${where}: callbacks cannot be sent to a worker; give onEpochEnd, which runs on the page`);
  }
  if (typeof o.loss !== 'string') {
    throw new TypeError(`${where}: a worker needs the loss by name ('mse', ...); got ${show(o.loss)}`);
  }
  if (o.optimizer !== undefined && typeof o.optimizer !== 'string') {
    throw new TypeError(`${where}: a worker needs the optimizer by name ('adam', ...); got ${show(o.optimizer)}`);
  }
  if (o.onEpochEnd !== undefined && typeof o.onEpochEnd !== 'function') {
    throw new TypeError(`${where}: onEpochEnd must be a function, got ${show(o.onEpochEnd)}`);
  }
  checkKeys(where, options, OPTION_KEYS);
  return options;
}

async function packPair(where: string, name: string, pair: unknown): Promise<{ x: Packed; y: Packed }> {
  const p = pair as { x?: unknown; y?: unknown } | null;
  if (!p || !(p.x instanceof tf.Tensor) || !(p.y instanceof tf.Tensor)) {
    throw new TypeError(`${where}: expected ${name} { x, y } of tensors, got ${show(pair)}`);
  }
  return { x: await pack(p.x), y: await pack(p.y) };
}

async function pack(t: tf.Tensor): Promise<Packed> {
  const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
  const values = (await (t.dtype === dtype ? t : t.toFloat()).data()) as Float32Array | Int32Array;
  return { shape: t.shape.slice(), dtype, values };
}

function unpack(p: Packed): tf.Tensor {
  return tf.tensor(p.values, p.shape, p.dtype);
}

/** The options of {@link serve}. */
export interface ServeOptions {
  /** The backend to train on, started (with `rt.backends.use`) before the first request is answered. */
  backend?: string;
  /** Where requests come from (default: the worker's global scope). */
  scope?: MessageTarget;
}

/**
 * Serves {@link train}'s requests in a worker's script: each builds the network, trains it with
 * `rt.train` on the worker's TensorFlow.js and posts the trained weights back. Call it at the top
 * of the script, before any `await`, so that no request arrives before it listens.
 */
export function serve(options: ServeOptions = {}): void {
  checkKeys('worker.serve', options, ['backend', 'scope']);
  const scope = options.scope ?? (globalThis as unknown as MessageTarget);
  const ready = options.backend === undefined ? Promise.resolve() : use(options.backend);
  scope.addEventListener('message', (event: MessageEvent) => {
    const request = event.data as Request;
    if (!request || request.type !== `${PREFIX}/train`) return;
    void answer(scope, request, ready);
  });
}

async function answer(scope: MessageTarget, request: Request, ready: Promise<void>): Promise<void> {
  const { id } = request;
  try {
    await ready;
  } catch (err) {
    scope.postMessage({ type: `${PREFIX}/error`, id, message: (err as Error).message } satisfies Reply);
    return;
  }
  const tensors = [request.data.x, request.data.y, request.validation?.x, request.validation?.y].map((p) =>
    p ? unpack(p) : null,
  );
  const [x, y, vx, vy] = tensors;
  let net: RecurrentNetwork | null = null;
  try {
    net = networkFromArtifacts(request.artifacts, 'the page');
    const history = await trainHere(
      net,
      { x: x!, y: y! },
      {
        ...request.options,
        ...(vx && vy ? { validation: { x: vx, y: vy } } : {}),
        callbacks: {
          onEpochEnd: (epoch, logs) => {
            const sent = { loss: logs.loss, ...(logs.valLoss === undefined ? {} : { valLoss: logs.valLoss }) };
            scope.postMessage({ type: `${PREFIX}/epoch`, id, epoch, logs: sent } satisfies Reply);
          },
        },
      },
    );
    const artifacts = await networkArtifacts(net);
    const reply: Reply = { type: `${PREFIX}/done`, id, artifacts, history };
    scope.postMessage(reply, artifacts.weightData instanceof ArrayBuffer ? [artifacts.weightData] : []);
  } catch (err) {
    scope.postMessage({ type: `${PREFIX}/error`, id, message: (err as Error).message } satisfies Reply);
  } finally {
    net?.dispose();
    tf.dispose(tensors.filter((t): t is tf.Tensor => t !== null));
  }
}
