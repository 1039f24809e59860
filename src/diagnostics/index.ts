/**
 * Diagnostics of backpropagation through time: how the gradient reaches back over the steps
 * (`gradientNorms`), whether a gradient is right (`gradientCheck`), and the backward pass
 * derived by hand from the equations (`manualBPTT`). `gradientNorms` and `gradientCheck` return
 * their numbers at once and so run on cpu, wasm and tfjs-node; their `...Async` twins read with
 * `await data()` and run on every backend, webgpu and webgl included.
 */
export { gradientNorms, gradientNormsAsync, type GradientNorms, type GradientNormsOptions } from './gradient-norms.js';
export {
  gradientCheck,
  gradientCheckAsync,
  type GradientCheckOptions,
  type GradientCheckResult,
  type GradientCheckEntry,
} from './gradient-check.js';
export { manualBPTT, type ManualBpttOptions } from './manual-bptt.js';
