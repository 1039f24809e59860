/**
 * What is optimised, shared by `train/` and `diagnostics/`: the loss over the selected
 * predictions (`loss.ts`) and the model seen as trainable variables plus a forward pass
 * (`trainable.ts`), for a RecurrentNetwork and for any tf.LayersModel.
 */
export {
  LOSS_NAMES,
  TARGETS,
  checkLoss,
  lossFunction,
  resolveTarget,
  selectTarget,
  targetShape,
  checkLabels,
  labelKind,
  type LossName,
  type LossFn,
  type Target,
} from './loss.js';
export { asTrainable, checkExample, exampleValues, type Trainable } from './trainable.js';
