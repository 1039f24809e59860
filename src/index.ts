/**
 * tfjs-recurrent: recurrent neural networks for TensorFlow.js, written as the textbook writes
 * them. See README.md for a tour.
 */
export * as cells from './cells/index.js';
// Also at the top level: TypeScript 5.0 (Jupyter's tslab) cannot name types reached only through a namespace.
export type { Cell, CellConfig, CellKind, LstmState, State } from './cells/cell.js';
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
// The types that the public signatures use, so that users (and the API reference) can name them.
export type { StepOptions } from './cells/cell.js';
export type { ApplyOptions, NetworkCells, NetworkStackOptions } from './network.js';
export type { Stepper } from './stepper.js';
export type { SavedNetwork } from './io/artifacts.js';
export type { NetworkParts } from './interop/layers-model.js';
export type { Callbacks, BatchLogs, EpochLogs, LossName, LossFn, Target, OptimizerName } from './train/index.js';
export type { WeightOptions, WeightGroup, RegularizerArg, ConstraintArg, InitializerArg } from './layers/options.js';
export type { TfjsLossName } from './objective/loss.js';
export type { OurLossName } from './objective/loss-ops.js';
export type { DropoutFunc } from './layers/dropout.js';
export * as data from './data/index.js';
// The trained models shipped in the package's models/ folder (Node).
export * as models from './models.js';
// Training in a Web Worker: rt.worker.train on the page, rt.worker.serve in the worker.
export * as worker from './worker.js';

import { registerFileRouter } from './io/file.js';
import { registerWasmKernels } from './backends/wasm-kernels.js';
// In Node, `file://` URLs save and load (networks and tf.LayersModels) without tfjs-node.
registerFileRouter();
// The embedding's gradient (UnsortedSegmentSum), which tfjs-backend-wasm lacks.
registerWasmKernels();
