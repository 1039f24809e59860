/**
 * The charts that notebooks, CLI reports and benchmarks draw, as standalone SVG markup made with
 * Observable Plot. Everything (title, axis labels, legend) is inside the one `<svg>`, so the
 * markup can be written to a `.svg` file, shown by Jupyter, or put into a page as it is.
 */
import type * as Plot from '@observablehq/plot';
import { isMissingPackage, missingPeer } from '../lazy-import.js';
import { checkKeys, describe } from '../check/values.js';
import { plotDocument, svgMarkup } from './document.js';

/** Options every chart takes. */
export interface ChartOptions {
  /** Drawn in bold above the chart. */
  title?: string;
  /** The x axis label. */
  xLabel?: string;
  /** The y axis label. */
  yLabel?: string;
  /** Pixels (default 640). */
  width?: number;
  /** Pixels (default 360). */
  height?: number;
  /** A logarithmic y axis (every value must then be > 0). */
  logY?: boolean;
}

/** One line: `y[i]` at `x[i]`. */
export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
}

export interface LineChartOptions extends ChartOptions {
  series: readonly Series[];
  /** A logarithmic x axis (every x must then be > 0). */
  logX?: boolean;
}

/** One bar; bars that share a `group` stand side by side under the group's name. */
export interface Bar {
  label: string;
  value: number;
  group?: string;
}

export interface BarChartOptions extends ChartOptions {
  bars: readonly Bar[];
}

/** Observable's ten categorical colours; series and bar labels take them in order. */
export const PALETTE = [
  '#4269d0',
  '#efb118',
  '#ff725c',
  '#6cc5b0',
  '#3ca951',
  '#ff8ab7',
  '#a463f2',
  '#97bbf5',
  '#9c6b4e',
  '#9498a0',
] as const;

/** Charts with at most this many bars write each bar's value above it. */
const LABELLED_BARS = 12;

/** Series with at most this many points get a dot at each point. */
const FEW_POINTS = 24;

const CHART_KEYS = ['title', 'xLabel', 'yLabel', 'width', 'height', 'logY'];

/**
 * A line chart of one or more series, with a legend when there are several; a series of at most
 * 24 points also gets a dot at each point.
 *
 * ```ts
 * const svg = await lineChart({
 *   title: 'Training loss',
 *   series: [{ name: 'lstm', x: [1, 2, 3], y: [0.3, 0.1, 0.05] }],
 *   xLabel: 'epoch', yLabel: 'MSE', logY: true,
 * });
 * ```
 *
 * @returns SVG markup.
 */
export async function lineChart(options: LineChartOptions): Promise<string> {
  const where = 'lineChart';
  checkKeys(where, checkObject(where, options, '{ series, title?, xLabel?, yLabel?, ... }'), [
    ...CHART_KEYS,
    'series',
    'logX',
  ]);
  const series = checkArray(where, 'series', options.series);
  series.forEach((s, i) => checkSeries(where, `series[${i}]`, s, options));
  const names = series.map((s) => s.name);
  const plot = await observablePlot();
  const marks = series.flatMap((s, i) => {
    const points = s.x.map((x, j) => ({ x, y: s.y[j] }));
    const stroke = PALETTE[i % PALETTE.length];
    const line = plot.line(points, { x: 'x', y: 'y', stroke, strokeWidth: 1.5 });
    // A few measurements: mark each one, so that the line is not mistaken for data between them.
    return points.length <= FEW_POINTS ? [line, plot.dot(points, { x: 'x', y: 'y', fill: stroke, r: 2.5 })] : [line];
  });
  return draw(
    options,
    names.length > 1 ? names : [],
    marks,
    series.flatMap((s) => s.y),
    // No thousands separators on x: years (2016) and step counts read better plain.
    { x: options.logX ? { type: 'log', tickFormat: '~g' } : { type: 'linear', tickFormat: plainNumber } },
  );
}

