/**
 * What every command of the command line shares: the way it reports a bad flag (one line that
 * says what to do), option parsers that refuse bad values, and the paths it resolves.
 */
import { relative, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import * as rt from '../index.js';

/** The name the command line is run by. */
export const BIN = 'tfjs-recurrent';

/**
 * A subcommand whose usage errors are one line ending in a pointer to its `--help`, e.g.
 * `tfjs-recurrent train: error: unknown option '--epoch' (see tfjs-recurrent train --help)`.
 */
export function command(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .showHelpAfterError(false)
    .configureOutput({
      outputError: (message, write) =>
        write(`${BIN} ${name}: ${message.trim().replace(/\s*\n\s*/g, ' ')} (see ${BIN} ${name} --help)\n`),
    });
}

/** Parses a flag that must be a positive integer. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a positive integer.');
  }
  return n;
}

/** Parses a flag that must be an integer (a seed). */
export function integer(value: string): number {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer.');
  return n;
}

/** Parses a flag that must be a number > 0. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0.');
  return n;
}

/** Starts the backend a command asked for, or stops with the backends available here. */
export async function startBackend(where: string, name: string): Promise<void> {
  try {
    await rt.backends.use(name);
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message} (choose one with --backend)`);
  }
}

/** `path` as the user should see it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), resolve(path));
  return rel === '' ? '.' : rel.startsWith('..') ? resolve(path) : rel;
}

export { packageRoot } from '../backends/chromium.js';

/** Prints `value` as the last line of stdout (the `--json` output). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
