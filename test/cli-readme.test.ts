// The README's tour of the API runs as written: its ```js blocks, joined in order, are one script
// that imports the built package by name (`tfjs-recurrent`) and prints what the comments say.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The ```js blocks of the README section `## A tour of the API`. */
function tourBlocks(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## A tour of the API');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start, 'README section "A tour of the API"').to.be.at.least(0);
  return [...readme.slice(start, end).matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('README: the tour of the API runs', function () {
  this.timeout(600_000);

  it('every snippet, in order, against the built package', () => {
    const build = spawnSync('bash', [join(ROOT, 'scripts', 'ensure-deps.sh')], { encoding: 'utf8' });
    expect(build.status, build.stderr).to.equal(0);
    const blocks = tourBlocks();
    expect(blocks.length, 'snippets').to.be.at.least(8);
    // Inside the package, so that `import ... from 'tfjs-recurrent'` resolves to the package itself.
    const scriptDir = join(ROOT, 'out', `readme-tour-${process.pid}`);
    const cwd = mkdtempSync(join(tmpdir(), 'tfjs-recurrent-tour-'));
    mkdirSync(scriptDir, { recursive: true });
    try {
      const script = join(scriptDir, 'tour.mjs');
      writeFileSync(script, blocks.join('\n'));
      const r = spawnSync(process.execPath, [script], { cwd, encoding: 'utf8', timeout: 300_000 });
      expect(r.status, r.stderr).to.equal(0);
      for (const line of [
        "[ 'W_hx', 'W_hh', 'b_h' ]",
        '[ 2, 5, 8 ] [ 2, 8 ] [ 2, 8 ]',
        "[ 'RecurrentLSTM', 'RecurrentOutput' ]",
        '[ 3, 32 ] [ 8, 32 ] [ 32 ]',
        "[ 'LSTM', 'Dense' ]",
      ]) {
        expect(r.stdout, line).to.include(line);
      }
    } finally {
      rmSync(scriptDir, { recursive: true, force: true });
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
