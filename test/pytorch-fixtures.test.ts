// The committed PyTorch fixtures (fixtures/pytorch) come from scripts/pytorch-fixtures.py: the
// script is rerun into a temporary directory with Debian's torch (/usr/bin/python3) and every
// number must equal the committed one within 1e-12, with the same keys, shapes and strings.
// Without torch the tests fail (they do not skip) and say how to install it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { FIXTURE_DIR, FIXTURE_NAMES } from './helpers/fixtures.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'pytorch-fixtures.py');
const PYTHON = '/usr/bin/python3';
const TOLERANCE = 1e-12;

/** Where `a` and `b` differ (a path and why), or null: same structure, numbers within TOLERANCE. */
function firstDifference(a: unknown, b: unknown, path = '$'): string | null {
  if (typeof a === 'number' && typeof b === 'number') {
    return Math.abs(a - b) <= TOLERANCE ? null : `${path}: ${a} vs ${b} (|Δ| ${Math.abs(a - b)})`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const [ka, kb] = [Object.keys(a), Object.keys(b)];
    if (ka.join() !== kb.join()) return `${path}: keys ${ka.join(', ')} vs ${kb.join(', ')}`;
    for (const k of ka) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

describe('PyTorch fixtures (fixtures/pytorch) are what scripts/pytorch-fixtures.py writes', function () {
  this.timeout(300_000);
  let out: string;
  /** Why the script could not run (no torch, or it failed), or null. */
  let problem: string | null = null;

  before(() => {
    out = mkdtempSync(join(tmpdir(), 'tfjs-recurrent-fixtures-'));
    const torch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
    if (torch.status !== 0) {
      problem =
        `${PYTHON} cannot import torch (${(torch.error?.message ?? torch.stderr).trim()}); ` +
        'install PyTorch for it: sudo apt-get install python3-torch (Debian/Ubuntu), or run bash scripts/ensure-system-deps.sh';
      return;
    }
    const run = spawnSync(PYTHON, [SCRIPT, out], { encoding: 'utf8', timeout: 240_000 });
    if (run.status !== 0) problem = `${PYTHON} ${SCRIPT} ${out} exited ${run.status}:\n${run.stdout}${run.stderr}`;
  });

  after(() => rmSync(out, { recursive: true, force: true }));

  it(`${PYTHON} imports torch and the script runs`, () => {
    if (problem) expect.fail(problem);
  });

  for (const name of FIXTURE_NAMES) {
    it(`${name}.json: every number within ${TOLERANCE} of a fresh run, same keys, shapes and strings`, () => {
      if (problem) expect.fail(problem);
      const fresh = JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')) as unknown;
      const committed = JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.json`), 'utf8')) as unknown;
      expect(firstDifference(committed, fresh), `committed vs regenerated ${name}.json`).to.equal(null);
    });
  }

  it('the comparison notices a changed number', () => {
    const f = JSON.parse(readFileSync(join(FIXTURE_DIR, 'gru.json'), 'utf8')) as { grad_x: number[][][] };
    const changed = structuredClone(f);
    changed.grad_x[2][6][4] += 1e-11;
    expect(firstDifference(f, changed)).to.match(/^\$\.grad_x\[2\]\[6\]\[4\]: /);
    expect(firstDifference(f, structuredClone(f))).to.equal(null);
  });
});
