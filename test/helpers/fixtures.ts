import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PyTorchReference } from '../../src/interop/reference.js';

/** `../shared/fixtures` beside the repository (PyTorch float64 references). */
export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'fixtures');

export type Fixture = PyTorchReference;
export { pyTorchKindOf as torchKind } from '../../src/interop/reference.js';

export const FIXTURE_NAMES = ['rnn-tanh', 'rnn-relu', 'lstm', 'gru'] as const;

export function loadFixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.json`), 'utf8')) as Fixture;
}
