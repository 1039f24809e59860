/**
 * The step kernels of `./step-equations.ts` as WebGL programs (GLSL), one fragment per output
 * entry. tfjs's WebGL backend gives each input a getter by (row, column), `getXP(r, c)`, and
 * compiles a program once per shader source and input shapes; the sizes that change from step to
 * step (the rows of the step) are uniforms.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGLBackend } from './kernels.js';
import { ACCESSORS, STEP_KERNELS, type StepAttrs, type StepInput, type StepKernelName } from './step-equations.js';

/** The GLSL accessor of one input (see the table in `./step-equations.ts`). */
function accessor(input: StepInput): string {
  const { name, arg, row, col } = ACCESSORS[input];
  const r = { step: 'rtRow0 + bRow', dy: 'rtDyRow0 + bRow', batch: 'bRow' }[row];
  const c = { gate: 'k * u + colJ', j: 'colJ', col: 'col' }[col];
  return `float ${name}(${arg ? 'int k' : ''}) { return get${input}(${r}, ${c}); }`;
}

/** The program of one kernel with output `[batch, width]`. */
function program(name: StepKernelName, batch: number, width: number, units: number) {
  const { reads, value } = STEP_KERNELS[name];
  return {
    variableNames: [...reads],
    outputShape: [batch, width],
    customUniforms: [
      { name: 'rtRow0', type: 'int' as const },
      { name: 'rtDyRow0', type: 'int' as const },
    ],
    userCode: `
      int bRow;
      int col;
      int colJ;
      const int u = ${units};
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
      void main() {
        ivec2 coords = getOutputCoords();
        bRow = coords.x;
        col = coords.y;
        colJ = col - (col / u) * u;
        setOutput(${value});
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
