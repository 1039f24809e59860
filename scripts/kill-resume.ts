/**
 * Kill test of checkpointing: trains a real network in a child process with
 * `rt.train(..., { checkpoint: { path, every: 1 }, resume: true })`, kills it with SIGKILL after a
 * few epochs and then again at random (seeded) moments, and after every kill checks that the
 * checkpoint loads with `rt.loadNetwork` and never goes back. A last run resumes and finishes; it
 * must report where it resumed (`history.resumedFromEpoch`) and end with exactly the weights and
 * losses of an uninterrupted run with the same seed. Prints a summary; exits 1 on any failure.
 *
 *     npx tsx scripts/kill-resume.ts [--kills 6] [--seed 1] [--epochs 40] [--optimizer adam] [--rows 256]
 *                                    [--no-reference] [--json] [--keep]
 *
 * `--kills N`: kills after the first one (default 6). `--keep`: leave the temporary directory.
 * The same file is the child (`child <path> <setup JSON>`), so the trainer runs as a user's
 * program would: its own process, its own file system writes, killed without warning.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { addingProblem } from '../src/data/adding.js';
import { prng } from '../src/init.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');

/** What a child prints, one JSON object per line on stdout. */
type Event =
  | { event: 'ready' }
  | { event: 'epoch'; epoch: number; loss: number }
  | { event: 'done'; resumedFromEpoch: number | undefined; epochs: number; loss: number[] };

// ---------------------------------------------------------------------------------------------
// The child: a plain training program with checkpoints and resume.

interface Setup {
  epochs: number;
  seed: number;
  optimizer: 'adam' | 'sgd' | 'rmsprop' | 'adagrad';
  /** Training sequences (batches of 32). */
  rows: number;
}

async function child(path: string, setup: Setup): Promise<void> {
  const { epochs, seed, optimizer, rows } = setup;
  const emit = (e: Event) => process.stdout.write(`${JSON.stringify(e)}\n`);
  const { x, y } = addingProblem({ batch: rows, time: 20, seed: 11 });
  const net = rt.network({ cell: 'lstm', inputSize: 2, units: 16, outputSize: 1, seed: 12 });
  emit({ event: 'ready' });
  const history = await rt.train(
    net,
    { x, y },
    {
      loss: 'mse',
      target: 'lastStep',
      optimizer,
      learningRate: 0.01,
      epochs,
      batchSize: 32,
      seed,
      checkpoint: { path, every: 1 },
      resume: true,
      progress: false,
      callbacks: {
        onEpochEnd: (epoch, logs) => {
          emit({ event: 'epoch', epoch, loss: logs.loss });
        },
      },
    },
  );
  emit({
    event: 'done',
    resumedFromEpoch: history.resumedFromEpoch,
    epochs: history.epoch.length,
    loss: history.history.loss,
  });
}

// ---------------------------------------------------------------------------------------------
// The parent: runs children, kills them, checks the checkpoint after every kill.

interface Run {
  proc: ChildProcess;
  events: Event[];
  /** ms since spawn at which `ready` came, or null. */
  readyAt: number | null;
  startedAt: number;
  /** ms since spawn at which each `epoch` event came. */
  epochAt: number[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  /** Resolves when an event satisfying the predicate arrives (or the child exits). */
  until(pred: (e: Event) => boolean): Promise<Event | null>;
}

function startChild(path: string, setup: Setup): Run {
  const proc = spawn(process.execPath, ['--import', 'tsx', SELF, 'child', path, JSON.stringify(setup)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Event[] = [];
  const waiters: { pred: (e: Event) => boolean; resolve: (e: Event | null) => void }[] = [];
  let err = '';
  let buffer = '';
  const run: Run = {
    proc,
    events,
    readyAt: null,
    startedAt: Date.now(),
    epochAt: [],
    exit: new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal }))),
    stderr: () => err,
    until(pred) {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(null);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
  proc.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  proc.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as Event;
      if (e.event === 'ready') run.readyAt = Date.now() - run.startedAt;
      if (e.event === 'epoch') run.epochAt.push(Date.now() - run.startedAt);
      events.push(e);
      for (const w of waiters.splice(0)) {
        if (w.pred(e)) w.resolve(e);
        else waiters.push(w);
      }
    }
  });
  void run.exit.then(() => waiters.splice(0).forEach((w) => w.resolve(null)));
  return run;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface KillRecord {
  kill: number;
  /** ms after the child said `ready` (negative: before it was ready). */
  atMs: number;
  /** The last epoch (1-based count) the child reported finished before it died. */
  reportedEpochs: number;
  /** Epochs done according to the checkpoint found after the kill. */
  checkpointEpochs: number | null;
  /** Where the checkpoint was found: the path itself, or `.previous` (a kill mid-swap). */
  foundAt: 'path' | 'previous' | 'none';
  /** `PATH.partial-*` directories the kill left behind (the next write removes them). */
  partials: number;
  ok: boolean;
  problem?: string;
}

