/**
 * The fast paths, registered by cell kind: what `unroll` picks when one is registered for the
 * cell's kind and `fast !== false`. A fast path runs the cell's own equations (from its file in
 * `src/cells/`) on fused weights ({@link FusedLayout}) and, where the cell's activations allow,
 * replaces tfjs's per-step gradient with the hand-derived backward pass of the whole sequence
 * ({@link Backward}, run by `./sequence.ts`). A backend may add its own kernel for a step of the
 * equations ({@link StepKernel}, e.g. `./webgpu.ts`): one dispatch where tf ops take a dozen. The
 * plain path, `cell.step` in a loop, is the reference every fast path is tested against.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellConfig, CellKind, State } from '../cells/cell.js';
import type { FusedLayout, FusedWeights } from './fused.js';

/**
 * A cell kind's hand-derived backward pass, in the form the whole-sequence gradient runs it.
 * Rows are `n = steps * batch`; `hp` are the recurrent halves of the recurrent gates, `xp` the
 * input halves of all gates ({@link FusedLayout}). The caller adds the matMul part of
 * `dL/dh_{t-1}` (`dL/dhp_t W_h`) and forms the weight gradients.
 */
export interface Backward {
  /** The quantities of the equations (`i_t`, `c_t`, …) it needs, kept for every step. */
  keep: readonly string[];
  /**
   * The local derivatives of every step, all steps at once, from the states before each step and
   * the kept quantities, stacked over the steps (`[n, …]` each).
   */
  factors(prev: State, q: Record<string, tf.Tensor2D>): Record<string, tf.Tensor2D>;
  /**
   * One step back: from `g = dL/d state_t` (the part that flows through this step's equations) and
   * this step's factors, `dL/d hp_t` and the elementwise part of `dL/d state_{t-1}`. `W` holds the
   * matrices applied on their own (`W_kh` of the gates outside the per-step matMul), in the
   * document's orientation.
   */
  step(
    g: State,
    f: Record<string, tf.Tensor2D>,
    W: Record<string, tf.Tensor2D>,
  ): { hp: tf.Tensor2D; prev: Partial<State> };
  /** `dL/d xp` of all steps from the stacked `dL/dh_t`, `dL/d hp` and factors, where it is not `dL/d hp` itself. */
  xp?(gh: tf.Tensor2D, hp: tf.Tensor2D, f: Record<string, tf.Tensor2D>): tf.Tensor2D;
  /** `dL/dW_kh` of the matrices applied on their own, from all steps' `dL/d xp` and kept quantities. */
  separate?(dXP: tf.Tensor2D, q: Record<string, tf.Tensor2D>): Record<string, tf.Tensor2D>;
}

/**
 * One step of a cell's equations as a backend's own kernel: the state after step k from the
 * input halves of the whole sequence `XP` (`[T*B, G*U]`, step k's rows from `row0`), this step's
 * recurrent halves `hp` and the state before. It has no gradient of its own: it runs only where
 * tfjs records nothing (inference, or inside the whole-sequence gradient).
 */
export interface StepKernel {
  /** Whether it runs at this batch size (else the step stays tf ops). */
  fits(batch: number): boolean;
  step(XP: tf.Tensor2D, row0: number, hp: tf.Tensor2D, state: State): State;
  /**
   * One step back, as {@link Backward.step} computes it, for a sequence without a mask and a cell
   * without separate gates: from the op's `dL/d[(c_T,) h_1..h_T]` as rows `DY` (step k's from
   * `dyRow0`), the gradient carried from the later steps and the forward's own tensors of step k
   * (`XP` and its rows `row0`, the step's recurrent halves `hp`, the states before and after it):
   * `dL/d hp_t`, `dL/d state_{t-1}` (with `viaW(dL/d hp_t) = dL/d hp_t W_h`, the recurrent
   * matMul's part, added by the kernel that computes the rest of `dL/d h_{t-1}` where there is a
   * rest) and, for a cell where it is not `dL/d hp_t` (one with {@link Backward.xp}), `xp`,
   * `dL/dXP_t`. The forward keeps those tensors per step, so nothing is stacked or computed again
   * for the backward.
   */
  back?(
    DY: tf.Tensor2D,
    dyRow0: number,
    carry: { h: tf.Tensor2D; c?: tf.Tensor2D },
    step: { XP: tf.Tensor2D; row0: number; hp: tf.Tensor2D; before: State; after: State },
    viaW: (hp: tf.Tensor2D) => tf.Tensor2D,
  ): { hp: tf.Tensor2D; xp?: tf.Tensor2D; prev: State };
}

/**
 * A whole sequence as a backend's own kernel: the forward of every step in one call and, while
 * tfjs records gradients, the backward of every step in one more (a `tf.customGrad` giving
 * `dL/dX`, every fused weight's gradient and `dL/d state_0`). `X` is `[T*B, inputSize]`, time-major
 * in processing order, as {@link StepKernel} reads it; `keep` the mask (`[T, B, 1]`, 1 where a
 * step is real) or null; `hs` is every `h_t` (`[T, B, units]`). The fast path uses it for
 * sequences without a recurrent dropout mask.
 */
