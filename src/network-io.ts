/**
 * Saving and loading, the `rt.io` namespace: networks through any tf.io handler or URL, and a
 * safe `file://` handler for Node. `io/` reads and writes a network's configuration and
 * parameters; this face, above `io/` and `network.ts`, turns what it reads into a
 * {@link RecurrentNetwork}.
 */
import * as tf from '@tensorflow/tfjs';
import { pyTorchNetworkParts, type FromPyTorchNetworkOptions, type StateDict } from './interop/pytorch.js';
import { loadSavedNetwork, savedNetworkFromArtifacts, type SavedNetwork } from './io/artifacts.js';
import { networkFromSaved, type RecurrentNetwork } from './network.js';

export { saveNetwork, networkArtifacts, NETWORK_FORMAT } from './io/artifacts.js';
export { fileHandler, atomicWrite, fsyncDir, registerFileRouter } from './io/file.js';

/** Loads a network saved with `net.save` from a handler or URL. */
export async function loadNetwork(handlerOrUrl: string | tf.io.IOHandler): Promise<RecurrentNetwork> {
  const source = typeof handlerOrUrl === 'string' ? handlerOrUrl : 'handler';
  return build(await loadSavedNetwork(handlerOrUrl), source);
}

/** Rebuilds a network from artifacts, refusing anything that is not exactly one of ours. */
export function networkFromArtifacts(artifacts: tf.io.ModelArtifacts, source = 'artifacts'): RecurrentNetwork {
  return build(savedNetworkFromArtifacts(artifacts, source), source);
}

/** The network of a checked saved form; a configuration the cells refuse is named as the file's. */
function build(saved: SavedNetwork, source: string): RecurrentNetwork {
  try {
    return networkFromSaved(saved);
  } catch (err) {
    tf.dispose(Object.values(saved.params));
    throw new Error(`loadNetwork(${source}): modelTopology.config does not make a network: ${(err as Error).message}`);
  }
}

/**
 * The network a full PyTorch state dict holds: `nn.RNN`/`nn.LSTM`/`nn.GRU` with any
 * `num_layers`, `bidirectional`, `bias`, under a module prefix (`lstm.weight_ih_l0`), with an
 * optional `nn.Linear` head (`fc.weight`, `fc.bias` → `W_yh`, `b_y`; without one, `y_t = h_t`).
 * Keys it does not understand are an error naming them. Also `rt.interop.fromPyTorchNetwork`.
 *
 * ```ts
 * // python: sd = {k: v.tolist() for k, v in model.state_dict().items()}
 * const net = rt.interop.fromPyTorchNetwork(sd, { kind: 'lstm' });
 * ```
 */
export function fromPyTorchNetwork(stateDict: StateDict, options: FromPyTorchNetworkOptions): RecurrentNetwork {
  const saved = pyTorchNetworkParts(stateDict, options);
  try {
    return networkFromSaved(saved);
  } catch (err) {
    tf.dispose(Object.values(saved.params));
    throw err;
  }
}
