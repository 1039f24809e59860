/**
 * The safetensors format (Hugging Face's; PyTorch's `safetensors.torch.save_file`), read and
 * written here without a dependency: 8 bytes of little-endian header length N, N bytes of JSON
 * header `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }`,
 * then the raw little-endian data (offsets relative to its start).
 *
 * Read: `F32`, `F64`, `F16` and `BF16` (all as float32 values). Written: `F32`. Other dtypes,
 * offsets outside the data or overlapping, sizes that disagree with the shape, or a header of
 * more than 100 MB are refused, naming the tensor.
 */
import { describe, fmt, show, sizeOf } from '../check/index.js';

/** A tensor's shape and float32 values (a {@link StateDictEntry} of `pytorch.ts`). */
export interface SafetensorsEntry {
  shape: number[];
  data: Float32Array;
}

/** What a safetensors file holds. */
export interface Safetensors {
  tensors: Record<string, SafetensorsEntry>;
  /** The header's `__metadata__` (string to string; empty when absent). */
  metadata: Record<string, string>;
}

const MAX_HEADER = 100 * 1024 * 1024;
const BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };

/** IEEE half precision to a number. */
function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Reads the bytes of a `.safetensors` file. */
export function readSafetensors(bytes: Uint8Array): Safetensors {
  const where = 'readSafetensors';
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`${where}: expected the bytes of a .safetensors file (a Uint8Array), got ${describe(bytes)}`);
  if (bytes.length < 8) throw new Error(`${where}: expected at least 8 bytes (the header length), got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > bytes.length) {
    throw new Error(
      `${where}: the header length ${n} does not fit the file (${bytes.length} bytes; at most ${MAX_HEADER} of header)`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${where}: the header is not JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw new Error(`${where}: expected a JSON object header, got ${show(header)}`);
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, SafetensorsEntry> = {};
  const ranges: [number, number, string][] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as Record<string, string>;
      continue;
    }
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = (info ?? {}) as { dtype?: string; shape?: number[]; data_offsets?: number[] };
    const bytesPer = BYTES[dtype ?? ''];
    if (!bytesPer)
      throw new Error(
        `${where}: tensor '${name}' has dtype ${show(dtype)}; expected one of ${Object.keys(BYTES).join(', ')}`,
      );
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new Error(`${where}: tensor '${name}' has shape ${show(shape)}`);
    const [begin, end] = Array.isArray(offsets) ? offsets : [];
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > dataLength) {
      throw new Error(
        `${where}: tensor '${name}' has data_offsets ${show(offsets)} outside the ${dataLength} bytes of data`,
      );
    }
    if (end - begin !== sizeOf(shape) * bytesPer) {
      throw new Error(
        `${where}: tensor '${name}' of shape ${fmt(shape)} and dtype ${dtype} needs ${sizeOf(shape) * bytesPer} bytes, its offsets span ${end - begin}`,
      );
    }
    ranges.push([begin, end, name]);
    const at = dataStart + begin;
    const size = sizeOf(shape);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const o = at + i * bytesPer;
      data[i] =
        dtype === 'F32'
          ? view.getFloat32(o, true)
          : dtype === 'F64'
            ? view.getFloat64(o, true)
            : dtype === 'F16'
              ? half(view.getUint16(o, true))
              : new Float32Array(new Uint32Array([view.getUint16(o, true) << 16]).buffer)[0];
    }
    tensors[name] = { shape: [...shape], data };
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1])
      throw new Error(`${where}: tensors '${ranges[i - 1][2]}' and '${ranges[i][2]}' overlap in the data`);
  }
  return { tensors, metadata };
}

/**
 * The bytes of a `.safetensors` file holding `tensors` as `F32` (in the order given), with
 * `metadata` as its `__metadata__`.
 */
export function writeSafetensors(
  tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const where = 'writeSafetensors';
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (!t || !Array.isArray(t.shape) || t.data?.length !== sizeOf(t.shape)) {
      throw new Error(
        `${where}: tensor '${name}' needs { shape, data } with as many values as the shape holds, got ${describe(t)}`,
      );
    }
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20); // spaces: the data starts 8-byte aligned
  head.set(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of Object.values(tensors)) {
    for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i], true);
  }
  return out;
}
