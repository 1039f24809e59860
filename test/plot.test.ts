import { expect } from 'chai';
import { JSDOM } from 'jsdom';
import { barChart, formatValue, lineChart } from '../src/plot/index.js';

/** Parses markup as a standalone SVG document (XML rules), failing on any parse error. */
function parseSvg(markup: string): Element {
  const { DOMParser } = new JSDOM('').window;
  const doc = new DOMParser().parseFromString(markup, 'image/svg+xml');
  expect(doc.getElementsByTagName('parsererror'), 'XML parse errors').to.have.length(0);
  const root = doc.documentElement;
  expect(root.tagName).to.equal('svg');
  expect(root.namespaceURI).to.equal('http://www.w3.org/2000/svg');
  return root;
}

const texts = (svg: Element) => [...svg.querySelectorAll('text')].map((t) => t.textContent ?? '');

describe('plot', () => {
  const x = [1, 2, 3, 4, 5];

  describe('lineChart', () => {
    it('marks the points of short series only', async () => {
      const long = Array.from({ length: 25 }, (_, i) => i);
      const svg = parseSvg(await lineChart({ series: [{ name: 'long', x: long, y: long }] }));
      expect(svg.querySelectorAll('g[aria-label="line"] path')).to.have.length(1);
      expect(svg.querySelectorAll('g[aria-label="dot"]')).to.have.length(0);
    });

    it('draws one path per series, the axis labels, the title and a legend, in valid standalone SVG', async () => {
      const svg = parseSvg(
        await lineChart({
          title: 'Loss',
          xLabel: 'epoch',
          yLabel: 'MSE',
          series: [
            { name: 'elman', x, y: [5, 4, 3, 2, 1] },
            { name: 'lstm', x, y: [3, 2, 1, 1, 1] },
            { name: 'gru', x, y: [2, 1, 1, 0.5, 0.2] },
          ],
        }),
      );
      const lines = svg.querySelectorAll('g[aria-label="line"] path');
      expect(lines).to.have.length(3);
      const strokes = [...svg.querySelectorAll('g[aria-label="line"]')].map((g) => g.getAttribute('stroke'));
      expect(new Set(strokes).size, 'distinct colours').to.equal(3);
      // Each path visits every point: one M and four L commands.
      expect(lines[0].getAttribute('d')?.match(/[ML]/g)).to.have.length(5);
      expect(svg.querySelector('[aria-label="x-axis label"]')?.textContent).to.equal('epoch');
      expect(svg.querySelector('[aria-label="y-axis label"]')?.textContent).to.equal('MSE');
      expect(texts(svg)).to.include.members(['Loss', '— elman', '— lstm', '— gru']);
    });

    it('leaves the legend out for a single series and draws a log axis', async () => {
      const svg = parseSvg(
        await lineChart({ series: [{ name: 'only', x, y: [1, 10, 100, 1000, 10000] }], logY: true }),
      );
      expect(svg.querySelectorAll('g[aria-label="line"] path')).to.have.length(1);
      expect(svg.querySelectorAll('g[aria-label="dot"] circle'), 'a dot per point of a short series').to.have.length(5);
      expect(texts(svg).join(' ')).not.to.contain('only');
      expect(texts(svg)).to.include.members(['1', '10', '100', '1000', '10000']);
    });

    it('refuses bad input with a message naming what was expected', async () => {
      const bad: [unknown, RegExp][] = [
        [null, /lineChart: expected options \{ series/],
        [{ series: [] }, /expected series to be a non-empty array, got an array of length 0/],
        [{ series: [{ name: 'a', x: [1, 2], y: [1] }] }, /series\[0\]\.x and \.y of the same length, got 2 and 1/],
        [
          { series: [{ name: 'a', x: [1, 2], y: [1, NaN] }] },
          /expected series\[0\]\.y\[1\] to be a finite number, got NaN/,
        ],
        [{ series: [{ name: 'a', x: [1, 2], y: [1, 0] }], logY: true }, /series\[0\]\.y\[1\] > 0 on a log axis, got 0/],
        [{ series: [{ name: 'a', x: [1], y: [1] }], logy: true }, /unknown option 'logy'/],
        [{ series: [{ name: 'a', x: [1], y: [1], colour: 'red' }] }, /series\[0\]: unknown option 'colour'/],
        [{ series: [{ name: 3, x: [1], y: [1] }] }, /series\[0\]\.name to be a string, got number 3/],
      ];
      for (const [options, message] of bad) {
        let error: unknown;
        await lineChart(options as never).catch((e: unknown) => (error = e));
        expect(error, JSON.stringify(options)).to.be.instanceOf(Error);
        expect((error as Error).message).to.match(message);
      }
    });
  });

  describe('barChart', () => {
    it('draws one rect per bar with its value written above it', async () => {
      const svg = parseSvg(
        await barChart({
          title: 'Speed',
          xLabel: 'backend',
          yLabel: 'ms',
          bars: [
            { label: 'cpu', value: 120.456 },
            { label: 'wasm', value: 3 },
          ],
        }),
      );
      const rects = svg.querySelectorAll('g[aria-label="bar"] rect');
      expect(rects).to.have.length(2);
      const heights = [...rects].map((r) => Number(r.getAttribute('height')));
      expect(heights[0] / heights[1]).to.be.closeTo(120.456 / 3, 0.5);
      expect(texts(svg)).to.include.members(['Speed', 'backend', 'ms', 'cpu', 'wasm', '120', '3']);
    });

    it('stands grouped bars side by side with a legend of the labels', async () => {
      const svg = parseSvg(
        await barChart({
          bars: [
            { group: 'cpu', label: 'forward', value: 10 },
            { group: 'cpu', label: 'train step', value: 30 },
            { group: 'wasm', label: 'forward', value: 1 },
            { group: 'wasm', label: 'train step', value: 3 },
          ],
          logY: true,
        }),
      );
      expect(svg.querySelectorAll('g[aria-label="bar"] rect')).to.have.length(4);
      expect(texts(svg)).to.include.members(['cpu', 'wasm', '— forward', '— train step']);
      // The legend is drawn once, not once per group.
      expect(texts(svg).filter((t) => t === '— forward')).to.have.length(1);
    });

    it('leaves the values out when there are more than 12 bars', async () => {
      const bars = Array.from({ length: 13 }, (_, i) => ({ label: `b${i}`, value: i + 0.5 }));
      const svg = parseSvg(await barChart({ bars }));
      expect(svg.querySelectorAll('g[aria-label="bar"] rect')).to.have.length(13);
      expect(texts(svg)).not.to.include('12.5');
    });

    it('refuses a bar without a group when others have one, and bad values', async () => {
      const cases: [unknown, RegExp][] = [
        [
          {
            bars: [
              { label: 'a', value: 1, group: 'g' },
              { label: 'b', value: 2 },
            ],
          },
          /every bar to have a group/,
        ],
        [{ bars: [{ label: 'a', value: '1' }] }, /bars\[0\]\.value to be a finite number, got string "1"/],
        [{ bars: [{ label: 'a', value: -1 }], logY: true }, /bars\[0\]\.value > 0 on a log axis, got -1/],
      ];
      for (const [options, message] of cases) {
        let error: unknown;
        await barChart(options as never).catch((e: unknown) => (error = e));
        expect((error as Error)?.message, JSON.stringify(options)).to.match(message);
      }
    });
  });

  it('formats values with three significant digits', () => {
    expect([0.0012345, 12.345, 1234.5, 3].map(formatValue)).to.deep.equal(['0.00123', '12.3', '1230', '3']);
  });
});
