/**
 * tfjs-recurrent: recurrent neural networks for TensorFlow.js, written as the textbook writes
 * them. See README.md for a tour.
 */
export * as cells from './cells/index.js';
// Also at the top level: TypeScript 5.0 (Jupyter's tslab) cannot name types reached only through a namespace.
export type { Cell, CellConfig, CellKind, State } from './cells/cell.js';
export type { CompareRow, CompareOptions } from './backends/index.js';
export type { CharCorpus } from './data/index.js';
export type { GradientNorms } from './diagnostics/index.js';
export { unroll, type UnrollOptions, type UnrollResult } from './unroll.js';
// NaN in predict/unroll/step inputs propagates (as in any tfjs op): a cheap check to call first.
export { checkFinite, checkFiniteAsync } from './check/index.js';
export { network, RecurrentNetwork, type NetworkOptions, type NetworkConfig, type ApplyResult } from './network.js';
export { registerActivation, getActivation, activationNames, type ActivationFn } from './activations.js';
export * as interop from './interop/index.js';
export * as layers from './layers/index.js';
export { loadNetwork } from './network-io.js';
export * as io from './network-io.js';
export * as backends from './backends/index.js';
export {
  train,
  loadCheckpoint,
  type History,
  type TrainOptions,
  type TrainCallbacks,
  type TrainData,
  type Checkpoint,
} from './train/index.js';
export * as diagnostics from './diagnostics/index.js';
export * as data from './data/index.js';

import { registerFileRouter } from './io/file.js';
import { registerWasmKernels } from './backends/wasm-kernels.js';
// In Node, `file://` URLs save and load (networks and tf.LayersModels) without tfjs-node.
registerFileRouter();
// The embedding's gradient (UnsortedSegmentSum), which tfjs-backend-wasm lacks.
registerWasmKernels();
