/**
 * Parts of one job run by the threads that share this module's memory: the calling thread runs
 * part 0 and each helper thread `p` (an instance of the same module in a worker, in
 * {@link serve}) part `p`. Built with WebAssembly threads (the `_THREADS` builds of
 * `npm run build:wasm`, their memory imported and shared); in the other builds every job runs
 * whole on the calling thread.
 *
 * The handshake, one word per helper in the control block at {@link scratch}: the caller posts
 * job `g` as `2g`; whoever turns it into `2g + 1` first (compare-exchange) runs the part, the
 * helper or, once its own part is done, the caller itself, so that the caller never waits for a
 * helper the system has not scheduled; the one who ran it writes `g` into the part's done word.
 * A helper spins on its word for a while after a job (the next product of a sequence comes
 * within microseconds), then sleeps in `memory.atomic.wait32` until the caller's notify. A job
 * is a function of `(p, P)` (a function reference, the same in every instance of the module)
 * and what its caller wrote at {@link job}; its parts take blocks of the work one at a time
 * ({@link claim}) until none is left, so that a thread that runs slower (here the helper ran
 * the same product about a quarter slower than the caller) takes fewer.
 */

/** The most threads a job is split over. */
export const MAX_PARTS: i32 = ASC_FEATURE_THREADS ? 4 : 1;

/** The control block: posted words, done words, the pool's words, then a job's arguments. */
const POSTED: usize = 0;
const DONE: usize = 32;
const RUN: usize = 64;
const PARTS: usize = 68;
const ROW_RUN: usize = 72;
const ROWS: usize = 76;
const SERVED: usize = 80;
const NEXT: usize = 84;
const BLOCK: usize = 88;
const JOB: usize = 128;
const CONTROL_BYTES: usize = 384;
/** Spins of a helper on its word before it sleeps (about a millisecond). */
const SPINS = 1 << 20;

/** Threads jobs are split over: 1 until the caller's helpers are running ({@link setParts}). */
let parts: i32 = 1;
/** Whether this thread is running a part: jobs within a part run whole. */
let busy = false;
/** This thread's number: 0 on the caller, `p` on the helper serving parts `p` ({@link serve}). */
let self: i32 = 0;

/** The start of what this module keeps past `__heap_base`: the control block, then its callers' scratch. */
function scratch(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

/** Where the module's own scratch past the control block ends, with `extra` bytes of it. */
export function scratchEnd(extra: usize): usize {
  return scratch() + CONTROL_BYTES + extra;
}

/** Where a job's arguments go (256 bytes). */
export function job(): usize {
  return scratch() + JOB;
}

/** Sets how many threads the calling thread's jobs are split over (itself and `n - 1` helpers). */
export function setParts(n: i32): void {
  parts = min(max(n, 1), MAX_PARTS);
}

/**
 * The number of the thread running (0 for the caller, 1 to {@link MAX_PARTS} - 1 for helpers):
 * the index of its own scratch in a job.
 */
export function thread(): i32 {
  return self;
}

/** How many parts a job of `work` multiply-adds splits into: one below `least`, or within a part. */
export function partsFor(work: f64, least: f64): i32 {
  return ASC_FEATURE_THREADS && !busy && work >= least ? parts : 1;
}

function posted(p: i32): usize {
  return scratch() + POSTED + ((<usize>p) << 2);
}

function done(p: i32): usize {
  return scratch() + DONE + ((<usize>p) << 2);
}

/** How many parts the helpers have run (a helper adds one after each). */
export function served(): i32 {
  return ASC_FEATURE_THREADS ? atomic.load<i32>(scratch() + SERVED) : 0;
}

/**
 * Runs `run(p, P)` for every part `p < P`, part 0 on this thread; returns when all are done.
 * What `run` reads ({@link job}) is written before.
 */
export function runParts(P: i32, run: (p: i32, P: i32) => void): void {
  if (!ASC_FEATURE_THREADS || P == 1) {
    run(0, 1);
    return;
  }
  busy = true;
  store<i32>(scratch() + NEXT, 0);
  store<usize>(scratch() + RUN, changetype<usize>(run));
  store<i32>(scratch() + PARTS, P);
  const g = (atomic.load<i32>(posted(1)) >> 1) + 1;
  for (let p = 1; p < P; p++) {
    atomic.store<i32>(posted(p), g << 1);
    atomic.notify(posted(p), 1);
  }
  run(0, P);
  for (let p = 1; p < P; p++) {
    if (atomic.cmpxchg<i32>(posted(p), g << 1, (g << 1) | 1) == g << 1) {
      run(p, P);
      atomic.store<i32>(done(p), g);
    }
  }
  for (let p = 1; p < P; p++) while (atomic.load<i32>(done(p)) != g);
  busy = false;
}

/** The next block of the running job for this thread to take (blocks count from 0). */
export function claim(): i32 {
  if (!ASC_FEATURE_THREADS) return 0;
  return atomic.add<i32>(scratch() + NEXT, 1);
}

/** Rows of a block of {@link overRows} unless its caller says. */
const ROW_BLOCK = 4;

/**
 * Runs `run(r0, r1)` over the rows `[0, B)` of a job of `work` multiply-adds: whole on this
 * thread, or in blocks of `block` rows taken by the threads (two blocks at least).
 */
export function overRows(B: i32, work: f64, least: f64, run: (r0: i32, r1: i32) => void, block: i32 = ROW_BLOCK): void {
  const P = min(partsFor(work, least), B / block);
  if (P <= 1) {
    run(0, B);
    return;
  }
  store<usize>(scratch() + ROW_RUN, changetype<usize>(run));
  store<i32>(scratch() + ROWS, B);
  store<i32>(scratch() + BLOCK, block);
  runParts(P, rowsPart);
}

/** A thread's part of {@link overRows}'s job: blocks of rows while there are. */
function rowsPart(_p: i32, _P: i32): void {
  const run = changetype<(r0: i32, r1: i32) => void>(load<usize>(scratch() + ROW_RUN));
  const B = load<i32>(scratch() + ROWS);
  const block = load<i32>(scratch() + BLOCK);
  for (let r0 = claim() * block; r0 < B; r0 = claim() * block) run(r0, min(r0 + block, B));
}

/**
 * A helper's loop, for good: waits for part `p` of each job and runs it. The thread ends when
 * its worker is terminated.
 */
export function serve(p: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  self = p;
  const word = posted(p);
  // Wait for a change of the word as it is now: no job is open while a helper starts, and the
  // word's first value (0) is even but no job.
  let last = atomic.load<i32>(word);
  while (true) {
    let s = atomic.load<i32>(word);
    for (let spins = 0; s == last; s = atomic.load<i32>(word)) {
      if (++spins < SPINS) continue;
      memory.atomic.wait32(word, s, -1);
      spins = 0;
    }
    last = s | 1;
    if ((s & 1) == 0 && atomic.cmpxchg<i32>(word, s, s | 1) == s) {
      const run = changetype<(p: i32, P: i32) => void>(load<usize>(scratch() + RUN));
      run(p, load<i32>(scratch() + PARTS));
      atomic.add<i32>(scratch() + SERVED, 1);
      atomic.store<i32>(done(p), s >> 1);
    }
  }
}
