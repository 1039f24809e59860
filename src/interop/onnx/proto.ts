/**
 * ONNX's protobuf messages, through the `onnx-proto` package (protobufjs), loaded on first use so
 * that nothing else pays for it; and tensors in and out of `TensorProto`.
 */
import * as tf from '@tensorflow/tfjs';
import type { onnx as Onnx } from 'onnx-proto';
import { lazyImport } from '../../lazy-import.js';

export type { Onnx };
/** The `onnx` namespace of `onnx-proto` (its message classes). */
export type OnnxProto = typeof Onnx;

let loaded: Promise<OnnxProto> | null = null;

/** `onnx-proto`'s messages; a clear error naming the package when it is not installed. */
export function onnxProto(where: string): Promise<OnnxProto> {
  loaded ??= lazyImport<{ onnx?: OnnxProto; default?: { onnx: OnnxProto } }>('onnx-proto').then(
    (m) => (m.onnx ?? m.default?.onnx) as OnnxProto,
    (err: Error) => {
      loaded = null;
      throw new Error(
        `${where}: ONNX files need the optional package onnx-proto (npm install onnx-proto): ${err.message}`,
      );
    },
  );
  return loaded;
}

/** TensorProto.DataType codes used here. */
export const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const DOUBLE = 11;

/** An int64 field (a protobufjs Long, a number or a string) as a number. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  throw new TypeError(`expected an integer field, got ${String(v)}`);
}

/** The values of a TensorProto; float, double, int32 and int64 only (others are refused, naming the type). */
export function tensorProtoValues(
  where: string,
  t: Onnx.ITensorProto,
): { shape: number[]; values: Float64Array; isFloat: boolean } {
  const shape = (t.dims ?? []).map(toNumber);
  const size = shape.reduce((a, b) => a * b, 1);
  const name = t.name ? `'${t.name}'` : 'a constant';
  if (t.dataLocation === 1) throw new Error(`${where}: tensor ${name} is stored outside the file (external data)`);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const values = new Float64Array(size);
  const type = t.dataType ?? 0;
  const bytes = { [FLOAT]: 4, [INT32]: 4, [INT64]: 8, [DOUBLE]: 8 }[type];
  if (bytes === undefined)
    throw new Error(`${where}: tensor ${name} has ONNX data type ${type}; expected float, double, int32 or int64`);
  if (view) {
    if (view.byteLength !== size * bytes) {
      throw new RangeError(
        `${where}: tensor ${name} of shape [${shape.join(', ')}] holds ${view.byteLength} bytes, expected ${size * bytes}`,
      );
    }
    for (let i = 0; i < size; i++) {
      const at = i * bytes;
      values[i] =
        type === FLOAT
          ? view.getFloat32(at, true)
          : type === DOUBLE
            ? view.getFloat64(at, true)
            : type === INT32
              ? view.getInt32(at, true)
              : Number(view.getBigInt64(at, true));
    }
  } else {
    const list: ArrayLike<unknown> =
      type === FLOAT
        ? (t.floatData ?? [])
        : type === DOUBLE
          ? (t.doubleData ?? [])
          : type === INT32
            ? (t.int32Data ?? [])
            : (t.int64Data ?? []);
    if (list.length !== size) {
      throw new RangeError(
        `${where}: tensor ${name} of shape [${shape.join(', ')}] holds ${list.length} values, expected ${size}`,
      );
    }
    for (let i = 0; i < size; i++) values[i] = toNumber(list[i]);
  }
  return { shape, values, isFloat: type === FLOAT || type === DOUBLE };
}

/**
 * The values of a TensorProto as a tensor: float and double as float32, int32 and int64 as
 * int32 (shapes and indices).
 */
export function fromTensorProto(where: string, t: Onnx.ITensorProto): tf.Tensor {
  const { shape, values, isFloat } = tensorProtoValues(where, t);
  return tf.tensor(isFloat ? Float32Array.from(values) : Int32Array.from(values), shape, isFloat ? 'float32' : 'int32');
}

/** A float32 TensorProto of `values` and `shape`, little-endian raw data. */
export function floatTensorProto(name: string, shape: readonly number[], values: Float32Array): Onnx.ITensorProto {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims: [...shape], dataType: FLOAT, rawData: raw };
}

/** An int64 TensorProto (shapes, axes, permutations). */
export function int64TensorProto(name: string, values: readonly number[]): Onnx.ITensorProto {
  return { name, dims: [values.length], dataType: INT64, int64Data: [...values] };
}
