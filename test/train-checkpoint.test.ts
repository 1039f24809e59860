import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rename, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as rt from '../src/index.js';
import { checkpointRun, runNetwork } from './helpers/checkpoint-run.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'checkpoint-run.ts');

function weights(net: rt.RecurrentNetwork): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(net.params).map(([k, v]) => [k, v.dataSync().slice() as Float32Array]));
}

function maxDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let d = 0;
  for (const k of Object.keys(a)) for (let i = 0; i < a[k].length; i++) d = Math.max(d, Math.abs(a[k][i] - b[k][i]));
  return d;
}

async function epochsDone(dir: string): Promise<number> {
  const ckpt = await rt.loadCheckpoint(dir);
  ckpt.network.dispose();
  return ckpt.epochsDone;
}

async function uninterrupted(epochs: number): Promise<{ w: Record<string, Float32Array>; loss: number[] }> {
  const { net, history } = await checkpointRun(null, epochs);
  const w = weights(net);
  net.dispose();
  return { w, loss: history.history.loss };
}

describe('train: checkpoints and resume', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'rt-ckpt-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes a directory rt.loadNetwork opens, with the trainer state beside it', async () => {
    const dir = join(root, 'plain');
    const { net, history } = await checkpointRun(dir, 3, { checkpoint: { path: dir, every: 2 } });
    // every 2 epochs and after the last: the checkpoint holds all 3 epochs
    const loaded = await rt.loadNetwork(`file://${dir}`);
    expect(maxDiff(weights(loaded), weights(net))).to.equal(0);
    const ckpt = await rt.loadCheckpoint(dir);
    expect(ckpt.epochsDone).to.equal(3);
    expect(ckpt.history.loss).to.deep.equal(history.history.loss);
    expect(ckpt.optimizer).to.equal('Adam');
    expect((await readdir(dir)).sort()).to.deep.equal(['model.json', 'optimizer.bin', 'trainer.json', 'weights.bin']);
    expect((await readdir(root)).filter((e) => e.startsWith('plain'))).to.deep.equal(['plain']);
    tf.dispose([loaded, ckpt.network, net].flatMap((n) => Object.values(n.params)));
  });

  it('resumed, ends with exactly the weights of an uninterrupted run of the same seed (Adam)', async () => {
    const dir = join(root, 'resume');
    // 8 epochs of 3 batches: enough Adam steps for pow(β, t) and the running product to differ in float32.
    const reference = await uninterrupted(10);
    const first = await checkpointRun(dir, 8);
    expect(first.history.resumedFromEpoch).to.equal(0); // resume: true, nothing to resume from
    first.net.dispose();
    const { net, history } = await checkpointRun(dir, 10);
    expect(history.resumedFromEpoch).to.equal(8);
    expect(history.epoch).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    expect(history.history.loss).to.deep.equal(reference.loss);
    expect(maxDiff(weights(net), reference.w)).to.equal(0);
    net.dispose();

    // Nothing left to do: no epoch runs, the weights are the checkpoint's.
    const again = await checkpointRun(dir, 10);
    expect(again.history.resumedFromEpoch).to.equal(10);
    expect(maxDiff(weights(again.net), reference.w)).to.equal(0);
    again.net.dispose();
  });

  it('opens the right checkpoint in every state an interrupted write can leave', async () => {
    const dir = join(root, 'states');
    (await checkpointRun(dir, 1)).net.dispose();
    const first = await rt.loadCheckpoint(dir);
    (await checkpointRun(dir, 2)).net.dispose();

    // Killed while writing the new one: a partial directory beside the complete checkpoint.
    await mkdir(`${dir}.partial-999-1`);
    await writeFile(`${dir}.partial-999-1/weights.bin`, 'half');
    expect((await rt.loadCheckpoint(dir)).epochsDone).to.equal(2);

    // Killed between the two renames: only PATH.previous holds a checkpoint.
    await rename(dir, `${dir}.previous`);
    const fromPrevious = await rt.loadCheckpoint(dir);
    expect(fromPrevious.epochsDone).to.equal(2);
    expect(fromPrevious.directory).to.equal(`${dir}.previous`);

    // Killed after the second rename: PATH and a stale PATH.previous; PATH is the newer.
    await rename(`${dir}.previous`, dir);
    await rm(`${dir}.previous`, { recursive: true, force: true });
    await mkdir(`${dir}.previous`);
    await writeFile(`${dir}.previous/model.json`, '{');
    expect((await rt.loadCheckpoint(dir)).epochsDone).to.equal(2);

    // Resuming from the odd state works, and the next write leaves a clean directory.
    await rename(dir, join(root, 'aside'));
    await rm(`${dir}.previous`, { recursive: true, force: true });
    await rename(join(root, 'aside'), `${dir}.previous`);
    const { net, history } = await checkpointRun(dir, 3);
    expect(history.resumedFromEpoch).to.equal(2);
    expect((await readdir(root)).filter((e) => e.startsWith('states'))).to.deep.equal(['states']);
    net.dispose();
    tf.dispose(Object.values(first.network.params));
    tf.dispose(Object.values(fromPrevious.network.params));
  });

  it('keeps the last good checkpoint when training stops on a non-finite loss', async () => {
    const dir = join(root, 'nan');
    const net = runNetwork();
    const good = { x: tf.randomUniform([8, 6, 2], 0, 1, 'float32', 1), y: tf.ones([8, 1]) };
    const bad = { x: good.x, y: tf.fill([8, 1], 1e30) };
    let epoch = 0;
    let atCheckpoint: Record<string, Float32Array> = {};
    const data = {
      async *[Symbol.asyncIterator]() {
        yield epoch < 2 ? good : bad;
      },
    };
    const err = await rt
      .train(net, data, {
        loss: 'mse',
        epochs: 4,
        seed: 1,
        checkpoint: { path: dir },
        callbacks: {
          onEpochEnd: (e) => {
            epoch = e + 1;
            atCheckpoint = weights(net);
          },
        },
      })
      .then(
        () => null,
        (e: Error) => e,
      );
    expect(err?.message).to.match(/the loss is Infinity at epoch 2, batch 0/);
    const ckpt = await rt.loadCheckpoint(dir);
    expect(ckpt.epochsDone).to.equal(2);
    expect(maxDiff(weights(ckpt.network), atCheckpoint)).to.equal(0);
    tf.dispose([good.x, good.y, bad.y]);
    ckpt.network.dispose();
    net.dispose();
  });

  it('refuses to resume into a different model or optimizer', async () => {
    const dir = join(root, 'mismatch');
    (await checkpointRun(dir, 1)).net.dispose();
    const data = { x: tf.zeros([4, 6, 2]), y: tf.zeros([4, 1]) };
    const other = rt.network({ cell: 'lstm', inputSize: 2, units: 4, outputSize: 1, seed: 1 });
    const options = { loss: 'mse' as const, epochs: 2, checkpoint: { path: dir }, resume: true, learningRate: 1e-2 };
    const e1 = await rt.train(other, data, options).catch((e: Error) => e);
    expect((e1 as Error).message).to.match(/the checkpoint holds a network .*"gru".* the model to train is .*"lstm"/);
    const same = runNetwork();
    const e2 = await rt.train(same, data, { ...options, optimizer: 'sgd' }).catch((e: Error) => e);
    expect((e2 as Error).message).to.match(/holds the state of a Adam optimizer, this run uses SGD/);
    const e3 = await rt.train(same, data, { ...options, seed: 99 }).catch((e: Error) => e);
    expect((e3 as Error).message).to.match(/written with seed 7, this run asks for seed 99/);
    const e4 = await rt.loadCheckpoint(join(root, 'nothing-here')).catch((e: Error) => e);
    expect((e4 as Error).message).to.match(/no checkpoint at/);
    tf.dispose([data.x, data.y]);
    other.dispose();
    same.dispose();
  });

  it('survives SIGKILL mid-write: the checkpoint loads and the resumed run ends like an uninterrupted one', async function () {
    this.timeout(240_000);
    const dir = join(root, 'killed');
    const moments = [
      {
        name: 'while a new checkpoint is being written',
        when: (entries: string[]) => entries.some((e) => e.startsWith('killed.partial-')),
      },
      { name: 'around the swap of directories', when: (entries: string[]) => entries.includes('killed.previous') },
      { name: 'during an epoch', when: () => true },
    ];
    for (const moment of moments) {
      // Each child resumes from the checkpoint the previous one left, with a checkpoint after every epoch.
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, '100000'], { stdio: 'ignore' });
      const exited = once(child, 'exit');
      const started = existsSync(dir) ? await epochsDone(dir) : 0;
      while (!existsSync(dir) || (await epochsDone(dir)) <= started) {
        if (child.exitCode !== null) throw new Error('the child ended before writing a checkpoint');
        await new Promise((r) => setTimeout(r, 10));
      }
      const deadline = Date.now() + 60_000;
      while (!moment.when(await readdir(root)) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      child.kill('SIGKILL');
      await exited;
      const ckpt = await rt.loadCheckpoint(dir);
      expect(ckpt.epochsDone, moment.name).to.be.above(started);
      const net = await rt.loadNetwork(`file://${ckpt.directory}`);
      expect(maxDiff(weights(net), weights(ckpt.network))).to.equal(0);
      net.dispose();
      ckpt.network.dispose();
    }
    const done = await epochsDone(dir);
    const { net, history } = await checkpointRun(dir, done + 2);
    expect(history.resumedFromEpoch).to.equal(done);
    const reference = await uninterrupted(done + 2);
    expect(maxDiff(weights(net), reference.w)).to.be.below(1e-5);
    net.dispose();
  });
});
