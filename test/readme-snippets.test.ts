// Every code snippet of README.md works from an install, not only from a clone: the package is
// packed (`npm pack`: only the files it ships) and unpacked into node_modules of an empty project,
// beside this repository's @tensorflow packages, without the optional peers. There:
// - the ```js blocks (Node) are one script, in order: it compiles as strict TypeScript and runs
//   as JavaScript, printing what the comments say;
// - the ```js browser blocks compile as strict TypeScript against the DOM (each its own module;
//   examples/worker runs the worker ones in Chromium, test/browser/worker.browser.ts);
// - the ```ts tslab block compiles with tslab's own TypeScript (5.0, Node10 resolution).
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TSLAB_TSC = join(ROOT, 'node_modules', '@tslab', 'typescript-for-tslab', 'bin', 'tsc');
/** Strict, as a user's project would be (tfjs's own .d.ts need skipLibCheck, so every project has it). */
const STRICT = { strict: true, noEmit: true, target: 'ES2022', skipLibCheck: true };

interface Snippet {
  kind: 'node' | 'browser' | 'tslab';
  code: string;
  line: number;
}

/** The README's code blocks in js or ts, by kind; any other info string of js/ts is an error. */
export function readmeSnippets(readme: string): Snippet[] {
  const snippets: Snippet[] = [];
  for (const m of readme.matchAll(/^```(js|ts|javascript|typescript)([^\n]*)\n([\s\S]*?)^```/gm)) {
    const tag = m[2].trim();
    const line = readme.slice(0, m.index).split('\n').length;
    const kind =
      tag === '' && m[1] === 'js' ? 'node' : tag === 'browser' ? 'browser' : tag === 'tslab' ? 'tslab' : null;
    if (kind === null) throw new Error(`README.md line ${line}: a \`\`\`${m[1]} ${tag} block the test cannot run`);
    snippets.push({ kind, code: m[3], line });
  }
  return snippets;
}

/** Links this repository's installed package `name` into `project`'s node_modules. */
function link(project: string, name: string): void {
  const target = join(project, 'node_modules', name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules', name), target, 'dir');
}

/** Runs `tsc -p` on a tsconfig written into `dir`; resolves to its output when it fails. */
function typecheck(tsc: string, dir: string, options: object, files: string[]): string {
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files }));
  const r = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
  return r.status === 0 ? '' : `${r.stdout}${r.stderr}`;
}

