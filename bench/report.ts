/** The results as markdown tables, ready for the README. */
import type { BrainReport } from './brain.js';
import type { CompareRow } from './compare.js';
import type { MemoryReport } from './memory.js';

export interface BenchResults {
  command: string;
  date: string;
  node: string;
  cpus: string;
  compare: CompareRow[];
  /** The GL renderer of the WebGL rows (SwiftShader on a machine without a GPU). */
  webglRenderer?: string;
  memory: MemoryReport[];
  brain: BrainReport | null;
}

const f = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const x = (v: number) => (Number.isFinite(v) ? `${f(v, 1)}x` : '–');

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
    out.push(
      `Training step (forward, backward, Adam update) and forward pass, batch ${s.batch}, ${s.time} steps, ` +
        `${s.input} inputs, ${s.units} units, ${s.output} output per step, mean squared error at every step. ` +
        `Medians of ${r.compare
          .map((c) => c.rounds)
          .filter((v, i, a) => a.indexOf(v) === i)
          .join('/')} ` +
        `alternated runs in one process. tf.layers: \`tf.layers.simpleRNN/lstm/gru\` (sigmoid gates, ` +
        `glorotUniform) + dense, \`model.trainOnBatch\`; ours: \`rt.network\`, \`tf.variableGrads\` over ` +
        `\`rt.unroll\`, Adam.`,
      '',
      table(
        [
          'backend',
          'cell',
          'train ms: tf.layers',
          'ours',
          ...(plain ? ['ours, plain graph'] : []),
          'speedup (CPU time)',
          'forward ms: tf.layers',
          'ours',
          'speedup (CPU time)',
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
          ...(plain ? [f(c.trainMs.oursPlain)] : []),
          `**${x(c.trainSpeedup)}** (${x(c.trainCpuSpeedup)})`,
          f(c.forwardMs.tfLayers, 1),
          f(c.forwardMs.ours, 1),
          `**${x(c.forwardSpeedup)}** (${x(c.forwardCpuSpeedup)})`,
          `${f(c.trainKernelsPerStep.tfLayers, 1)} → ${f(c.trainKernelsPerStep.ours, 1)}`,
          `${f(c.forwardKernelsPerStep.tfLayers, 1)} → ${f(c.forwardKernelsPerStep.ours, 1)}`,
          `${f(c.trainPeakMB.tfLayers, 1)} → ${f(c.trainPeakMB.ours, 1)}`,
          `${f(c.trainGflops.ours, 2)} (${f(c.matMulGflops, 2)})`,
          x(c.oursOverFlopBound),
        ]),
      ),
    );
  }
  for (const m of r.memory) {
    out.push(
      '',
      `Memory through \`rt.train\` (${m.backend}, LSTM, batch ${m.sizes.batch}, ${m.sizes.units} units): peak ` +
        `tensor MB of one epoch, truncated BPTT (\`bptt: { truncate: ${m.truncate} }\`) against full BPTT; ` +
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
        'evaluation not counted). brain.js with its defaults (online updates); ours with `rt.train`, Adam 0.02, ' +
        'shuffled minibatches of 32.',
      '',
      table(
        ['task', 'model', 'backend', 'seconds to target', 'final MSE', 'passes over the data'],
        b.rows.map((row) => [
          `${row.task.sequences} sequences x ${row.task.length} steps, ${row.task.units} units`,
          row.who,
          row.backend ?? 'JavaScript',
          row.seconds === null ? `not reached in ${f(row.trainedS, 1)}` : f(row.seconds, 2),
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
