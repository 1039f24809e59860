/**
 * `tfjs-recurrent/plot`: the charts of the notebooks, the command line's reports and the
 * benchmarks, as SVG markup (Observable Plot; in Node it draws into a jsdom document). A separate
 * entry point, so that importing the library itself loads neither Plot nor jsdom.
 */
export {
  lineChart,
  barChart,
  formatValue,
  PALETTE,
  type ChartOptions,
  type LineChartOptions,
  type BarChartOptions,
  type Series,
  type Bar,
} from './charts.js';