/** Checks the checkpoint at `path` after a kill; `floor` is the fewest epochs it may hold. */
async function checkAfterKill(
  path: string,
  floor: number,
): Promise<Omit<KillRecord, 'kill' | 'atMs' | 'reportedEpochs'>> {
  const partials = readdirSync(dirname(path)).filter((n) => n.startsWith(`${basename(path)}.partial-`)).length;
  const foundAt = existsSync(path) ? 'path' : existsSync(`${path}.previous`) ? 'previous' : 'none';
  if (foundAt === 'none') {
    return floor === 0
      ? { checkpointEpochs: null, foundAt, partials, ok: true }
      : { checkpointEpochs: null, foundAt, partials, ok: false, problem: `no checkpoint, expected >= ${floor} epochs` };
  }
  const dir = foundAt === 'path' ? path : `${path}.previous`;
  try {
    // What a user would do: load the network from the directory.
    const net = await rt.loadNetwork(`file://${dir}`);
    const finite = Object.values(net.params).every((v) => tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0] === 1));
    net.dispose();
    // And what the trainer reads to resume.
    const saved = await rt.loadCheckpoint(path);
    saved.network.dispose();
    const problems = [
      !finite && 'non-finite weights',
      saved.epochsDone < floor &&
        `the checkpoint holds ${saved.epochsDone} epochs, fewer than the ${floor} reported done`,
      saved.directory !== resolve(dir) && `loadCheckpoint read ${saved.directory}, loadNetwork ${dir}`,
    ].filter(Boolean);
    return {
      checkpointEpochs: saved.epochsDone,
      foundAt,
      partials,
      ok: problems.length === 0,
      ...(problems.length ? { problem: problems.join('; ') } : {}),
    };
  } catch (err) {
    return { checkpointEpochs: null, foundAt, partials, ok: false, problem: (err as Error).message };
  }
}

/** Epochs a run reported finished (the trainer reports an epoch after writing its checkpoint). */
function reported(run: Run, before: number): number {
  const epochs = run.events.filter((e): e is Extract<Event, { event: 'epoch' }> => e.event === 'epoch');
  return epochs.length ? epochs[epochs.length - 1].epoch + 1 : before;
}

interface Summary {
  ok: boolean;
  seed: number;
  epochs: number;
  kills: KillRecord[];
  final: { resumedFromEpoch: number | undefined; expectedResume: number; epochs: number; ok: boolean } | null;
  exact: { sameWeights: boolean; sameLosses: boolean } | null;
  leftovers: string[];
  problems: string[];
}