/**
 * A bar chart; bars with a `group` are drawn side by side per group (e.g. one group per
 * backend, one bar per measurement). Up to 12 bars, each is labelled with its value.
 *
 * @returns SVG markup.
 */
export async function barChart(options: BarChartOptions): Promise<string> {
  const where = 'barChart';
  checkKeys(where, checkObject(where, options, '{ bars, title?, xLabel?, yLabel?, ... }'), [...CHART_KEYS, 'bars']);
  const bars = checkArray(where, 'bars', options.bars);
  bars.forEach((b, i) => checkBar(where, `bars[${i}]`, b, options));
  const grouped = bars.some((b) => b.group !== undefined);
  if (grouped && !bars.every((b) => typeof b.group === 'string')) {
    throw new TypeError(
      `${where}: expected every bar to have a group (a string) when one has, got ${bars.length} bars`,
    );
  }
  const labels = [...new Set(bars.map((b) => b.label))];
  const data = bars.map((b) => ({ ...b, color: PALETTE[labels.indexOf(b.label) % PALETTE.length] }));
  // A log axis has no zero: bars then start one decade below the smallest value.
  const base = options.logY ? 10 ** Math.floor(Math.log10(Math.min(...bars.map((b) => b.value))) - 1) : 0;
  const fx = grouped ? 'group' : undefined;
  const plot = await observablePlot();
  const marks: Plot.Markish[] = [plot.barY(data, { x: 'label', y1: base, y2: 'value', fx, fill: 'color' })];
  // Values written above the bars while they fit; many narrow bars leave them to the axis.
  if (bars.length <= LABELLED_BARS) {
    const text = (d: Bar) => formatValue(d.value);
    marks.push(plot.text(data, { x: 'label', y: 'value', fx, text, dy: -4, lineAnchor: 'bottom' }));
  }
  return draw(options, grouped ? labels : [], marks, [base, ...bars.map((b) => b.value)], {
    x: { type: 'band', label: grouped ? null : (options.xLabel ?? null), axis: grouped ? null : 'bottom' },
    ...(grouped ? { fx: { label: options.xLabel ?? null, axis: 'bottom' as const } } : {}),
  });
}

/** A number as JavaScript writes it, rounded to six significant digits (`2016`, `0.25`, `1e-7`). */
function plainNumber(v: number): string {
  return String(Number(v.toPrecision(6)));
}

/** Three significant digits, without trailing zeros (`0.00123`, `12.3`, `1230`). */
export function formatValue(v: number): string {
  return String(Number(v.toPrecision(3)));
}

/**
 * Observable Plot (an optional peer dependency), loaded by the first chart. The specifier is
 * written out, so that an app's bundler (and the Observable notebooks' build) bundles Plot with
 * the `tfjs-recurrent/plot` entry; where it is not installed, the error names it.
 */
async function observablePlot(): Promise<typeof Plot> {
  try {
    return await import('@observablehq/plot');
  } catch (err) {
    if (isMissingPackage(err, '@observablehq/plot'))
      throw new Error(missingPeer('@observablehq/plot', 'charts'), { cause: err });
    throw err;
  }
}

