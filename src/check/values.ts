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
    throw new RangeError(`${where}: expected ${name} to be a positive integer, got ${show(value)}`);
  }
  return value;
}

/** A seed: any finite number (an optional seed is checked only when given). */
export function checkSeed(where: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${where}: expected seed to be a finite number, got ${show(value)}`);
  }
  return value;
}

/** A flag: `true` or `false` (an optional flag is checked only when given). */
export function checkBoolean(where: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${where}: expected ${name} to be true or false, got ${show(value)}`);
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
      `${where}: expected ${name} to be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(value)}`,
    );
  }
  return value as T;
}

/**
 * A value as a message prints it: numbers as JavaScript writes them (`NaN`, `Infinity`, `-0`
 * stays `0`), strings quoted (`"1"`, so that the string is told from the number), `undefined`,
 * `null`, arrays and plain objects in JSON-like form (shortened past `max` characters) and
 * anything else by its kind (`a function`, `an object (Map)`).
 */
export function show(value: unknown, max = 80): string {
  const text = showValue(value, 0);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function showValue(value: unknown, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'number':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
  }
  if (depth > 2) return Array.isArray(value) ? '[…]' : '{…}';
  if (Array.isArray(value)) return `[${value.map((v) => showValue(v, depth + 1)).join(', ')}]`;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null) {
    return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  }
  const entries = Object.entries(value as object).map(([k, v]) => `${JSON.stringify(k)}: ${showValue(v, depth + 1)}`);
  return `{${entries.join(', ')}}`;
}

/** A short description of a value for error messages (`an array of length 3`, `string "x"`, `number NaN`). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${show(value)}`;
}

/**
 * The shape of a nested array of finite numbers (`[[1, 2], [3, 4]]` is `[2, 2]`), refusing a
 * ragged one (rows of different lengths, which tf.tensor would silently misread when the total
 * count happens to match) and entries that are not finite numbers. A plain number is shape `[]`.
 */
export function checkNested(where: string, name: string, value: unknown): number[] {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const walk = (v: unknown, depth: number, at: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new TypeError(`${where}: expected ${name}${at} to be a finite number, got ${show(v)}`);
      }
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      const got = Array.isArray(v) ? `${v.length} entries` : show(v);
      throw new RangeError(
        `${where}: expected ${name} to be a rectangular array of shape ${fmt(shape)} (the lengths of its ` +
          `first entries), but ${name}${at} has ${got} where ${shape[depth]} entries were expected (a ragged array)`,
      );
    }
    v.forEach((e, i) => walk(e, depth + 1, `${at}[${i}]`));
  };
  walk(value, 0, '');
  return shape;
}

/** The number of entries of a shape: its product (1 for `[]`). */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** An option refused because it does not apply where it was given (instead of being ignored). */
export function inapplicable(where: string, option: string, value: unknown, reason: string): Error {
  return new Error(`${where}: ${option} does not apply ${reason}; got ${option}: ${show(value)}`);
}

/** Below this a temperature's division overflows float32 logits (1e-300 gives NaN probabilities). */
export const MIN_TEMPERATURE = 1e-3;

/**
 * A sampling temperature: `0` (always the likeliest choice, argmax), or a finite number of at
 * least {@link MIN_TEMPERATURE}.
 */
export function checkTemperature(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (value !== 0 && value < MIN_TEMPERATURE)) {
    throw new RangeError(
      `${where}: expected ${name} to be 0 (always the likeliest character) or a finite number of at least ` +
        `${MIN_TEMPERATURE} (below it logits / temperature overflow), got ${show(value)}`,
    );
  }
  return value;
}

/** What the labels of a loss must hold (checked on their values before training). */
export type LabelKind = 'probabilities' | 'classes' | 'any';

/** How far a row of probability labels may sum from 1. */
export const LABEL_SUM_TOLERANCE = 1e-3;

/** The message for labels that break their loss's contract. */
export function labelsMessage(where: string, kind: LabelKind, classes: number, name: string, at: string): string {
  const what =
    kind === 'classes'
      ? `sparse labels (sparseSoftmaxCrossEntropy) to be integers in [0, ${classes})`
      : `labels of softmaxCrossEntropy to be probabilities (every entry >= 0, every row summing to 1 ` +
        `within ${LABEL_SUM_TOLERANCE}; for class indices use sparseSoftmaxCrossEntropy)`;
  return `${where}: expected ${what}, got others in ${name}${at}`;
}

/** The message for a non-finite entry in an input. */
export function nonFiniteMessage(where: string, name: string, at: string): string {
  return `${where}: non-finite value (NaN or Infinity) in ${name}${at}; expected finite numbers`;
}

/** The message for a model, cell or tensor used after `dispose()`. */
export function disposedMessage(where: string, what: string): string {
  return `${where}: ${what} has been disposed (its parameters were freed by dispose()); build a new one`;
}
