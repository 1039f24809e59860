// The short version of scripts/kill-save.ts: the CLI's model directory (network and vocabulary,
// saved as one unit) is saved over an old one by a child process killed with SIGKILL at every
// fourth of its file-system calls; after every kill it loads as the old pair or the new one, and
// the next save succeeds. (`npx tsx scripts/kill-save.ts` tries every call: 34 kills, 0 problems.)
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('kill during the save of a CLI model directory (SIGKILL at file-system calls)', function () {
  this.timeout(180_000);

  it('every kill leaves the old model with its vocabulary or the new one with its own, and the next save succeeds', () => {
    const args = ['--import', 'tsx', 'scripts/kill-save.ts', '--every', '4', '--json'];
    const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
    const line = result.stdout.trim().split('\n').pop() ?? '';
    expect(line.startsWith('{'), `no summary from the script: ${result.stderr.slice(-2000)}`).to.equal(true);
    const summary = JSON.parse(line) as { ok: boolean; killed: number; old: number; new: number; problems: unknown[] };
    expect(summary.problems).to.deep.equal([]);
    // Kills land before the swap (old model) and after it (new model): both sides are exercised.
    expect(summary.killed).to.be.at.least(5);
    expect(summary.old).to.be.at.least(1);
    expect(summary.new).to.be.at.least(2);
    expect(summary.ok).to.equal(true);
  });
});
