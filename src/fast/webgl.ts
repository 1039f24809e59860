/**
 * The step kernels of `./step-equations.ts` as WebGL programs (GLSL). tfjs's WebGL backend keeps
 * most tensors packed (2×2 entries per texel: matMul and elementwise outputs are), and a program
 * that reads unpacked inputs makes it unpack each input first, every call: for the whole
 * sequence's projection `XP`, read at every step, that is a copy of the sequence per step. So the
 * programs read and write packed textures, and a fragment computes the 2×2 block of outputs it
 * writes. Where the batch and the units are even, every input's 2×2 block under an output block is
 * one texel (step k's rows start at `k·batch`, gate k's columns at `k·units`), so the equations
 * run on whole texels (`vec4`): one read per input and gate for four entries. Otherwise each entry
 * reads its texels and picks its channel (`getChannel`). tfjs compiles a program once per shader
 * source and input shapes; the rows of the step (which change from step to step) are uniforms.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGLBackend } from './kernels.js';
import { ACCESSORS, STEP_KERNELS, type StepAttrs, type StepInput, type StepKernelName } from './step-equations.js';

/**
 * The GLSL accessor of one input (see the table in `./step-equations.ts`): its entry (`float`), or
 * with `texels` the texel whose 2×2 block starts there (`vec4`).
 */
function accessor(input: StepInput, texels: boolean): string {
  const { name, arg, row, col } = ACCESSORS[input];
  const r = { step: 'rtRow0 + bRow', dy: 'rtDyRow0 + bRow', batch: 'bRow' }[row];
  const c = { gate: 'k * u + colJ', j: 'colJ', col: 'col' }[col];
  const value = texels ? `get${input}(r_, c_)` : `getChannel(get${input}(r_, c_), vec2(r_, c_))`;
  return `${texels ? 'vec4' : 'float'} ${name}(${arg ? 'int k' : ''}) { int r_ = ${r}; int c_ = ${c}; return ${value}; }`;
}

/** The equations' functions for values of type `T` (`float` or `vec4`). */
function functions(T: string): string {
  return `
      ${T} sigmoid_(${T} a) { return 1.0 / (1.0 + exp(-a)); }
      ${T} tanh_(${T} a) {
        ${T} e = exp(-2.0 * abs(a));
        return sign(a) * (1.0 - e) / (1.0 + e);
      }
      ${T} gru(${T} z, ${T} r, ${T} xn, ${T} hn, ${T} h) {
        ${T} n = tanh_(xn + r * hn);
        return n + z * (h - n);
      }
      ${T} gruGateGrad(int gate, bool recurrent, ${T} az, ${T} ar, ${T} xn, ${T} hn, ${T} h, ${T} hb) {
        ${T} z = sigmoid_(az);
        ${T} r = sigmoid_(ar);
        ${T} n = tanh_(xn + r * hn);
        if (gate == 0) return hb * (h - n) * z * (1.0 - z);
        ${T} dn = hb * (1.0 - z) * (1.0 - n * n);
        if (gate == 1) return dn * hn * r * (1.0 - r);
        return recurrent ? dn * r : dn;
      }
      ${T} lstmPrevC(${T} af, ${T} ao, ${T} c, ${T} hb, ${T} cc) {
        ${T} o = sigmoid_(ao);
        ${T} tc = tanh_(c);
        return (cc + hb * o * (1.0 - tc * tc)) * sigmoid_(af);
      }`;
}

/**
 * The helpers that read the accessors themselves, for type `T`: emitted after the accessors, and
 * only in a kernel whose value calls them (the others lack some accessors).
 */
function readingHelpers(T: string, value: string): string {
  if (!value.includes('lstmBackGate')) return '';
  return `
      ${T} lstmBackGate(int gate) {
        ${T} hb = dy() + ch();
        ${T} tc = tanh_(s());
        ${T} o = sigmoid_(xp(3) + hp(3));
        if (gate == 3) return hb * tc * o * (1.0 - o);
        ${T} cb = cc() + hb * o * (1.0 - tc * tc);
        if (gate == 1) {
          ${T} f = sigmoid_(xp(1) + hp(1));
          return cb * sp() * f * (1.0 - f);
        }
        ${T} i = sigmoid_(xp(0) + hp(0));
        ${T} g = tanh_(xp(2) + hp(2));
        if (gate == 0) return cb * g * i * (1.0 - i);
        return cb * i * (1.0 - g * g);
      }`;
}

/** The program of one kernel with output `[batch, width]`. */
function program(name: StepKernelName, batch: number, width: number, units: number) {
  const { reads, value } = STEP_KERNELS[name];
  const texels = batch % 2 === 0 && units % 2 === 0;
  const main = texels
    ? `
      void main() {
        ivec2 rc = getOutputCoords();
        setOutput(entry(rc.x, rc.y));
      }`
    : `
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
      }`;
  const T = texels ? 'vec4' : 'float';
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
      const int widthN = ${width};${functions(T)}
      ${reads.map((input) => accessor(input, texels)).join('\n      ')}${readingHelpers(T, value)}
      ${T} entry(int b_, int c_) {
        bRow = b_;
        col = c_;
        colJ = col - (col / u) * u;
        return ${value};
      }${main}`,
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
