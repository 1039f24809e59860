/**
 * `tfjs-recurrent <command>`: the command line, a leaf over the library. `commander` is an optional
 * peer dependency (the library itself does not need it): when it is missing, this says how to
 * install it before anything else is loaded.
 */
import { optionalPeer } from '../lazy-import.js';

try {
  await optionalPeer('commander', 'the command line');
} catch (err) {
  console.error(`tfjs-recurrent: ${(err as Error).message}`);
  process.exit(1);
}
const { run } = await import('./program.js');
await run(process.argv);
