/**
 * The program of `tfjs-recurrent <command>`: each command lives in its own file and registers
 * itself here. Every error, a bad flag or a failure while running, is one line on stderr in one
 * style, `tfjs-recurrent <command>: <message>`, and exit code 1.
 */
import { Command } from 'commander';
import { registerBench } from './bench.js';
import { BIN, packageRoot, usageError } from './command.js';
import { registerDemo } from './demo.js';
import { registerParity } from './parity.js';
import { registerSample } from './sample.js';
import { registerTrain } from './train.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The version in the package's own package.json. */
function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** `tfjs-recurrent <command>: <message>`, with the command's own prefix of `message` not repeated. */
export function errorLine(commandName: string | null, message: string): string {
  const where = commandName ? `${BIN} ${commandName}` : BIN;
  const text = commandName && message.startsWith(`${commandName}: `) ? message.slice(commandName.length + 2) : message;
  return `${where}: ${text}`;
}

/** Runs the command line on `argv` (as `process.argv`). */
export async function run(argv: string[]): Promise<void> {
  let running: string | null = null;
  const program = new Command(BIN)
    .description('Recurrent neural networks for TensorFlow.js: the Elman RNN, LSTM and GRU, trained with explicit BPTT')
    .version(version(), '-V, --version', 'print the version of tfjs-recurrent')
    .showHelpAfterError(false)
    .configureOutput({ outputError: (message, write) => write(`${errorLine(null, usageError(message))}\n`) })
    .hook('preAction', (_program, action) => {
      running = action.name();
    });
  for (const register of [registerDemo, registerTrain, registerSample, registerBench, registerParity]) {
    register(program);
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    console.error(errorLine(running, err instanceof Error ? err.message : String(err)));
    process.exit(1);
  }
}
