/**
 * What every command of the command line shares: the way it reports a bad flag (one line that
 * says what to do), option parsers that refuse bad values, and the paths it resolves.
 */
import { access, constants, lstat, mkdir } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import * as rt from '../index.js';
import { optionalPeer } from '../lazy-import.js';

/** The name the command line is run by. */
export const BIN = 'tfjs-recurrent';

/**
 * A subcommand whose usage errors are one line ending in a pointer to its `--help`, e.g.
 * `tfjs-recurrent train: unknown option '--epoch' (see tfjs-recurrent train --help)`.
 */
export function command(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .showHelpAfterError(false)
    .configureOutput({
      outputError: (message, write) => write(`${BIN} ${name}: ${usageError(message)} (see ${BIN} ${name} --help)\n`),
    });
}

/** Commander's usage error as one line, without its `error: ` prefix. */
export function usageError(message: string): string {
  return message
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ');
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

/** A path in a virtual file system, where nothing the command line writes belongs. */
export const VIRTUAL = /^\/(proc|sys|dev)(\/|$)/;

/**
 * Checks, before any work, that the command can write `file` (given by `flag`): not in /proc,
 * /sys or /dev, not a directory, its directory existing (made with `makeDir`) and writable. With
 * `charts`, also that the optional packages that draw charts are installed.
 */
export async function checkWritable(
  where: string,
  flag: string,
  file: string,
  o: { what: string; charts: boolean; makeDir?: boolean },
): Promise<void> {
  const target = resolve(file);
  const refuse = (why: string) => new Error(`${where}: cannot write ${flag} ${file}: ${why}`);
  if (VIRTUAL.test(target)) throw refuse(`${target} is in a virtual file system; give a path on a disk`);
  if (o.makeDir) {
    await mkdir(dirname(target), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw refuse(`cannot make its directory (${err.code ?? err.message})`);
    });
  }
  const st = await lstat(target).catch(() => null);
  if (st?.isDirectory()) throw refuse(`it is a directory; expected a file for ${o.what}`);
  await access(dirname(target), constants.W_OK).catch((err: NodeJS.ErrnoException) => {
    throw refuse(`its directory ${dirname(target)} is not writable (${err.code ?? err.message})`);
  });
  if (o.charts) await chartPackages(where, flag);
}

/** Loads the optional packages that draw charts, or says which to install, naming `flag`. */
async function chartPackages(where: string, flag: string): Promise<void> {
  for (const name of ['@observablehq/plot', 'jsdom'] as const) {
    await optionalPeer(name, `charts (${where} ${flag})`);
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