export interface SequenceKernel {
  /**
   * Whether it runs a sequence of `time` steps of `batch` rows, with a mask or without (else the
   * fast path's tf ops do).
   */
  fits(time: number, batch: number, masked: boolean): boolean;
  run(w: FusedWeights, X: tf.Tensor2D, state0: State, keep: tf.Tensor3D | null): { hs: tf.Tensor3D; state: State };
}

/** A cell kind's fast path for one configuration. */
export interface FastPath {
  layout: FusedLayout;
  /** Undefined where an activation has no derivative through its output (tfjs then derives the gradient). */
  backward?: Backward;
  /** The current backend's kernel for a step, where one is registered for this configuration. */
  stepKernel?: StepKernel;
  /** The current backend's kernel for a whole sequence, where one is registered for this configuration. */
  sequenceKernel?: SequenceKernel;
}

/**
 * A whole sequence of a cell whose state is updated unit by unit (minGRU, minLSTM, IndRNN) as a
 * backend's own kernel: the gates and the recurrence of every step in one call and, while tfjs
 * records gradients, the backward of every step in one more. It reads the cell's own parameters;
 * `X` is `[T*B, inputSize]`, time-major in processing order, `keep` the mask (`[T, B, 1]` in
 * processing order) or null. It returns what `unroll` does: `outputs` batch-major in input order
 * (`[B, T, units]`), so that no transpose follows, and the last state. `unroll` runs it in place
 * of the scan in tf ops (`./scan.ts`) for sequences without a recurrent dropout mask.
 */
export interface ScanKernel {
  /** Whether it runs a sequence of `time` steps of `batch` rows, with a mask or without (else the scan's tf ops do). */
  fits(time: number, batch: number, masked: boolean): boolean;
  run(
    params: Record<string, tf.Tensor>,
    X: tf.Tensor2D,
    state0: State,
    keep: tf.Tensor3D | null,
    reverse: boolean,
  ): { outputs: tf.Tensor3D; state: State };
}

export type FastPathFactory = (config: CellConfig) => FastPath;
/** A backend's step kernel for a configuration of a cell kind, or undefined where it has none (other activations). */
export type StepKernelFactory = (config: CellConfig) => StepKernel | undefined;
/** A backend's whole-sequence kernel for a configuration of a cell kind, or undefined where it has none. */
export type SequenceKernelFactory = (config: CellConfig) => SequenceKernel | undefined;

/** A backend's fused scan for a configuration of a cell kind, or undefined where it has none. */
export type ScanKernelFactory = (config: CellConfig) => ScanKernel | undefined;

const registry = new Map<CellKind, FastPathFactory>();
const stepKernels = new Map<string, StepKernelFactory>();
const sequenceKernels = new Map<string, SequenceKernelFactory>();
const scanKernels = new Map<string, ScanKernelFactory>();

/** Registers (or replaces) the fast path of a cell kind. */
export function registerFastPath(kind: CellKind, factory: FastPathFactory): void {
  registry.set(kind, factory);
}

/** The registered factory of a kind, if any. */
export function fastPathFactory(kind: CellKind): FastPathFactory | undefined {
  return registry.get(kind);
}

/** Registers (or replaces) a backend's step kernel for a cell kind. */
export function registerStepKernel(kind: CellKind, backend: string, factory: StepKernelFactory): void {
  stepKernels.set(`${kind}/${backend}`, factory);
}

/** Registers (or replaces) a backend's whole-sequence kernel for a cell kind. */
export function registerSequenceKernel(kind: CellKind, backend: string, factory: SequenceKernelFactory): void {
  sequenceKernels.set(`${kind}/${backend}`, factory);
}

/** The fast path of a cell configuration on the current backend, or undefined where its kind has none. */
export function fastPathFor(config: CellConfig): FastPath | undefined {
  const path = registry.get(config.kind)?.(config);
  const key = `${config.kind}/${tf.getBackend()}`;
  const stepKernel = stepKernels.get(key)?.(config);
  const sequenceKernel = path && sequenceKernels.get(key)?.(config);
  return path && { ...path, ...(stepKernel && { stepKernel }), ...(sequenceKernel && { sequenceKernel }) };
}

/** Registers (or replaces) a backend's fused scan for a cell kind. */
export function registerScanKernel(kind: CellKind, backend: string, factory: ScanKernelFactory): void {
  scanKernels.set(`${kind}/${backend}`, factory);
}

/** The current backend's fused scan for a cell configuration, or undefined where none is registered for it. */
export function scanKernelFor(config: CellConfig): ScanKernel | undefined {
  return scanKernels.get(`${config.kind}/${tf.getBackend()}`)?.(config);
}
