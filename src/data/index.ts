/**
 * Data for recurrent networks: the adding problem (a synthetic test of long-range memory) and
 * character-level text corpora cut into next-character windows.
 */
export { addingProblem, addingBatches, ADDING_BASELINE_MSE, type AddingOptions } from './adding.js';
export {
  charCorpus,
  charWindows,
  windowCount,
  oneHot,
  Vocabulary,
  BOUNDARY,
  type CharCorpus,
  type CorpusMode,
  type WindowOptions,
} from './text.js';
