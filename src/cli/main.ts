/**
 * `tfjs-recurrent <command>`: the command line, a leaf over the library. Each command lives in
 * its own file and registers itself on the program.
 */
import { Command } from 'commander';
import { registerBench } from './bench.js';
import { registerDemo } from './demo.js';
import { registerParity } from './parity.js';
import { registerSample } from './sample.js';
import { registerTrain } from './train.js';

const program = new Command('tfjs-recurrent')
  .description('Recurrent neural networks for TensorFlow.js: the Elman RNN, LSTM and GRU, trained with explicit BPTT')
  .showHelpAfterError();

for (const register of [registerDemo, registerTrain, registerSample, registerBench, registerParity]) register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`tfjs-recurrent: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
