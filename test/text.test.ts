// Character-level corpora: reading, vocabulary, one-hot windows for next-character prediction.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { BOUNDARY, Vocabulary, charCorpus, charWindows, oneHot, windowCount } from '../src/data/text.js';

describe('data/text', () => {
  describe('charCorpus', () => {
    it('takes short lines as items: trimmed, empty ones dropped, joined by the boundary', () => {
      const c = charCorpus('Anna\r\n  Bob \n\nCy\n');
      expect(c.mode).to.equal('lines');
      expect(c.items).to.equal(3);
      expect(c.vocabulary.decode(c.ids)).to.equal('\nAnna\nBob\nCy\n');
    });

    it('takes long lines as free text, kept as written', () => {
      const line = 'the quick brown fox jumps over the lazy dog, again and again';
      const c = charCorpus(`${line}\n${line}\r\n`);
      expect(c.mode).to.equal('text');
      expect(c.items).to.equal(0);
      expect(c.vocabulary.decode(c.ids)).to.equal(`${line}\n${line}\n`);
    });

    it('takes a single line as free text, and obeys an explicit mode', () => {
      expect(charCorpus('abc').mode).to.equal('text');
      expect(charCorpus('a long line of text that is not an item at all, surely\nb', { mode: 'lines' }).mode).to.equal(
        'lines',
      );
    });

    it('has a sorted vocabulary of distinct characters, code points not UTF-16 halves', () => {
      const c = charCorpus('bca🙂\nab', { mode: 'text' });
      expect(c.vocabulary.chars).to.deep.equal(['\n', 'a', 'b', 'c', '🙂']);
      expect(c.ids.length).to.equal(7);
    });

    it('refuses an empty corpus, a bad mode and a non-string', () => {
      expect(() => charCorpus(' \n\t\n')).to.throw(/corpus is empty/);
      expect(() => charCorpus('abc', { mode: 'words' as 'text' })).to.throw(
        /mode to be one of 'auto', 'lines', 'text', got "words"/,
      );
      expect(() => charCorpus(42 as unknown as string)).to.throw(/expected text to be a string, got number/);
    });
  });

  describe('Vocabulary', () => {
    it('encodes and decodes, and names a character it does not have', () => {
      const v = new Vocabulary([BOUNDARY, 'a', 'b']);
      expect(v.size).to.equal(3);
      expect(v.encode('ab\na')).to.deep.equal([1, 2, 0, 1]);
      expect(v.decode([2, 1, 0])).to.equal('ba\n');
      expect(() => v.encode('abc')).to.throw(/"c" is not in the vocabulary/);
    });

    it('refuses empty or repeated characters', () => {
      expect(() => new Vocabulary([])).to.throw(/non-empty array/);
      expect(() => new Vocabulary(['a', 'a'])).to.throw(/distinct/);
    });
  });

  it('oneHot puts a 1 at each id and refuses ids outside the vocabulary', () => {
    const t = oneHot(
      [
        [0, 2],
        [1, 1],
      ],
      3,
    );
    expect(t.shape).to.deep.equal([2, 2, 3]);
    expect(t.arraySync()).to.deep.equal([
      [
        [1, 0, 0],
        [0, 0, 1],
      ],
      [
        [0, 1, 0],
        [0, 1, 0],
      ],
    ]);
    t.dispose();
    expect(() => oneHot([[3]], 3)).to.throw(/ids in \[0, 3\), got 3/);
  });

  describe('charWindows', () => {
    const corpus = charCorpus('abcdefghijklmnopqrstuvwxyz', { mode: 'text' });

    it('yields every window once per pass, targets shifted by one step, a new order each pass', async () => {
      const seq = 4;
      expect(windowCount(corpus, seq)).to.equal(6); // 25 usable (x, next) pairs / 4
      const data = charWindows(corpus, { seq, batch: 4, seed: 3 });
      expect(data.batches).to.equal(2);
      const before = tf.memory().numTensors;
      const passes: string[][] = [];
      for (let pass = 0; pass < 2; pass++) {
        const starts: string[] = [];
        for await (const { x, y } of data) {
          expect(x.shape.slice(1)).to.deep.equal([seq, 26]);
          expect(y.dtype).to.equal('int32');
          const ids = tf.argMax(x, -1);
          const xs = (ids.arraySync() as number[][]).map((r) => corpus.vocabulary.decode(r));
          ids.dispose();
          const ys = (y.arraySync() as number[][]).map((r) => corpus.vocabulary.decode(r));
          xs.forEach((w, i) => {
            expect(w.length).to.equal(seq);
            expect(ys[i].slice(0, -1)).to.equal(w.slice(1));
            expect(ys[i].charCodeAt(seq - 1)).to.equal(w.charCodeAt(seq - 1) + 1);
          });
          starts.push(...xs);
        }
        passes.push(starts);
      }
      const all = ['abcd', 'efgh', 'ijkl', 'mnop', 'qrst', 'uvwx'];
      for (const p of passes) expect([...p].sort()).to.deep.equal(all);
      expect(passes[0]).to.not.deep.equal(passes[1]);
      expect(tf.memory().numTensors).to.equal(before);
    });

    it('refuses what is not a corpus, bad options and ids', () => {
      expect(() => charWindows('abc' as unknown as typeof corpus, { seq: 2, batch: 2, seed: 0 })).to.throw(
        /expected a corpus from charCorpus\(text\), got string "abc"/,
      );
      expect(() => charWindows(corpus, { seq: 2, batch: 2 } as { seq: number; batch: number; seed: number })).to.throw(
        /expected seed to be a finite number, got undefined$/,
      );
      expect(() => charWindows(corpus, { seq: 2, batch: 2, seed: 0, shuffle: true } as never)).to.throw(
        /unknown option 'shuffle'/,
      );
      expect(() => oneHot([1, 2] as unknown as number[][], 3)).to.throw(/expected ids as an array of rows/);
    });

    it('refuses a corpus shorter than one window', () => {
      expect(() => charWindows(corpus, { seq: 26, batch: 2, seed: 0 })).to.throw(/fewer than one window/);
      expect(() => charWindows(corpus, { seq: 0, batch: 2, seed: 0 })).to.throw(/seq to be a positive integer/);
    });
  });
});
