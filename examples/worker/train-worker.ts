/**
 * The worker's script: it trains what the page sends (`rt.worker.serve`). Bundle it as its own
 * entry (see README.md). The backend comes from the script's URL (`train-worker.js?backend=wasm`,
 * default cpu); the WASM backend's `.wasm` files are served from `/wasm/`.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as rt from 'tfjs-recurrent';

setWasmPaths('/wasm/');
rt.worker.serve({ backend: new URL(self.location.href).searchParams.get('backend') ?? 'cpu' });
