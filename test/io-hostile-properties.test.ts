// Issue 18, a property over hostile files: any one mutation of a saved model.json or of its
// weights file (a field deleted or replaced by odd JSON, an array entry duplicated, bytes flipped,
// truncated or appended, NaN/Inf written) loads to exactly the saved numbers or is refused with an
// Error that names the file or the field; a load never hangs and never yields a non-finite weight.
// Fixed seed; `FC_RUNS=5000 npx mocha test/io-hostile-properties.test.ts` runs longer.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import fc from 'fast-check';
import * as rt from '../src/index.js';
import { bitwiseEqual } from './helpers/property.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/** Every path to a value inside `json` (the root excluded). */
function paths(json: Json, prefix: Path = []): Path[] {
  if (json === null || typeof json !== 'object') return [];
  const keys: (string | number)[] = Array.isArray(json) ? json.map((_, i) => i) : Object.keys(json);
  return keys.flatMap((k) => {
    const p = [...prefix, k];
    return [p, ...paths((json as Record<string | number, Json>)[k], p)];
  });
}

function parentOf(json: Json, path: Path): Record<string | number, Json> {
  let at = json as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, Json>;
  return at;
}

const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, 0, -1, 0.5, 1e9, 1e300, '', '1', 'NaN', '__proto__', 'constructor', [], {}, [
    [[[]]],
  ]),
  fc.constantFrom<Json>('float32', 'int32', 'float16', 'uint8', [0], [1, 1], [65536, 65536], ['./weights.bin']),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: oddValue }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    kind: fc.constant('nonFinite' as const),
    at: fc.nat(),
    value: fc.constantFrom(NaN, Infinity, -Infinity),
    dropChecksum: fc.boolean(),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

describe('properties: hostile mutations of a saved model', () => {
  let base: string;
  let dir: string;
  let net: rt.RecurrentNetwork;
  let json: Json;
  let weights: Buffer;

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'rt-io-props-'));
    dir = join(base, 'model');
    mkdirSync(dir);
    net = rt.network({ cell: 'gru', inputSize: 2, units: 3, outputSize: 2, seed: 11 });
    await net.save(`file://${dir}`);
    json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    weights = readFileSync(join(dir, 'weights.bin'));
  });
  after(() => {
    net.dispose();
    rmSync(base, { recursive: true, force: true });
  });

  /** Writes the mutated files; returns whether the saved numbers are still what a load must give. */
  function apply(m: Mutation): void {
    const j = structuredClone(json) as Json;
    const w = Buffer.from(weights);
    let bytes = w;
    const all = paths(j);
    if (m.kind === 'delete' || m.kind === 'replace' || m.kind === 'duplicate') {
      const path = all[m.at % all.length];
      const parent = parentOf(j, path);
      const key = path[path.length - 1];
      if (m.kind === 'replace') parent[key] = m.value;
      else if (Array.isArray(parent)) {
        if (m.kind === 'delete') parent.splice(key as number, 1);
        else parent.splice(key as number, 0, structuredClone(parent[key as number]));
      } else if (m.kind === 'delete') delete parent[key];
      else parent[key] = [parent[key], parent[key]];
    } else if (m.kind === 'flip') w[m.at % w.length] ^= m.bits;
    else if (m.kind === 'truncate') bytes = w.subarray(0, m.at % w.length);
    else if (m.kind === 'append') bytes = Buffer.concat([w, Buffer.alloc(m.bytes, 7)]);
    else {
      w.writeFloatLE(m.value, 4 * (m.at % (w.length / 4)));
      if (m.dropChecksum) delete (j as Record<string, Json>).weightsCrc32;
    }
    writeFileSync(join(dir, 'model.json'), JSON.stringify(j));
    writeFileSync(join(dir, 'weights.bin'), bytes);
  }

  it('load the saved numbers or throw an Error naming the file or field; never hang, never non-finite', async function () {
    const runs = Number(process.env.FC_RUNS ?? 200);
    this.timeout(Math.max(60_000, runs * 500));
    const outcomes = { loaded: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        apply(m);
        let timer: NodeJS.Timeout | undefined;
        const hang = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('HUNG')), 5000);
        });
        const before = tf.memory().numTensors;
        try {
          const back = await Promise.race([rt.loadNetwork(`file://${dir}`), hang]);
          try {
            for (const [k, v] of Object.entries(back.params)) {
              const values = v.dataSync();
              expect(values.every(Number.isFinite), `${k} finite`).to.equal(true);
            }
            // Numbers may only differ when the weights were changed and the checksum dropped.
            const checked = !(m.kind === 'nonFinite' && m.dropChecksum);
            if (checked) {
              for (const [k, v] of Object.entries(net.params))
                expect(bitwiseEqual(back.params[k], v), k).to.equal(true);
            }
            outcomes.loaded += 1;
          } finally {
            back.dispose();
          }
        } catch (e) {
          expect(e, String(e)).to.be.instanceOf(Error);
          const message = (e as Error).message;
          expect(message).to.not.equal('HUNG');
          expect(message, message).to.match(/model\.json|weights|loadNetwork\(|weight |modelTopology|config/);
          expect(message, message).to.not.match(/Cannot read properties of|is not a function|is not iterable/);
          outcomes.refused += 1;
        } finally {
          clearTimeout(timer);
        }
        expect(tf.memory().numTensors, 'tensors left').to.equal(before);
      }),
      { seed: 18, numRuns: runs },
    );
    expect(outcomes.loaded).to.be.above(0);
    expect(outcomes.refused).to.be.above(0);
  });
});
