/** The attributes of an ONNX node as plain values, and the refusal of those we cannot honour. */
import type { Onnx } from './proto.js';
import { toNumber } from './proto.js';

export type AttributeValue = number | string | number[] | string[] | Onnx.ITensorProto;

/** AttributeProto.AttributeType codes. */
const FLOAT = 1;
const INT = 2;
const STRING = 3;
const TENSOR = 4;
const FLOATS = 6;
const INTS = 7;
const STRINGS = 8;

/** A node's attributes by name; a graph-valued (or other unsupported) attribute is refused, naming it. */
export function attributesOf(where: string, node: Onnx.INodeProto): Map<string, AttributeValue> {
  const out = new Map<string, AttributeValue>();
  const text = (b: Uint8Array | null | undefined) => new TextDecoder().decode(b ?? new Uint8Array());
  for (const a of node.attribute ?? []) {
    const name = a.name ?? '';
    switch (a.type) {
      case FLOAT:
        out.set(name, a.f ?? 0);
        break;
      case INT:
        out.set(name, toNumber(a.i ?? 0));
        break;
      case STRING:
        out.set(name, text(a.s));
        break;
      case TENSOR:
        out.set(name, a.t ?? {});
        break;
      case FLOATS:
        out.set(name, [...(a.floats ?? [])]);
        break;
      case INTS:
        out.set(name, (a.ints ?? []).map(toNumber));
        break;
      case STRINGS:
        out.set(name, (a.strings ?? []).map(text));
        break;
      default:
        throw new Error(`${where}: attribute '${name}' has ONNX attribute type ${a.type}, which is not supported here`);
    }
  }
  return out;
}

/** Refuses the attributes of `node` that are not in `known`, naming them. */
export function checkAttributes(where: string, attrs: Map<string, AttributeValue>, known: readonly string[]): void {
  const unknown = [...attrs.keys()].filter((k) => !known.includes(k));
  if (unknown.length) {
    throw new Error(
      `${where}: attribute ${unknown.map((k) => `'${k}'`).join(', ')} is not supported here (supported: ${known.join(', ') || 'none'})`,
    );
  }
}
