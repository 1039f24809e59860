/**
 * Input checks shared by every public entry point. Each throws an error that names what was
 * expected and what came, before any tensor work starts. Plain values are checked in
 * `values.ts` (free of TensorFlow.js, for the plotting entry), tensors in `tensors.ts`.
 */
export { fmt, describe, checkPositiveInt, checkSeed, checkBoolean, checkKeys, checkOneOf } from './values.js';
export { checkTensor } from './tensors.js';
