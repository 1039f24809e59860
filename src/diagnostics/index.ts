/**
 * Diagnostics of backpropagation through time: how the gradient reaches back over the steps
 * (`gradientNorms`), whether a gradient is right (`gradientCheck`), and the backward pass
 * derived by hand from the equations (`manualBPTT`).
 */
export { gradientNorms, type GradientNorms, type GradientNormsOptions } from './gradient-norms.js';
export {
  gradientCheck,
  type GradientCheckOptions,
  type GradientCheckResult,
  type GradientCheckEntry,
} from './gradient-check.js';
export { manualBPTT, type ManualBpttOptions } from './manual-bptt.js';
