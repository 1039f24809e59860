/**
 * The step of a cell written as a linear recurrence ({@link LinearForm}): `s_t = a_t ⊙ s_{t-1} + b_t`,
 * then `h_t` (the state itself, or the cell's read-out of it). The same form drives the scan over
 * a whole sequence (`src/fast/scan.ts`); the arithmetic of complex values stored as `[Re, Im]`
 * halves of the last axis is here too.
 */
import * as tf from '@tensorflow/tfjs';
import type { Equations, LinearForm } from './cell.js';

/** `[Re, Im]` halves of the last axis. */
export function complexParts(v: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const [re, im] = tf.split(v, 2, v.rank - 1);
  return [re, im];
}

/** `(a_re + i a_im)(b_re + i b_im)`, each part elementwise (broadcasting). */
export function complexMul(a: [tf.Tensor, tf.Tensor], b: [tf.Tensor, tf.Tensor]): [tf.Tensor, tf.Tensor] {
  return [tf.sub(tf.mul(a[0], b[0]), tf.mul(a[1], b[1])), tf.add(tf.mul(a[0], b[1]), tf.mul(a[1], b[0]))];
}

/** `a ⊙ s`, complex where the form is (each as `[Re, Im]` halves). */
export function linearMul(form: Pick<LinearForm, 'complex'>, a: tf.Tensor, s: tf.Tensor): tf.Tensor {
  if (!form.complex) return tf.mul(a, s);
  const [re, im] = complexMul(complexParts(a), complexParts(s));
  return tf.concat([re, im], re.rank - 1);
}

/** The equations of one step of a linear form: quantities `a_t`, `b_t`, the new state. */
export function linearEquations(form: LinearForm): Equations {
  return (terms, state) => {
    const { a, b } = form.coefficients(terms);
    const s_t = tf.add(linearMul(form, a, state[form.state]!), b) as tf.Tensor2D;
    const h_t = form.output ? form.output(s_t, terms) : s_t;
    const q = { a_t: a as tf.Tensor2D, b_t: b, h_t };
    return form.state === 'c' ? { ...q, c_t: s_t } : q;
  };
}

/** `W_kx: [units, inputSize]` and `b_k: [units]` for each gate `k`: gates that read only `x_t`. */
export function inputGateShapes(
  gates: readonly string[],
  { inputSize, units }: { inputSize: number; units: number },
): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const k of gates) shapes.set(`W_${k}x`, [units, inputSize]).set(`b_${k}`, [units]);
  return shapes;
}
