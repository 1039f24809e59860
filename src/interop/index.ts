/** Weights in and out: PyTorch state dicts, Keras/tfjs layers, tfjs's own layers. */
export {
  fromPyTorch,
  toPyTorch,
  toPyTorchAsync,
  type FromPyTorchNetworkOptions,
  type PyTorchSource,
  type ToPyTorchOptions,
  type PyTorchKind,
  type PyTorchStateDict,
  type StateDict,
  type StateDictEntry,
} from './pytorch.js';
// Builds a RecurrentNetwork, so it lives above network.ts (in network-io.ts) and is re-exported here.
export { fromPyTorchNetwork } from '../network-io.js';
export { fromKeras, toKeras, type FromKerasOptions } from './keras.js';
export { toLayersModel } from './layers-model.js';
export { fromTfjsModel, toTfjsModel } from './convert-model.js';
export {
  compareWithPyTorch,
  compareWithPyTorchAsync,
  pyTorchKindOf,
  type PyTorchReference,
  type ReferenceComparison,
} from './reference.js';
// Model files: one entry point (by magic bytes or extension) and the explicit readers and writers.
export { load, save, fromSafetensors, toSafetensors, type LoadedModel, type StateDictOptions } from './files.js';
export { loadKeras } from './keras-file.js';
export { fromOnnx, OnnxModel, type RecurrentParts } from './onnx/import.js';
export type { DirectionConfig, OnnxKind } from './onnx/recurrent.js';
export { toOnnx, type ToOnnxOptions } from './onnx/export.js';
export { networkFromOnnx } from './onnx/network.js';
export { readSafetensors, writeSafetensors, type Safetensors, type SafetensorsEntry } from './safetensors.js';
