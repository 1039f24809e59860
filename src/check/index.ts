/**
 * Input checks shared by every public entry point. Each throws an error that names what was
 * expected and what came, before any tensor work starts. Plain values are checked in
 * `values.ts` (free of TensorFlow.js, for the plotting entry), tensors in `tensors.ts`.
 */
export {
  fmt,
  describe,
  show,
  checkPositiveInt,
  checkSeed,
  checkBoolean,
  checkKeys,
  checkOneOf,
  checkNested,
  sizeOf,
  inapplicable,
  checkTemperature,
  MIN_TEMPERATURE,
  labelsMessage,
  nonFiniteMessage,
  disposedMessage,
  LABEL_SUM_TOLERANCE,
  type LabelKind,
} from './values.js';
export {
  checkTensor,
  checkSequence,
  checkLive,
  checkMaskValues,
  exampleFlags,
  exampleProblem,
  checkFinite,
  checkFiniteAsync,
  checkWeight,
} from './tensors.js';
