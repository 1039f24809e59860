/**
 * The fast paths of the built-in cells, registered by kind, and what `unroll` calls to run one.
 * Backend-specific kernels (`./matmul.ts` for cpu, `./split.ts` for cpu and wasm) register
 * themselves with tfjs on first use and fall back to tfjs's ops on other backends; the
 * whole-sequence kernels run a sequence in one call on cpu and wasm (`./wasm/`) and on webgpu
 * (`./webgpu-sequence.ts`).
 */
import { elmanFastPath } from './elman.js';
import { gruFastPath } from './gru.js';
import { lstmFastPath } from './lstm.js';
import { registerFastPath, registerScanKernel, registerSequenceKernel, registerStepKernel } from './registry.js';
import { wasmSequenceKernel } from './wasm/kernel.js';
import { wasmScanKernel } from './wasm/scan-kernel.js';
import { gpuStepKernel } from './step-kernels.js';
import { webgpuSequenceKernel } from './webgpu-sequence.js';

registerFastPath('elman', elmanFastPath);
registerFastPath('lstm', lstmFastPath);
registerFastPath('gru', gruFastPath);
for (const kind of ['elman', 'lstm', 'gru'] as const) {
  for (const backend of ['webgpu', 'webgl']) registerStepKernel(kind, backend, gpuStepKernel);
  for (const backend of ['cpu', 'wasm']) registerSequenceKernel(kind, backend, wasmSequenceKernel);
  registerSequenceKernel(kind, 'webgpu', webgpuSequenceKernel);
}
for (const kind of ['mingru', 'minlstm', 'indrnn'] as const) {
  for (const backend of ['cpu', 'wasm']) registerScanKernel(kind, backend, wasmScanKernel);
}

export {
  fastPathFor,
  fastPathFactory,
  registerFastPath,
  registerScanKernel,
  registerSequenceKernel,
  registerStepKernel,
  type Backward,
  type FastPath,
  type ScanKernel,
  type SequenceKernel,
  type StepKernel,
} from './registry.js';
export { runFast, type Loop } from './sequence.js';
export { unstack } from './split.js';
