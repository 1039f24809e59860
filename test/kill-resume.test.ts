// The short version of scripts/kill-resume.ts: a real training process (rt.train with
// checkpoint every epoch and resume) is killed with SIGKILL after a few epochs and twice more at
// seeded random moments; every time the checkpoint must load with rt.loadNetwork and never go
// back, and the last run must report where it resumed and finish. (The full script, with six
// random kills and a comparison against an uninterrupted run, is `npx tsx scripts/kill-resume.ts`.)
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Summary {
  ok: boolean;
  kills: { kill: number; ok: boolean; checkpointEpochs: number | null; foundAt: string; problem?: string }[];
  final: { resumedFromEpoch: number | undefined; expectedResume: number; epochs: number; ok: boolean } | null;
  problems: string[];
}

describe('kill and resume (SIGKILL during real training)', function () {
  this.timeout(180_000);

  it('after 3 kills the checkpoint always loads, and the resumed run reports where it resumed and finishes', () => {
    const args = ['--import', 'tsx', 'scripts/kill-resume.ts', '--kills', '2', '--epochs', '8', '--rows', '64'];
    const result = spawnSync(process.execPath, [...args, '--no-reference', '--seed', '3', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const line = result.stdout.trim().split('\n').pop() ?? '';
    expect(line.startsWith('{'), `no summary from the script: ${result.stderr.slice(-2000)}`).to.equal(true);
    const summary = JSON.parse(line) as Summary;
    expect(summary.problems, 'problems').to.deep.equal([]);
    expect(summary.kills).to.have.length(3);
    for (const k of summary.kills) expect(k.ok, `kill ${k.kill}: ${k.problem}`).to.equal(true);
    // The first kill comes after 3 reported epochs, so there is a checkpoint from then on.
    expect(summary.kills[0].checkpointEpochs).to.be.at.least(3);
    expect(summary.final?.ok).to.equal(true);
    expect(summary.final?.resumedFromEpoch).to.equal(summary.final?.expectedResume);
    expect(summary.final?.resumedFromEpoch).to.be.at.least(3);
    expect(summary.final?.epochs).to.equal(8);
    expect(result.status, 'exit status').to.equal(0);
  });
});
