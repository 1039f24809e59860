// The scale-out path, run: a network leaves with rt.interop.toPyTorch, PyTorch trains it with
// DistributedDataParallel (2 processes, gloo, on this machine: scripts/ddp-roundtrip.py), and the
// trained state dict comes back with rt.interop.fromPyTorchNetwork to PyTorch's predictions (1e-5).
// Skipped, with the reason printed, when /usr/bin/python3 has no torch.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { expectAbsClose, maxAbsDiff } from './helpers/close.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'ddp-roundtrip.py');
const PYTHON = '/usr/bin/python3';

interface DdpResult {
  state_dict: rt.interop.StateDict;
  y: number[][][];
  losses: number[];
  world_size: number;
  max_difference_from_one_process: number;
}

describe('scale-out: toPyTorch → DistributedDataParallel (2 processes, gloo) → fromPyTorchNetwork', function () {
  this.timeout(180_000);
  let dir = '';
  let skip: string | null = null;

  before(() => {
    const probe = spawnSync(PYTHON, ['-c', 'import torch.distributed as d; assert d.is_gloo_available()'], {
      encoding: 'utf8',
    });
    if (probe.status !== 0) {
      skip = `${PYTHON} has no torch with gloo (apt-get install python3-torch, or bash scripts/ensure-system-deps.sh)`;
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'tfjs-recurrent-ddp-'));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [kind, bidirectional] of [
    ['lstm', true],
    ['gru', false],
  ] as const) {
    it(`${kind}, 2 layers${bidirectional ? ', bidirectional' : ''}: trained by DDP, back with the same predictions`, function () {
      if (skip) {
        console.log(`      skipped: ${skip}`);
        this.skip();
      }
      const net = rt.network({ cell: kind, inputSize: 2, units: 4, outputSize: 1, layers: 2, bidirectional, seed: 5 });
      const data = rt.data.addingProblem({ batch: 8, time: 5, seed: 2 });
      const x = data.x;
      // A target at every step: the running sum the adding problem asks for at the end.
      const y = tf.tidy(() => tf.tile(data.y.reshape([8, 1, 1]), [1, 5, 1]));
      const before = tf.memory().numTensors;
      try {
        const input = join(dir, `${kind}-in.json`);
        const output = join(dir, `${kind}-out.json`);
        const spec = {
          kind,
          state_dict: rt.interop.toPyTorch(net),
          x: x.arraySync(),
          y: y.arraySync(),
          steps: 15,
          lr: 0.2,
        };
        writeFileSync(input, JSON.stringify(spec));
        const run = spawnSync(PYTHON, [SCRIPT, input, output], { encoding: 'utf8', timeout: 170_000 });
        expect(run.status, `${PYTHON} ${SCRIPT} exited ${run.status}:\n${run.stdout}${run.stderr}`).to.equal(0);
        const result = JSON.parse(readFileSync(output, 'utf8')) as DdpResult;
        expect(result.world_size).to.equal(2);
        expect(result.losses[result.losses.length - 1]).to.be.below(result.losses[0]);
        // DDP averaged the two halves' gradients: the same steps as one process on the whole batch.
        expect(result.max_difference_from_one_process).to.be.at.most(1e-10);

        const trained = rt.interop.fromPyTorchNetwork(result.state_dict, { kind });
        try {
          expect([trained.layers, trained.bidirectional]).to.deep.equal([2, bidirectional]);
          tf.tidy(() => {
            const ours = trained.predict(x);
            expectAbsClose(ours, result.y, 1e-5, 'our predictions vs torch after DDP');
            expect(maxAbsDiff(net.predict(x), result.y), 'the weights did change').to.be.above(1e-3);
          });
        } finally {
          trained.dispose();
        }
        expect(tf.memory().numTensors).to.equal(before);
      } finally {
        tf.dispose([data.x, data.y, y]);
        net.dispose();
      }
    });
  }
});
