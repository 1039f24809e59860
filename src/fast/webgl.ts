/**
 * The step kernels of `./step-equations.ts` as WebGL programs (GLSL). tfjs's WebGL backend keeps
 * most tensors packed (2×2 entries per texel: matMul and elementwise outputs are), and a program
 * that reads unpacked inputs makes it unpack each input first, every call: for the whole
 * sequence's projection `XP`, read at every step, that is a copy of the sequence per step. So the
 * programs read and write packed textures: `getXP(r, c)` gives the texel holding entry (r, c),
 * `getChannel` picks the entry, and a fragment computes the 2×2 block of outputs it writes. tfjs
 * compiles a program once per shader source and input shapes; the rows of the step (which change
 * from step to step) are uniforms.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGLBackend } from './kernels.js';
import { ACCESSORS, STEP_KERNELS, type StepAttrs, type StepInput, type StepKernelName } from './step-equations.js';

/** The GLSL accessor of one input (see the table in `./step-equations.ts`). */
function accessor(input: StepInput): string {
  const { name, arg, row, col } = ACCESSORS[input];
  const r = { step: 'rtRow0 + bRow', dy: 'rtDyRow0 + bRow', batch: 'bRow' }[row];
  const c = { gate: 'k * u + colJ', j: 'colJ', col: 'col' }[col];
  return (
    `float ${name}(${arg ? 'int k' : ''}) ` +
    `{ int r_ = ${r}; int c_ = ${c}; return getChannel(get${input}(r_, c_), vec2(r_, c_)); }`
  );
}

/** The program of one kernel with output `[batch, width]`. */
function program(name: StepKernelName, batch: number, width: number, units: number) {
  const { reads, value } = STEP_KERNELS[name];
  return {
    variableNames: [...reads],
    outputShape: [batch, width],
    packedInputs: true,
    packedOutput: true,
    customUniforms: [
      { name: 'rtRow0', type: 'int' as const },
      { name: 'rtDyRow0', type: 'int' as const },
    ],
    userCode: `
      int bRow;
      int col;
      int colJ;
      const int u = ${units};
      const int batchN = ${batch};
      const int widthN = ${width};
      float sigmoid_(float a) { return 1.0 / (1.0 + exp(-a)); }
      float tanh_(float a) {
        float e = exp(-2.0 * abs(a));
        return sign(a) * (1.0 - e) / (1.0 + e);
      }
      float pick(bool c, float t, float f) { return c ? t : f; }
      float gru(float z, float r, float xn, float hn, float h) {
        float n = tanh_(xn + r * hn);
        return n + z * (h - n);
      }
      ${reads.map(accessor).join('\n      ')}
      float entry(int b_, int c_) {
        bRow = b_;
        col = c_;
        colJ = col - (col / u) * u;
        return ${value};
      }
      void main() {
        ivec2 rc = getOutputCoords();
        vec4 block = vec4(0.0);
        block.r = entry(rc.x, rc.y);
        if (rc.y + 1 < widthN) block.g = entry(rc.x, rc.y + 1);
        if (rc.x + 1 < batchN) {
          block.b = entry(rc.x + 1, rc.y);
          if (rc.y + 1 < widthN) block.a = entry(rc.x + 1, rc.y + 1);
        }
        setOutput(block);
      }`,
  };
}

/** The WebGL kernel function of every step kernel. */
export const webglStep: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { name, row0, dyRow0, width, batch, units } = attrs as unknown as StepAttrs;
  const reads = STEP_KERNELS[name].reads.map((v) => inputs[v] as tf.TensorInfo);
  return (backend as WebGLBackend).runWebGLProgram(program(name, batch, width, units), reads, 'float32', [
    [row0],
    [dyRow0],
  ]);
};