async function parent(options: Setup & { kills: number; keep: boolean; reference: boolean }): Promise<Summary> {
  const { kills, seed, epochs, optimizer, rows } = options;
  const setup: Setup = { epochs, seed, optimizer, rows };
  const base = mkdtempSync(join(tmpdir(), 'rt-kill-resume-'));
  const path = join(base, 'ckpt');
  const referencePath = join(base, 'reference');
  const rand = prng(seed);
  const problems: string[] = [];
  const records: KillRecord[] = [];
  const summary: Summary = {
    ok: false,
    seed,
    epochs,
    kills: records,
    final: null,
    exact: null,
    leftovers: [],
    problems,
  };
  try {
    // 1. An uninterrupted reference run, to compare the resumed run's result with.
    let refDone: Extract<Event, { event: 'done' }> | undefined;
    if (options.reference) {
      const ref = startChild(referencePath, setup);
      const refExit = await ref.exit;
      refDone = ref.events.find((e): e is Extract<Event, { event: 'done' }> => e.event === 'done');
      if (refExit.code !== 0 || !refDone)
        throw new Error(`the reference run failed (${refExit.code}): ${ref.stderr()}`);
      log(`reference run: ${epochs} epochs uninterrupted`);
    }

    // 2. Kill after a few epochs, then `kills` more times at random moments.
    let floor = 0;
    let epochMs = 0;
    for (let k = 0; k <= kills; k++) {
      const run = startChild(path, setup);
      let atMs: number;
      if (k === 0) {
        await run.until((e) => e.event === 'epoch' && e.epoch >= 2);
        atMs = Date.now() - run.startedAt - (run.readyAt ?? 0);
        // Times an epoch (after the first, which warms up), to place the other kills.
        epochMs = Math.max(20, (run.epochAt[2] - run.epochAt[0]) / 2);
      } else {
        // Anywhere in the next 3 epochs after the child is ready: restoring, mid-batch, mid-checkpoint, …
        await run.until((e) => e.event === 'ready');
        const delay = rand() * 3 * epochMs;
        await sleep(delay);
        atMs = Math.round(delay);
      }
      if (run.events.some((e) => e.event === 'done')) {
        problems.push(`kill ${k}: the run finished before the kill; use more --epochs`);
        break;
      }
      run.proc.kill('SIGKILL');
      const exit = await run.exit;
      const reportedEpochs = reported(run, floor);
      if (exit.signal !== 'SIGKILL') {
        problems.push(`kill ${k}: the child exited by itself (code ${exit.code}): ${run.stderr().slice(-800)}`);
      }
      floor = Math.max(floor, reportedEpochs);
      const check = await checkAfterKill(path, floor);
      const previous = records.length ? records[records.length - 1].checkpointEpochs : null;
      if (check.ok && previous !== null && check.checkpointEpochs !== null && check.checkpointEpochs < previous) {
        check.ok = false;
        check.problem = `the checkpoint went back from ${previous} to ${check.checkpointEpochs} epochs`;
      }
      if (check.checkpointEpochs !== null) floor = Math.max(floor, check.checkpointEpochs);
      const record = { kill: k, atMs: Math.round(atMs), reportedEpochs, ...check };
      records.push(record);
      log(
        `kill ${k}: at ${record.atMs} ms after ready, ${reportedEpochs} epochs reported, checkpoint ` +
          `${check.checkpointEpochs ?? '-'} epochs (${check.foundAt}${check.partials ? `, ${check.partials} partial` : ''})` +
          `${check.ok ? '' : ` FAILED: ${check.problem}`}`,
      );
      if (!check.ok) problems.push(`kill ${k}: ${check.problem}`);
    }

    // 3. The last run resumes and finishes.
    const expectedResume =
      (await rt
        .loadCheckpoint(path)
        .then((c) => (c.network.dispose(), c.epochsDone))
        .catch(() => 0)) ?? 0;
    const last = startChild(path, setup);
    const lastExit = await last.exit;
    const done = last.events.find((e): e is Extract<Event, { event: 'done' }> => e.event === 'done');
    if (lastExit.code !== 0 || !done) {
      problems.push(`the final run failed (${lastExit.code}): ${last.stderr().slice(-800)}`);
    } else {
      const ok = done.resumedFromEpoch === expectedResume && done.epochs === epochs;
      summary.final = { resumedFromEpoch: done.resumedFromEpoch, expectedResume, epochs: done.epochs, ok };
      log(
        `final run: resumed from epoch ${done.resumedFromEpoch} (checkpoint had ${expectedResume}), ${done.epochs} epochs`,
      );
      if (!ok)
        problems.push(
          `final run: resumedFromEpoch ${done.resumedFromEpoch}, expected ${expectedResume}; epochs ${done.epochs}`,
        );

      // 4. Exactly the uninterrupted run's result.
      if (refDone) {
        const [a, b] = await Promise.all([rt.loadCheckpoint(path), rt.loadCheckpoint(referencePath)]);
        const sameWeights = Object.entries(b.network.params).every(([k, v]) => {
          const [x, y] = [a.network.params[k].dataSync(), v.dataSync()];
          return x.length === y.length && x.every((value, i) => Object.is(value, y[i]));
        });
        const sameLosses = JSON.stringify(done.loss) === JSON.stringify(refDone.loss);
        a.network.dispose();
        b.network.dispose();
        summary.exact = { sameWeights, sameLosses };
        log(
          `against the uninterrupted run: weights ${sameWeights ? 'identical' : 'DIFFER'}, losses ${sameLosses ? 'identical' : 'DIFFER'}`,
        );
        if (!sameWeights) problems.push('the resumed run ended with other weights than the uninterrupted one');
        if (!sameLosses) {
          const want = refDone.loss;
          const at = done.loss.findIndex((l, i) => l !== want[i]);
          problems.push(
            `the resumed run reported other losses than the uninterrupted one, first at epoch ${at}: ` +
              `${done.loss[at]} vs ${want[at]}`,
          );
        }
      }
    }
    summary.leftovers = readdirSync(base).filter((n) => n !== 'ckpt' && n !== 'reference');
    if (summary.leftovers.length) problems.push(`left behind after the final run: ${summary.leftovers.join(', ')}`);
  } catch (err) {
    problems.push((err as Error).message);
  } finally {
    if (!options.keep) rmSync(base, { recursive: true, force: true });
    else log(`kept ${base}`);
  }
  summary.ok = problems.length === 0;
  return summary;
}