describe('README: every snippet, from the packed package', function () {
  this.timeout(600_000);
  let work: string;
  let project: string;
  let snippets: Snippet[];

  before(() => {
    const build = spawnSync('bash', [join(ROOT, 'scripts', 'ensure-deps.sh')], { encoding: 'utf8' });
    expect(build.status, build.stderr).to.equal(0);
    for (const types of ['index.d.ts', 'plot.d.ts']) {
      expect(existsSync(join(ROOT, 'dist', types)), `dist/${types} (npx tsup builds it)`).to.equal(true);
    }
    snippets = readmeSnippets(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    work = mkdtempSync(join(tmpdir(), 'tfjs-recurrent-readme-'));
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop()!;
    project = join(work, 'project');
    const unpacked = join(project, 'node_modules', 'tfjs-recurrent');
    mkdirSync(unpacked, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', unpacked, '--strip-components=1']);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'readme-user', private: true, type: 'module' }),
    );
    for (const name of ['@tensorflow', '@types/node']) link(project, name);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('has the snippets it should: Node ones, browser ones and a tslab cell', () => {
    const count = (kind: Snippet['kind']) => snippets.filter((s) => s.kind === kind).length;
    expect(count('node'), 'Node snippets').to.be.at.least(9);
    expect(count('browser'), 'browser snippets').to.be.at.least(3);
    expect(count('tslab'), 'tslab cells').to.equal(1);
  });

  it('the Node snippets, as one script: strict TypeScript, then run as JavaScript', () => {
    const script = snippets
      .filter((s) => s.kind === 'node')
      .map((s) => `// README.md line ${s.line}\n${s.code}`)
      .join('\n');
    writeFileSync(join(project, 'readme.mts'), script);
    const errors = typecheck(
      TSC,
      project,
      { ...STRICT, module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'] },
      ['readme.mts'],
    );
    expect(errors, 'tsc --strict on the README snippets').to.equal('');

    writeFileSync(join(project, 'readme.mjs'), script);
    const r = spawnSync(process.execPath, ['readme.mjs'], { cwd: project, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).to.equal(0);
    for (const line of [
      "[ 'W_hx', 'W_hh', 'b_h' ]",
      '[ 2, 5, 8 ] [ 2, 8 ] [ 2, 8 ]',
      "[ 'RecurrentLSTM', 'RecurrentOutput' ]",
      '[ 3, 32 ] [ 8, 32 ] [ 32 ]',
      "[ 'LSTM', 'Dense' ]",
      '[ 8, 16 ] 4',
      '[ [ 2, 4 ], [ 2, 5, 4 ] ]',
      join(project, 'node_modules', 'tfjs-recurrent', 'models', 'names-lstm'),
    ]) {
      expect(r.stdout, line).to.include(line);
    }
    // The first example's training: ten losses, the last well below the first.
    const losses = r.stdout.split('\n').find((l) => /^(\d\.\d{3} ){9}\d\.\d{3}$/.test(l));
    expect(losses, r.stdout).to.be.a('string');
    const values = losses!.split(' ').map(Number);
    expect(values[9], losses).to.be.below(0.5 * values[0]);
  });

  it('rt.models names every model the package ships, and loads each from the install', () => {
    const shipped = readdirSync(join(project, 'node_modules', 'tfjs-recurrent', 'models')).sort();
    const script = [
      "import * as rt from 'tfjs-recurrent';",
      'const names = [...rt.models.MODEL_NAMES].sort();',
      'const loaded = [];',
      'for (const name of names) loaded.push((await rt.models.load(name)).config.cell.kind);',
      'let refused = null;',
      "try { rt.models.path('nope'); } catch (e) { refused = e.message; }",
      'console.log(JSON.stringify({ names, loaded, refused }));',
    ].join('\n');
    writeFileSync(join(project, 'models.mjs'), script);
    const r = spawnSync(process.execPath, ['models.mjs'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      names: string[];
      loaded: string[];
      refused: string;
    };
    expect(out.names).to.deep.equal(shipped);
    expect(out.loaded).to.deep.equal(shipped.map((n) => n.split('-').at(-1)));
    expect(out.refused).to.equal(
      `models.path: no model named "nope"; the package ships ${['adding-lstm', 'names-lstm', 'co2-gru', 'shakespeare-gru', 'mnist-rows-lstm'].join(', ')}`,
    );
  });

  it('the browser snippets compile as strict TypeScript against the DOM', () => {
    const files = snippets
      .filter((s) => s.kind === 'browser')
      .map((s, i) => {
        const file = `browser-${i}.ts`;
        // Each is a module of its own (`export {}` for those without imports).
        writeFileSync(join(project, file), `// README.md line ${s.line}\n${s.code}\nexport {};\n`);
        return file;
      });
    const errors = typecheck(
      TSC,
      project,
      {
        ...STRICT,
        module: 'ESNext',
        moduleResolution: 'Bundler',
        lib: ['ES2022', 'DOM'],
        types: [],
      },
      files,
    );
    expect(errors, 'tsc --strict on the browser snippets').to.equal('');
  });

  it("the tslab cell compiles with tslab's TypeScript 5.0 (Node10 resolution)", () => {
    for (const name of ['tslab', '@observablehq/plot', 'jsdom']) link(project, name);
    const cell = snippets.find((s) => s.kind === 'tslab')!;
    writeFileSync(join(project, 'cell.ts'), `${cell.code}\nexport {};\n`);
    const errors = typecheck(
      TSLAB_TSC,
      project,
      { ...STRICT, module: 'ESNext', moduleResolution: 'node', esModuleInterop: true, types: ['node'] },
      ['cell.ts'],
    );
    expect(errors, 'tslab-tsc --strict on the tslab cell').to.equal('');
  });
});
