/** Backends: start one and check it really runs, list those usable here, compare them. */
export { use, available } from './use.js';
export { compare, type CompareOptions, type CompareRow } from './compare.js';
export { benchmark, BENCHMARK_DEFAULTS, type BenchmarkOptions } from './benchmark.js';
export { kernelThreads, setKernelThreads } from './threads.js';
