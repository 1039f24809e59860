/** The results as markdown tables, ready for the README. */
import type { BrainReport } from './brain.js';
import type { CompareRow } from './compare.js';
import type { MemoryReport } from './memory.js';
import type { StreamRow } from './stream.js';

export interface BenchResults {
  command: string;
  date: string;
  node: string;
  cpus: string;
  compare: CompareRow[];
  /** The build of our whole-sequence kernels that ran (`src/fast/wasm/module.ts`), or null where none did. */
  wasmKernels: string | null;
  /** The threads those kernels ran on (`rt.backends.kernelThreads()`). */
  kernelThreads: number;
  /** The torch version of the PyTorch columns, or null where none ran. */
  torch: string | null;
  stream: StreamRow[];
  /** The GL renderer of the WebGL rows (SwiftShader on a machine without a GPU). */
  webglRenderer?: string;
  memory: MemoryReport[];
  brain: BrainReport | null;
}

const f = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const x = (v: number) => (Number.isFinite(v) ? `${f(v, 1)}x` : '–');

/** ours / PyTorch in wall-clock time (in CPU time). */
const ratio = (wall: Record<string, number>, cpu: Record<string, number>) =>
  `${x(wall.ours / wall.pytorch)} (${x(cpu.ours / cpu.pytorch)})`;

