/** Weights in and out: PyTorch state dicts, Keras/tfjs layers, tfjs's own layers. */
export {
  fromPyTorch,
  toPyTorch,
  toPyTorchAsync,
  type PyTorchKind,
  type PyTorchStateDict,
  type StateDict,
  type StateDictEntry,
} from './pytorch.js';
export { fromKeras, toKeras, type FromKerasOptions } from './keras.js';
export { toLayersModel } from './layers-model.js';
export {
  compareWithPyTorch,
  compareWithPyTorchAsync,
  pyTorchKindOf,
  type PyTorchReference,
  type ReferenceComparison,
} from './reference.js';
