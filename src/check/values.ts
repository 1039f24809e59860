/**
 * Checks of plain option values (no tensors): the home of every such check and its message.
 * This file imports nothing, so leaves such as the plotting helper can use it without loading
 * TensorFlow.js; everything else imports the checks from `check/index.ts`.
 */

/** Formats a shape as `[2, 5, 7]`. */
export function fmt(shape: readonly (number | null | string)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}

/** A positive integer option such as `units` or `inputSize`. */
export function checkPositiveInt(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${where}: expected ${name} to be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A seed: any finite number (an optional seed is checked only when given). */
export function checkSeed(where: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${where}: expected seed to be a finite number, got ${String(value)}`);
  }
  return value;
}

/** A flag: `true` or `false` (an optional flag is checked only when given). */
export function checkBoolean(where: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${where}: expected ${name} to be true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Refuses option keys that are not in `known` (a misspelt option is otherwise silently ignored). */
export function checkKeys(where: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object') {
    throw new TypeError(`${where}: expected an options object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new Error(`${where}: unknown option '${key}'; expected one of ${known.join(', ')}`);
    }
  }
}

/** One of a fixed set of strings. */
export function checkOneOf<T extends string>(where: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new Error(
      `${where}: expected ${name} to be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

/** A short description of a value for error messages (`an array of length 3`, `string "x"`). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