function table(head: string[], rows: string[][]): string {
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Markdown for every section that ran. */
export function markdown(r: BenchResults): string {
  const out: string[] = [];
  const c0 = r.compare[0];
  if (c0) {
    const s = c0.sizes;
    const plain = 'oursPlain' in c0.trainMs;
    const one = r.compare.some((c) => 'oursOneThread' in c.trainMs);
    const threads = r.kernelThreads > 1 ? ` on ${r.kernelThreads} threads` : '';
    const torch = 'pytorch' in c0.trainMs;
    out.push(
      `Training step (forward, backward, Adam update) and forward pass, batch ${s.batch}, ${s.time} steps, ` +
        `${s.input} inputs, ${s.units} units, ${s.output} output per step, mean squared error at every step. ` +
        `Medians of ${r.compare
          .map((c) => c.rounds)
          .filter((v, i, a) => a.indexOf(v) === i)
          .join('/')} ` +
        `alternated runs in one process. tf.layers: \`tf.layers.simpleRNN/lstm/gru\` (sigmoid gates, ` +
        `glorotUniform) + dense, \`model.trainOnBatch\`; ours: \`rt.network\`, \`tf.variableGrads\` over ` +
        `\`rt.unroll\`, the loss and Adam as \`rt.train\` computes them` +
        (r.wasmKernels
          ? ` (cpu and wasm: our whole-sequence kernels, WebAssembly ${r.wasmKernels}${threads}` +
            (one ? '; "1 thread": the same on one thread, tfjs-wasm\'s own ops run on one in Node).' : ').')
          : '.') +
        (torch
          ? ` PyTorch ${r.torch}: \`nn.RNN/LSTM/GRU\` + \`nn.Linear\`, Adam, \`torch.set_num_threads(1)\`, ` +
            'its runs alternated with ours (times measured in Python).'
          : ''),
      '',
      table(
        [
          'backend',
          'cell',
          'train ms: tf.layers',
          'ours',
          ...(one ? ['ours, 1 thread'] : []),
          ...(plain ? ['ours, plain graph'] : []),
          'speedup (CPU time)',
          ...(torch ? ['PyTorch 1 thread, ms (CPU ms): ours / PyTorch'] : []),
          'forward ms: tf.layers',
          'ours',
          ...(one ? ['ours, 1 thread'] : []),
          'speedup (CPU time)',
          ...(torch ? ['PyTorch 1 thread, ms (CPU ms)'] : []),
          'kernels/step train (tf.layers → ours)',
          'forward',
          'peak MB train (tf.layers → ours)',
          'GFLOP/s train: ours (512² matMul)',
          'ours / FLOP bound',
        ],
        r.compare.map((c) => [
          c.backend,
          c.cell,
          f(c.trainMs.tfLayers),
          f(c.trainMs.ours),
          ...(one ? [f(c.trainMs.oursOneThread)] : []),
          ...(plain ? [f(c.trainMs.oursPlain)] : []),
          `**${x(c.trainSpeedup)}** (${x(c.trainCpuSpeedup)})`,
          ...(torch ? [`${f(c.trainMs.pytorch)} (${f(c.trainCpuMs.pytorch)}): ${ratio(c.trainMs, c.trainCpuMs)}`] : []),
          f(c.forwardMs.tfLayers, 1),
          f(c.forwardMs.ours, 1),
          ...(one ? [f(c.forwardMs.oursOneThread, 1)] : []),
          `**${x(c.forwardSpeedup)}** (${x(c.forwardCpuSpeedup)})`,
          ...(torch ? [`${f(c.forwardMs.pytorch, 1)} (${f(c.forwardCpuMs.pytorch, 1)})`] : []),
          `${f(c.trainKernelsPerStep.tfLayers, 1)} → ${f(c.trainKernelsPerStep.ours, 1)}`,
          `${f(c.forwardKernelsPerStep.tfLayers, 1)} → ${f(c.forwardKernelsPerStep.ours, 1)}`,
          `${f(c.trainPeakMB.tfLayers, 1)} → ${f(c.trainPeakMB.ours, 1)}`,
          `${f(c.trainGflops.ours, 2)} (${f(c.matMulGflops, 2)})`,
          x(c.oursOverFlopBound),
        ]),
      ),
    );
  }
  if (r.stream.length) {
    const torch = 'pytorch' in r.stream[0].us;
    out.push(
      '',
      'Streaming, batch 1, 1 input, 1 output: microseconds per time step, wall-clock (CPU time) (medians of ' +
        `${r.stream[0].rounds} alternated rounds of ${r.stream[0].steps.stepper} steps). ours: \`net.stepper()\` ` +
        '(`step(x_t)` → `y_t`); without it: `net.apply` on a one-step sequence, the state carried' +
        (torch ? '; PyTorch: its cell + `nn.Linear`, one thread, no gradients.' : '.'),
      '',
      table(
        [
          'backend',
          'cell',
          'units',
          'ours: net.stepper µs (CPU µs)',
          'net.apply per step',
          ...(torch ? ['PyTorch'] : []),
        ],
        r.stream.map((s) => {
          const us = (k: string, digits = 1) => `${f(s.us[k], digits)} (${f(s.cpuUs[k], digits)})`;
          return [
            s.backend,
            s.cell,
            String(s.units),
            `**${us('stepper')}**`,
            us('apply', 0),
            ...(torch ? [us('pytorch')] : []),
          ];
        }),
      ),
    );
  }
  for (const m of r.memory) {
    out.push(
      '',
      `Memory through \`rt.train\` (${m.backend}, LSTM, batch ${m.sizes.batch}, ${m.sizes.units} units): peak ` +
        `MB of one epoch (tensors and our kernels' own memory), truncated BPTT (\`bptt: { truncate: ${m.truncate} }\`) against full BPTT; ` +
        `\`tf.memory().numTensors\` grew by ${m.tensorGrowth} over ${m.steps} optimizer steps.`,
      '',
      table(
        ['sequence length', 'truncated BPTT peak MB', 'full BPTT peak MB'],
        m.peakMB.map((p) => [String(p.time), f(p.truncated, 2), f(p.full, 2)]),
      ),
    );
  }
  if (r.brain) {
    const b = r.brain;
    out.push(
      '',
      `Task level against brain.js: ${b.task}; training time until MSE ≤ ${b.targetMse} (budget ${b.budgetS} s, ` +
        `evaluation not counted). brain.js with its defaults (online updates); ours with \`rt.train\`, ${b.recipe}.`,
      '',
      table(
        ['task', 'model', 'backend', 'seconds to target', 'CPU seconds', 'final MSE', 'passes over the data'],
        b.rows.map((row) => [
          `${row.task.sequences} sequences x ${row.task.length} steps, ${row.task.units} units`,
          row.who,
          row.backend ?? 'JavaScript',
          row.seconds === null ? `not reached in ${f(row.trainedS, 1)}` : f(row.seconds, 2),
          f(row.trainedCpuS, 2),
          row.finalMse.toExponential(2),
          String(row.passes),
        ]),
      ),
    );
  }
  const gl = r.webglRenderer ? `, WebGL: ${r.webglRenderer}` : '';
  out.push('', `Command: \`${r.command}\` (${r.date}, Node ${r.node}, ${r.cpus}${gl}).`);
  return out.join('\n');
}
