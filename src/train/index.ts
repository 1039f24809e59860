/** Training with explicit BPTT: `train`, its options and history, and checkpoints. */
export { train, type History } from './train.js';
export { TRAIN_OPTION_KEYS, type TrainOptions, type OptimizerName } from './options.js';
export type { Callbacks, TrainCallbacks, BatchLogs, EpochLogs } from './callbacks.js';
export type { TrainData } from './data.js';
export type { LossName, LossFn, Target } from '../objective/index.js';
export { loadCheckpoint, type Checkpoint } from './checkpoint.js';
