import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PyTorchReference } from '../../src/interop/reference.js';

/** `fixtures/pytorch` in the repository: the PyTorch float64 references (`scripts/pytorch-fixtures.py`). */
export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'pytorch');

export type Fixture = PyTorchReference;
export { pyTorchKindOf as torchKind } from '../../src/interop/reference.js';

export const FIXTURE_NAMES = ['rnn-tanh', 'rnn-relu', 'lstm', 'gru'] as const;

export function loadFixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.json`), 'utf8')) as Fixture;
}
