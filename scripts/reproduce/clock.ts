/**
 * The training clock of the reproductions: training time measured both as wall time and as the
 * process's CPU time (user + system, `process.cpuUsage()`), so that a budget holds on a shared
 * machine. Evaluations run with the clock paused and are not counted. And the learning-rate
 * schedule that runs along it.
 */

/** Seconds of wall and CPU time counted while the clock runs. */
export interface Elapsed {
  wall: number;
  cpu: number;
}

/** A pausable clock of wall and CPU seconds; it starts running. */
export class TrainingClock {
  private counted: Elapsed = { wall: 0, cpu: 0 };
  private since: Elapsed | null = now();

  /** The seconds counted so far (the running stretch included). */
  get elapsed(): Elapsed {
    if (!this.since) return { ...this.counted };
    const t = now();
    return { wall: this.counted.wall + t.wall - this.since.wall, cpu: this.counted.cpu + t.cpu - this.since.cpu };
  }

  /** Stops counting (an evaluation follows). */
  pause(): void {
    this.counted = this.elapsed;
    this.since = null;
  }

  resume(): void {
    this.since ??= now();
  }

  /**
   * Whether `seconds` of training are spent, by the clock `by`: `'cpu'` (the process's CPU time,
   * steady on a shared machine) or `'wall'`.
   */
  spent(seconds: number, by: 'cpu' | 'wall'): boolean {
    return this.elapsed[by] >= seconds;
  }
}

function now(): Elapsed {
  const { user, system } = process.cpuUsage();
  return { wall: performance.now() / 1000, cpu: (user + system) / 1e6 };
}

/**
 * The learning rate at the share `done` (0 to 1) of the budget: a linear warm-up over the first
 * `warmup` of it, then a cosine from `rate` down to `rate * floor` at the end.
 */
export function cosineRate(rate: number, done: number, { floor = 0.1, warmup = 0 } = {}): number {
  const d = Math.min(1, Math.max(0, done));
  if (d < warmup) return (rate * (d + 1e-3)) / warmup;
  const p = warmup < 1 ? (d - warmup) / (1 - warmup) : 1;
  return rate * (floor + ((1 - floor) / 2) * (1 + Math.cos(Math.PI * p)));
}