let quiet = false;
function log(line: string): void {
  if (!quiet) process.stderr.write(`${line}\n`);
}

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`kill-resume: expected --${name} to be a non-negative integer, got ${args[i + 1]}`);
  }
  return value;
}

function optimizerArg(args: string[]): Setup['optimizer'] {
  const i = args.indexOf('--optimizer');
  const name = i < 0 ? 'adam' : args[i + 1];
  if (!['adam', 'sgd', 'rmsprop', 'adagrad'].includes(name)) {
    throw new Error(`kill-resume: expected --optimizer adam, sgd, rmsprop or adagrad, got ${name}`);
  }
  return name as Setup['optimizer'];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === 'child') {
    await child(args[1], JSON.parse(args[2]) as Setup);
    return;
  }
  const json = args.includes('--json');
  quiet = json;
  const summary = await parent({
    kills: arg(args, 'kills', 6),
    seed: arg(args, 'seed', 1),
    epochs: arg(args, 'epochs', 40),
    rows: arg(args, 'rows', 256),
    optimizer: optimizerArg(args),
    keep: args.includes('--keep'),
    reference: !args.includes('--no-reference'),
  });
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const good = summary.kills.filter((k) => k.ok).length;
    process.stdout.write(
      `kill-resume: ${summary.kills.length} kills, checkpoint loadable after ${good}; ` +
        `final run resumed from epoch ${summary.final?.resumedFromEpoch ?? '-'} and ` +
        `${summary.final?.ok ? 'finished' : 'did NOT finish as expected'}; ` +
        `exact resume: ${summary.exact ? summary.exact.sameWeights && summary.exact.sameLosses : '-'}\n`,
    );
    for (const p of summary.problems) process.stdout.write(`  FAILURE: ${p}\n`);
    process.stdout.write(summary.ok ? 'kill-resume: OK\n' : 'kill-resume: FAILED\n');
  }
  process.exitCode = summary.ok ? 0 : 1;
}

await main();
