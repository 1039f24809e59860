/** Saving and loading: networks through any tf.io handler, and a safe `file://` handler for Node. */
export { saveNetwork, loadNetwork, networkArtifacts, networkFromArtifacts, NETWORK_FORMAT } from './network-io.js';
export { fileHandler, atomicWrite, fsyncDir, registerFileRouter } from './file.js';
