import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared/fixtures` beside the repository (PyTorch float64 references). */
export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'fixtures');

export interface Fixture {
  cell: 'rnn' | 'lstm' | 'gru';
  activation: 'tanh' | 'relu' | null;
  shapes: { batch: number; time: number; input: number; hidden: number };
  params: Record<string, number[] | number[][]>;
  x: number[][][];
  h0: number[][];
  c0?: number[][];
  R: number[][][];
  S: number[][];
  U?: number[][];
  outputs: number[][][];
  h_T: number[][];
  c_T?: number[][];
  loss_value: number;
  grads: Record<string, number[] | number[][]>;
  grad_x: number[][][];
  grad_h0: number[][];
  grad_c0?: number[][];
}

export const FIXTURE_NAMES = ['rnn-tanh', 'rnn-relu', 'lstm', 'gru'] as const;

export function loadFixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.json`), 'utf8')) as Fixture;
}

export function torchKind(f: Fixture): 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru' {
  return f.cell === 'rnn' ? (`rnn_${f.activation}` as 'rnn_tanh' | 'rnn_relu') : f.cell;
}
