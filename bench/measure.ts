/**
 * Measuring: medians of alternated runs, kernel counts and peak memory (`tf.profile`'s, and our kernels' own).
 *
 * The machine this runs on is shared, so one contender is never timed in a block: every round
 * runs each contender once, in turn, and the reported number is the median over rounds.
 */
import * as tf from '@tensorflow/tfjs';
import { arenaPeakBytes, resetArenaPeak } from '../src/fast/wasm/module.js';

/** Something to time: one call is one training step or one forward pass. */
export type Task = () => unknown | Promise<unknown>;

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Milliseconds of each run by task name: wall-clock time, and CPU time of this process. */
export interface Runs {
  wall: Record<string, number[]>;
  cpu: Record<string, number[]>;
}

/**
 * Runs every task once to warm it up, then `rounds` rounds of every task in turn. CPU time (user
 * plus system, this process) is kept beside wall-clock time: on a shared machine it is the less
 * disturbed of the two. With `steady`, each turn runs its task once untimed before the timed run:
 * the time is then that of a step after a step of the same kind, as in a training loop, rather
 * than after another contender's (whose garbage, collected on V8's threads meanwhile, counts in
 * the CPU time of whatever runs next).
 */
export async function alternate(tasks: Record<string, Task>, rounds: number, steady = false): Promise<Runs> {
  const names = Object.keys(tasks);
  const runs: Runs = {
    wall: Object.fromEntries(names.map((k) => [k, []])),
    cpu: Object.fromEntries(names.map((k) => [k, []])),
  };
  for (const task of Object.values(tasks)) await task();
  for (let r = 0; r < rounds; r++) {
    for (const [name, task] of Object.entries(tasks)) {
      if (steady) await task();
      const [start, cpu] = [performance.now(), cpuMs()];
      await task();
      runs.wall[name].push(performance.now() - start);
      runs.cpu[name].push(cpuMs() - cpu);
    }
  }
  return runs;
}

/** CPU time of this process so far in ms (Node), or NaN (a browser page has no such clock). */
function cpuMs(): number {
  const usage = (
    globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }
  ).process?.cpuUsage?.();
  return usage ? (usage.user + usage.system) / 1000 : NaN;
}

/** What one run of a task costs in kernels and memory. */
export interface Profile {
  /** Kernels tfjs dispatched (nested ones included). */
  kernels: number;
  /**
   * The highest memory during the run above what was allocated before it, in bytes: tfjs's tensors,
   * plus the arrays our WebAssembly kernels hold in their own module's memory (outside tfjs's count).
   */
  peakBytes: number;
  /** Tensors left behind by the run (should be 0). */
  newTensors: number;
}

/** Profiles one run of `task`. */
export async function profile(task: Task): Promise<Profile> {
  const before = tf.memory().numBytes;
  resetArenaPeak();
  const info = await tf.profile(async () => {
    await task();
  });
  const peakBytes = info.peakBytes - before + arenaPeakBytes();
  return { kernels: info.kernels.length, peakBytes, newTensors: info.newTensors };
}
