/**
 * Kill test of the CLI's model directory (`train --out DIR`: a network and its vocabulary, saved
 * as one unit by `saveCharModel`): for n = 1, 2, … a child process saves a new model over an old
 * one and is killed with SIGKILL at its n-th file-system call (every call of `node:fs` and
 * `node:fs/promises` counts, file handles' writes, syncs and closes too), until a save runs to the
 * end. After every kill the directory must load with the CLI's own loader and hold the old
 * model with the old vocabulary or the new model with the new vocabulary, never a mixture; and
 * the next save must succeed (stale partial directories and locks are cleaned). Prints a summary;
 * exits 1 on any failure.
 *
 *     npx tsx scripts/kill-save.ts [--every 1] [--json]
 *
 * `--every k` kills only at calls 1, 1+k, 1+2k, … (the unit test samples; the script tries all).
 * The same file is the child (`child DIR N`).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

/** The two models: the one on disk before the save, and the one the save writes. */
const MODELS = {
  old: { text: 'abba\nbaab\n', seed: 1 },
  new: { text: 'xyz\nzyx\nyy\n', seed: 2 },
} as const;

/**
 * Kills this process at its `n`-th file-system call: every function of `node:fs/promises`,
 * `node:fs` (the synchronous ones) and of file handles (write, sync, close) that changes or
 * opens something counts.
 */
async function killAtCall(n: number): Promise<void> {
  let calls = 0;
  const wrap = (owner: Record<string, unknown>, names: string[]) => {
    for (const name of names) {
      const original = owner[name];
      if (typeof original !== 'function') continue;
      owner[name] = function (this: unknown, ...args: unknown[]) {
        if (++calls === n) process.kill(process.pid, 'SIGKILL');
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      };
    }
  };
  const handle = await fs.promises.open(SELF, 'r');
  const handleMethods = Object.getPrototypeOf(handle) as Record<string, unknown>;
  await handle.close();
  wrap(fs.promises as unknown as Record<string, unknown>, [
    'mkdir',
    'writeFile',
    'rename',
    'rm',
    'rmdir',
    'unlink',
    'open',
    'copyFile',
    'appendFile',
    'link',
    'symlink',
  ]);
  wrap(fs as unknown as Record<string, unknown>, [
    'mkdirSync',
    'writeFileSync',
    'renameSync',
    'rmSync',
    'rmdirSync',
    'unlinkSync',
    'openSync',
    'writeSync',
    'fsyncSync',
    'closeSync',
    'linkSync',
  ]);
  wrap(handleMethods, ['write', 'writeFile', 'sync', 'datasync', 'close', 'truncate']);
  syncBuiltinESMExports();
}

async function save(dir: string, which: keyof typeof MODELS): Promise<void> {
  const rt = await import('../src/index.js');
  const { saveCharModel } = await import('../src/cli/char-model.js');
  const { text, seed } = MODELS[which];
  const corpus = rt.data.charCorpus(text, { mode: 'lines' });
  const net = rt.network({
    cell: 'gru',
    inputSize: corpus.vocabulary.size,
    units: 4,
    outputSize: corpus.vocabulary.size,
    seed,
  });
  await saveCharModel(dir, net, corpus);
  net.dispose();
}

async function child(dir: string, n: number): Promise<void> {
  // Load everything first: module loading reads files too, and is not what is tested.
  await import('../src/index.js');
  await import('../src/cli/char-model.js');
  await killAtCall(n);
  await save(dir, 'new');
}

interface Row {
  call: number;
  killed: boolean;
  found: 'old' | 'new' | null;
  problem?: string;
}

/** Which model the directory holds (old or new, with the matching vocabulary), or a problem. */
async function inspect(dir: string): Promise<{ found: 'old' | 'new' | null; problem?: string }> {
  const { loadCharModel } = await import('../src/cli/char-model.js');
  try {
    const { net, vocabulary } = await loadCharModel('check', dir);
    const chars = [...vocabulary.chars].join('');
    const size = net.outputSize;
    net.dispose();
    for (const which of ['old', 'new'] as const) {
      const rt = await import('../src/index.js');
      const expected = rt.data.charCorpus(MODELS[which].text, { mode: 'lines' }).vocabulary;
      if (chars === [...expected.chars].join('') && size === expected.size) return { found: which };
    }
    return { found: null, problem: `vocabulary ${JSON.stringify(chars)} is neither model's` };
  } catch (err) {
    return { found: null, problem: (err as Error).message };
  }
}

async function parent(args: string[]): Promise<void> {
  const every = Number(args[args.indexOf('--every') + 1]) || 1;
  const json = args.includes('--json');
  const root = mkdtempSync(join(tmpdir(), 'rt-kill-save-'));
  const dir = join(root, 'model');
  const rows: Row[] = [];
  try {
    for (let n = 1; n < 10_000; n += every) {
      await save(dir, 'old'); // the next save after a kill: must clean up and succeed
      const before = await inspect(dir);
      if (before.found !== 'old') {
        rows.push({
          call: n,
          killed: false,
          found: before.found,
          problem: `the old model did not save: ${before.problem}`,
        });
        break;
      }
      const result = spawnSync(process.execPath, ['--import', 'tsx', SELF, 'child', dir, String(n)], {
        encoding: 'utf8',
      });
      const killed = result.signal === 'SIGKILL';
      const after = await inspect(dir);
      const row: Row = { call: n, killed, found: after.found, ...(after.problem ? { problem: after.problem } : {}) };
      if (!killed && result.status !== 0) row.problem = `the child failed: ${result.stderr.slice(-500)}`;
      if (!killed && after.found !== 'new') row.problem ??= 'a save that ran to the end left the old model';
      rows.push(row);
      if (!killed) break;
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const problems = rows.filter((r) => r.problem);
  const summary = {
    ok: problems.length === 0 && rows.length > 0 && !rows[rows.length - 1].killed,
    calls: rows.length,
    killed: rows.filter((r) => r.killed).length,
    old: rows.filter((r) => r.found === 'old').length,
    new: rows.filter((r) => r.found === 'new').length,
    problems,
  };
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    for (const r of rows)
      console.log(
        `call ${r.call}: ${r.killed ? 'killed' : 'ran to the end'} -> ${r.found ?? 'UNLOADABLE'}${r.problem ? ` (${r.problem})` : ''}`,
      );
    console.log(
      `${summary.killed} kills: ${summary.old} left the old model, ${summary.new} the new one; ${problems.length} problems`,
    );
  }
  process.exitCode = summary.ok ? 0 : 1;
}

if (process.argv[2] === 'child') await child(process.argv[3], Number(process.argv[4]));
else await parent(process.argv.slice(2));
