/**
 * The few HDF5 reads the Keras loader needs, through the optional package `h5wasm` (the HDF5 C
 * library compiled to WebAssembly), loaded on first use: the file's bytes go to h5wasm's
 * in-memory file system, so this works the same in Node and in browsers.
 */
import { lazyImport } from '../lazy-import.js';

/** What we use of an h5wasm group or dataset. */
interface H5Entity {
  attrs: Record<string, { value: unknown } | undefined>;
  keys?(): string[];
  shape?: number[] | null;
  value?: unknown;
  dtype?: unknown;
}
interface H5File extends H5Entity {
  get(path: string): H5Entity | null;
  close(): void;
}
interface H5Module {
  ready: Promise<{ FS: { writeFile(path: string, data: Uint8Array): void; unlink(path: string): void } }>;
  File: new (path: string, mode: string) => H5File;
}

let module_: Promise<H5Module> | null = null;
let files = 0;

function h5wasm(where: string): Promise<H5Module> {
  module_ ??= lazyImport<H5Module & { default?: H5Module }>('h5wasm').then(
    (m) => m.default ?? m,
    (err: Error) => {
      module_ = null;
      throw new Error(
        `${where}: HDF5 files (.h5, .keras) need the optional package h5wasm (npm install h5wasm): ${err.message}`,
      );
    },
  );
  return module_;
}

/** A float dataset's shape and values. */
export interface H5Array {
  shape: number[];
  values: Float32Array;
}

/** An HDF5 file opened from bytes: attributes, member names and float datasets by path. */
export interface H5Reader {
  /** An attribute of the object at `path` (`'/'` for the file), strings decoded; `undefined` when absent. */
  attr(path: string, name: string): unknown;
  /** The names in the group at `path`, or `null` when there is no such group. */
  keys(path: string): string[] | null;
  /** The float dataset at `path`, or `null` when there is none. */
  array(path: string): H5Array | null;
  close(): void;
}

/** Opens the bytes of an HDF5 file. */
export async function openHdf5(where: string, bytes: Uint8Array): Promise<H5Reader> {
  const h5 = await h5wasm(where);
  const { FS } = await h5.ready;
  const path = `/tfjs-recurrent-${++files}.h5`;
  FS.writeFile(path, bytes);
  let file: H5File;
  try {
    file = new h5.File(path, 'r');
  } catch (err) {
    FS.unlink(path);
    throw new Error(`${where}: the bytes are not a readable HDF5 file (${(err as Error).message})`);
  }
  const get = (p: string) => (p === '/' ? file : file.get(p));
  return {
    attr(p, name) {
      const v = get(p)?.attrs?.[name]?.value;
      if (v instanceof Uint8Array) return new TextDecoder().decode(v);
      return v;
    },
    keys(p) {
      const g = get(p);
      return g && typeof g.keys === 'function' ? g.keys() : null;
    },
    array(p) {
      const d = get(p);
      if (!d || !Array.isArray(d.shape)) return null;
      const v = d.value;
      if (!(v instanceof Float32Array || v instanceof Float64Array)) {
        throw new Error(`${where}: dataset ${p} holds ${String(d.dtype)} values, expected floats`);
      }
      return { shape: d.shape, values: Float32Array.from(v) };
    },
    close() {
      file.close();
      FS.unlink(path);
    },
  };
}
