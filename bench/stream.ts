/**
 * Streaming: microseconds per time step of a trained network run one step at a time, batch 1
 * (`net.stepper()`), against what one does without it (`net.apply` on a one-step sequence with
 * the state carried, tensors every step) and PyTorch on one thread (its cell and output layer,
 * state carried, no gradients). Medians of alternated rounds, wall-clock and CPU time.
 */
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { median } from './measure.js';
import type { Kind } from './models.js';
import type { TorchProcess } from './torch.js';

export interface StreamRow {
  backend: string;
  cell: Kind;
  units: number;
  /** Steps per round of each contender. */
  steps: Record<string, number>;
  rounds: number;
  /** Median microseconds per step, by contender (`stepper`, `apply`, `pytorch`): wall-clock and CPU time. */
  us: Record<string, number>;
  cpuUs: Record<string, number>;
}

type Micros = { us: number; cpuUs: number };

/** Microseconds per step of `steps` calls of `step`, wall-clock and CPU time of this process. */
async function perStep(steps: number, step: () => unknown): Promise<Micros> {
  const [start, cpu] = [performance.now(), process.cpuUsage()];
  for (let t = 0; t < steps; t++) await step();
  const used = process.cpuUsage(cpu);
  return { us: ((performance.now() - start) * 1000) / steps, cpuUs: (used.user + used.system) / steps };
}

/** One row: `cell` of `units` units, input 1, output 1, on the current backend. */
export async function streamRow(cell: Kind, units: number, rounds: number, torch?: TorchProcess): Promise<StreamRow> {
  const net = rt.network({ cell, inputSize: 1, units, outputSize: 1, seed: 3 });
  const steps: Record<string, number> = { stepper: 2000, apply: 100, ...(torch && { pytorch: 2000 }) };
  const stepper = net.stepper();
  const x = tf.tensor3d([[[0.5]]]);
  let state = net.apply(x).state;
  const tasks: Record<string, () => Promise<Micros>> = {
    stepper: () => perStep(steps.stepper, () => stepper.step([0.5])),
    apply: () =>
      perStep(steps.apply, async () => {
        const out = net.apply(x, { initialState: state });
        await out.y.data();
        tf.dispose([out.y, ...Object.values(state)]);
        state = out.state;
      }),
    ...(torch && { pytorch: () => torch.stream(cell, { input: 1, units, output: 1 }, steps.pytorch) }),
  };
  const runs: Record<string, Micros[]> = Object.fromEntries(Object.keys(tasks).map((k) => [k, []]));
  for (const task of Object.values(tasks)) await task();
  for (let r = 0; r < rounds; r++) for (const [name, task] of Object.entries(tasks)) runs[name].push(await task());
  stepper.dispose();
  tf.dispose([x, ...Object.values(state)]);
  net.dispose();
  const medians = (key: keyof Micros) =>
    Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v.map((m) => m[key]))]));
  return { backend: tf.getBackend(), cell, units, steps, rounds, us: medians('us'), cpuUs: medians('cpuUs') };
}