/** The frame every chart shares: size, margins, axes, title and legend, drawn and serialised. */
async function draw(
  options: ChartOptions,
  legend: readonly string[],
  marks: Plot.Markish[],
  yValues: readonly number[],
  scales: Pick<Plot.PlotOptions, 'x' | 'fx'>,
): Promise<string> {
  const plot = await observablePlot();
  const marginTop = options.title ? 48 : 28;
  const marginLeft = 28 + 6.5 * tickLabelChars(yValues, options.logY ?? false);
  const marginRight = legend.length ? 24 + 7 * Math.max(...legend.map((n) => n.length + 2)) : 24;
  const extra: Plot.Markish[] = [];
  if (options.title) {
    extra.push(
      plot.text([options.title], {
        frameAnchor: 'top-left',
        dx: 8 - marginLeft,
        dy: 8 - marginTop,
        textAnchor: 'start',
        lineAnchor: 'top',
        fontSize: 14,
        fontWeight: 'bold',
        facet: 'super',
      }),
    );
  }
  legend.forEach((name, i) =>
    extra.push(
      plot.text([`— ${name}`], {
        frameAnchor: 'top-right',
        dx: 10,
        dy: 16 * i,
        textAnchor: 'start',
        lineAnchor: 'top',
        fontSize: 11,
        fill: PALETTE[i % PALETTE.length],
        facet: 'super',
      }),
    ),
  );
  const document = await plotDocument();
  const figure = plot.plot({
    document,
    width: options.width ?? 640,
    height: options.height ?? 360,
    marginTop,
    marginLeft,
    marginRight,
    marginBottom: 44,
    style: { background: 'white', fontSize: '11px' },
    ...scales,
    x: { label: options.xLabel ?? null, labelAnchor: 'center', labelArrow: 'none', ...scales.x },
    y: {
      label: options.yLabel ?? null,
      labelAnchor: 'center',
      labelArrow: 'none',
      type: options.logY ? 'log' : 'linear',
      ...(options.logY ? { tickFormat: '~g' } : {}),
      grid: true,
    },
    marks: [...marks, ...extra],
  });
  return svgMarkup(figure as unknown as SVGSVGElement);
}

/**
 * About how many characters the widest y tick label has: on a log axis the decades it spans,
 * written as JavaScript writes numbers, as `~g` does (`0.000001`, `1e-7`); on a linear one the
 * rounded ends with thousands separators.
 */
function tickLabelChars(values: readonly number[], log: boolean): number {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const labels = log
    ? Array.from({ length: Math.ceil(Math.log10(hi)) - Math.floor(Math.log10(lo)) + 1 }, (_, i) =>
        String(Number((10 ** (Math.floor(Math.log10(lo)) + i)).toPrecision(1))),
      )
    : [lo, hi].map((v) => Number(v.toPrecision(2)).toLocaleString('en-US'));
  return Math.max(4, ...labels.map((e) => e.length));
}

function checkObject<T>(where: string, value: T, expected: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${where}: expected options ${expected}, got ${describe(value)}`);
  }
  return value;
}

function checkArray<T>(where: string, name: string, value: readonly T[] | undefined): readonly T[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${where}: expected ${name} to be a non-empty array, got ${describe(value)}`);
  }
  return value;
}

function checkSeries(where: string, name: string, s: Series, options: LineChartOptions): void {
  checkObject(where, s, '{ name, x, y }');
  checkKeys(`${where}: ${name}`, s, ['name', 'x', 'y']);
  if (typeof s.name !== 'string')
    throw new TypeError(`${where}: expected ${name}.name to be a string, got ${describe(s.name)}`);
  checkArray(where, `${name}.x`, s.x).forEach((v, i) => checkNumber(where, `${name}.x[${i}]`, v, options.logX));
  checkArray(where, `${name}.y`, s.y).forEach((v, i) => checkNumber(where, `${name}.y[${i}]`, v, options.logY));
  if (s.x.length !== s.y.length) {
    throw new RangeError(`${where}: expected ${name}.x and .y of the same length, got ${s.x.length} and ${s.y.length}`);
  }
}

function checkBar(where: string, name: string, b: Bar, options: BarChartOptions): void {
  checkObject(where, b, '{ label, value, group? }');
  checkKeys(`${where}: ${name}`, b, ['label', 'value', 'group']);
  if (typeof b.label !== 'string')
    throw new TypeError(`${where}: expected ${name}.label to be a string, got ${describe(b.label)}`);
  checkNumber(where, `${name}.value`, b.value, options.logY);
}

function checkNumber(where: string, name: string, v: number, positive = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new TypeError(
      `${where}: expected ${name} to be a finite number, got ${typeof v === 'number' ? v : describe(v)}`,
    );
  }
  if (positive && v <= 0) throw new RangeError(`${where}: expected ${name} > 0 on a log axis, got ${v}`);
}
