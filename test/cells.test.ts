import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import * as rt from '../src/index.js';
import { expectAbsClose } from './helpers/close.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** A matrix-vector product in float64 JS: (W v)_i. */
const mv = (W: number[][], v: number[]) => W.map((row) => row.reduce((s, w, j) => s + w * v[j], 0));
const add = (...vs: number[][]) => vs[0].map((_, i) => vs.reduce((s, v) => s + v[i], 0));
const arr = (v: tf.Variable) => v.arraySync() as never;

describe('cells', () => {
  it('Elman: params keyed by the symbols with the document orientation', () => {
    const cell = rt.cells.elman({ inputSize: 3, units: 4, seed: 1 });
    expect(Object.keys(cell.params).sort()).to.deep.equal(['W_hh', 'W_hx', 'b_h']);
    expect(cell.params.W_hx.shape).to.deep.equal([4, 3]);
    expect(cell.params.W_hh.shape).to.deep.equal([4, 4]);
    expect(cell.params.b_h.shape).to.deep.equal([4]);
    expect(cell.equations).to.contain('W_{hx} x_t');
    cell.dispose();
  });

  it('without biases the equations name no bias, each gate keeping its products', () => {
    for (const [kind, make] of [
      ['elman', rt.cells.elman],
      ['lstm', rt.cells.lstm],
      ['gru', rt.cells.gru],
    ] as const) {
      const [withBias, without] = [make({ inputSize: 2, units: 3 }), make({ inputSize: 2, units: 3, useBias: false })];
      expect(withBias.equations, kind).to.match(/ \+ b_/);
      expect(without.equations, kind).not.to.match(/b_/);
      expect(
        Object.keys(without.params).filter((k) => k.startsWith('b_')),
        kind,
      ).to.deep.equal([]);
      // Only the bias terms went: every weight product of the biased form is still there.
      for (const product of withBias.equations.match(/W_\{[a-z]+\} [^ )]+/g)!) {
        expect(without.equations, kind).to.contain(product);
      }
      withBias.dispose();
      without.dispose();
    }
    const gru = rt.cells.gru({ inputSize: 2, units: 3, useBias: false, resetAfter: true });
    expect(gru.equations).to.contain(String.raw`n_t &= \tanh(W_{nx} x_t + r_t \odot (W_{nh} h_{t-1}))`);
    gru.dispose();
  });

  it('Elman step computes f(W_hx x + W_hh h + b_h) for every batch row', () => {
    const cell = rt.cells.elman({ inputSize: 3, units: 2, seed: 3, activation: 'tanh' });
    tf.tidy(() => cell.params.b_h.assign(tf.tensor1d([0.1, -0.2])));
    const X = [
      [0.5, -1, 2],
      [1, 0, -0.5],
    ];
    const Hp = [
      [0.3, -0.7],
      [0, 0.2],
    ];
    const h = tf.tidy(() => cell.step(tf.tensor2d(X), { h: tf.tensor2d(Hp) }).h);
    const [Wx, Wh, b] = [arr(cell.params.W_hx), arr(cell.params.W_hh), arr(cell.params.b_h)];
    const expected = X.map((x, n) => add(mv(Wx, x), mv(Wh, Hp[n]), b).map(Math.tanh));
    expectAbsClose(h, expected, 1e-6, 'h_t');
    h.dispose();
    cell.dispose();
  });

  it('LSTM step follows the gate equations (i, f, g, o; c_t; h_t)', () => {
    const cell = rt.cells.lstm({ inputSize: 2, units: 3, seed: 5 });
    expect(Object.keys(cell.params).sort()).to.deep.equal(
      ['W_fh', 'W_fx', 'W_gh', 'W_gx', 'W_ih', 'W_ix', 'W_oh', 'W_ox', 'b_f', 'b_g', 'b_i', 'b_o'].sort(),
    );
    expect(Array.from(cell.params.b_f.dataSync())).to.deep.equal([1, 1, 1]); // unit forget bias
    const x = [0.4, -0.9];
    const h0 = [0.1, 0.2, -0.3];
    const c0 = [0.5, -0.5, 0.25];
    const out = tf.tidy(() => {
      const s = cell.step(tf.tensor2d([x]), { h: tf.tensor2d([h0]), c: tf.tensor2d([c0]) });
      return [s.h, s.c!];
    });
    const p = Object.fromEntries(Object.entries(cell.params).map(([k, v]) => [k, arr(v)])) as Record<string, never>;
    const gate = (g: string, f: (v: number) => number) =>
      add(mv(p[`W_${g}x`], x), mv(p[`W_${g}h`], h0), p[`b_${g}`]).map(f);
    const [i, f, g, o] = [gate('i', sigmoid), gate('f', sigmoid), gate('g', Math.tanh), gate('o', sigmoid)];
    const c = c0.map((cp, k) => f[k] * cp + i[k] * g[k]);
    const h = c.map((ck, k) => o[k] * Math.tanh(ck));
    expectAbsClose(out[0], [h], 1e-6, 'h_t');
    expectAbsClose(out[1], [c], 1e-6, 'c_t');
    tf.dispose(out);
    cell.dispose();
  });

  for (const resetAfter of [true, false]) {
    it(`GRU step (resetAfter: ${resetAfter}) follows its equations`, () => {
      const cell = rt.cells.gru({ inputSize: 2, units: 3, seed: 9, resetAfter });
      tf.tidy(() => {
        for (const v of Object.values(cell.params))
          if (v.rank === 1) v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 4));
      });
      expect('b_nh' in cell.params).to.equal(resetAfter);
      const x = [0.7, -0.1];
      const h0 = [0.3, -0.6, 0.9];
      const out = tf.tidy(() => cell.step(tf.tensor2d([x]), { h: tf.tensor2d([h0]) }).h);
      const p = Object.fromEntries(Object.entries(cell.params).map(([k, v]) => [k, arr(v)])) as Record<string, never>;
      const z = add(mv(p.W_zx, x), mv(p.W_zh, h0), p.b_z).map(sigmoid);
      const r = add(mv(p.W_rx, x), mv(p.W_rh, h0), p.b_r).map(sigmoid);
      const n = resetAfter
        ? add(
            mv(p.W_nx, x),
            p.b_n,
            add(mv(p.W_nh, h0), p.b_nh).map((v, k) => r[k] * v),
          ).map(Math.tanh)
        : add(
            mv(p.W_nx, x),
            mv(
              p.W_nh,
              h0.map((v, k) => r[k] * v),
            ),
            p.b_n,
          ).map(Math.tanh);
      const h = n.map((nk, k) => (1 - z[k]) * nk + z[k] * h0[k]);
      expectAbsClose(out, [h], 1e-6, 'h_t');
      out.dispose();
      cell.dispose();
    });
  }

  it('the same seed gives the same parameters; another seed others', () => {
    const a = rt.cells.lstm({ inputSize: 3, units: 4, seed: 42 });
    const b = rt.cells.lstm({ inputSize: 3, units: 4, seed: 42 });
    const c = rt.cells.lstm({ inputSize: 3, units: 4, seed: 43 });
    for (const k of Object.keys(a.params)) {
      expect(Array.from(b.params[k].dataSync()), k).to.deep.equal(Array.from(a.params[k].dataSync()));
    }
    expect(Array.from(c.params.W_ix.dataSync())).to.not.deep.equal(Array.from(a.params.W_ix.dataSync()));
    [a, b, c].forEach((x) => x.dispose());
  });

  it('recurrent weights start orthogonal (W W^T = I)', () => {
    const cell = rt.cells.elman({ inputSize: 2, units: 6, seed: 7 });
    const wwt = tf.tidy(() => tf.matMul(cell.params.W_hh, cell.params.W_hh, false, true));
    expectAbsClose(wwt, tf.eye(6), 1e-5, 'W_hh W_hh^T');
    wwt.dispose();
    cell.dispose();
  });

  it('initialState gives zeros [batch, units] for each state entry', () => {
    const cell = rt.cells.lstm({ inputSize: 2, units: 3, seed: 1 });
    const s = cell.initialState(4);
    expect(s.h.shape).to.deep.equal([4, 3]);
    expect(s.c!.shape).to.deep.equal([4, 3]);
    expect(Array.from(s.h.dataSync()).every((v) => v === 0)).to.equal(true);
    tf.dispose([s.h, s.c!]);
    cell.dispose();
  });

  it('refuses bad options and inputs with messages that say what was expected', () => {
    expect(() => rt.cells.elman({ inputSize: 0, units: 3 })).to.throw(
      /expected inputSize to be a positive integer, got 0/,
    );
    expect(() => rt.cells.lstm({ inputSize: 2, units: 2.5 })).to.throw(
      /expected units to be a positive integer, got 2.5/,
    );
    expect(() => rt.cells.gru({ inputSize: 2, units: 2, resetAfer: true } as never)).to.throw(
      /unknown option 'resetAfer'/,
    );
    const cell = rt.cells.elman({ inputSize: 3, units: 2, seed: 1 });
    const s = cell.initialState(2);
    expect(() => cell.step(tf.zeros([2, 7]) as tf.Tensor2D, s)).to.throw(
      /expected x_t of shape \[batch, 3\], got \[2, 7\]/,
    );
    expect(() => cell.step(tf.zeros([2, 3]) as tf.Tensor2D, { h: tf.zeros([2, 5]) as tf.Tensor2D })).to.throw(
      /expected state.h of shape \[2, 2\], got \[2, 5\]/,
    );
    cell.dispose();
  });
});
