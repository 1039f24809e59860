/**
 * The DOM that Observable Plot draws into: the page's own `document` in a browser, a jsdom
 * document in Node. jsdom is imported lazily and only where there is no `document`, so browser
 * bundles never pull it in.
 */

import { optionalPeer } from '../lazy-import.js';

type JsdomModule = typeof import('jsdom');

let nodeDocument: Promise<Document> | undefined;

/** A document to render into: `globalThis.document` when there is one, else one jsdom window (made once). */
export function plotDocument(): Promise<Document> {
  if (typeof globalThis.document !== 'undefined') return Promise.resolve(globalThis.document);
  nodeDocument ??= optionalPeer<JsdomModule>('jsdom', 'charts in Node').then(
    ({ JSDOM }) => new JSDOM('<!DOCTYPE html><html><body></body></html>').window.document,
    (err: unknown) => {
      nodeDocument = undefined;
      throw err;
    },
  );
  return nodeDocument;
}

/** Serialises an SVG element as standalone SVG markup (with its `xmlns`). */
export function svgMarkup(svg: SVGSVGElement): string {
  const view = svg.ownerDocument.defaultView;
  if (!view) throw new Error('plot: the chart was drawn in a document without a window');
  return new view.XMLSerializer().serializeToString(svg);
}
