/**
 * `rt.loadCheckpoint`: a checkpoint that `rt.train` wrote, opened as a network plus the trainer's
 * state. The files themselves are read and written by `io/checkpoint.ts`.
 */
import { readCheckpoint, type TrainerState } from '../io/checkpoint.js';
import { networkFromSaved, type RecurrentNetwork } from '../network.js';

/** A checkpoint as {@link loadCheckpoint} opens it. */
export interface Checkpoint extends TrainerState {
  /** The directory it was read from (`PATH`, or `PATH.previous` after an interrupted write). */
  directory: string;
  /** The network with the checkpoint's weights (new variables; dispose it when done). */
  network: RecurrentNetwork;
}

/**
 * Opens the latest complete checkpoint that `rt.train` wrote to `path` (a directory, or a
 * `file://` URL), whatever moment an interrupted write stopped at. Safe while a run is writing
 * checkpoints: a directory swapped during the read is read again. Node only.
 */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const { network, ...rest } = await readCheckpoint(path);
  return { ...rest, network: networkFromSaved(network) };
}
