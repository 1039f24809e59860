/**
 * A character-level language model on disk: the network (`model.json` + `weights.bin`, as
 * `net.save('file://DIR')` writes them) and its vocabulary (`vocab.json`), in one directory.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BOUNDARY, Vocabulary, type CharCorpus, type CorpusMode } from '../data/text.js';
import * as rt from '../index.js';
import { BIN, displayPath } from './command.js';

export const VOCAB_FILE = 'vocab.json';
const FORMAT = 'tfjs-recurrent/char-vocabulary';

/** What `vocab.json` holds. */
interface VocabFile {
  format: typeof FORMAT;
  version: 1;
  mode: CorpusMode;
  /** The character that ends an item in `lines` mode. */
  boundary: string;
  chars: string[];
}

/** A loaded model with its vocabulary. */
export interface CharModel {
  net: rt.RecurrentNetwork;
  vocabulary: Vocabulary;
  mode: CorpusMode;
}

/** Saves the network, then (atomically) its vocabulary, to `dir`. */
export async function saveCharModel(dir: string, net: rt.RecurrentNetwork, corpus: CharCorpus): Promise<void> {
  await net.save(`file://${resolve(dir)}`);
  const vocab: VocabFile = {
    format: FORMAT,
    version: 1,
    mode: corpus.mode,
    boundary: BOUNDARY,
    chars: [...corpus.vocabulary.chars],
  };
  await rt.io.atomicWrite(join(resolve(dir), VOCAB_FILE), `${JSON.stringify(vocab, null, 1)}\n`);
}

/** Loads what {@link saveCharModel} wrote, with errors that say what is missing and what to do. */
export async function loadCharModel(where: string, dir: string): Promise<CharModel> {
  const root = resolve(dir);
  const shown = displayPath(root);
  const isDir = await stat(root).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) {
    throw new Error(
      `${where}: ${shown} is not a directory; train a model first: ${BIN} train --text FILE --out ${dir}`,
    );
  }
  const text = await readFile(join(root, VOCAB_FILE), 'utf8').catch(() => null);
  if (text === null) {
    throw new Error(
      `${where}: ${shown} has no ${VOCAB_FILE}, so it is not a model made by \`${BIN} train\`; ` +
        `train one with: ${BIN} train --text FILE --out ${dir}`,
    );
  }
  const vocab = parseVocab(text);
  if (vocab === null) throw new Error(`${where}: ${join(shown, VOCAB_FILE)} is malformed; train the model again`);
  const net = await rt.loadNetwork(`file://${root}`);
  if (net.inputSize !== vocab.chars.length || net.outputSize !== vocab.chars.length) {
    const sizes = `${net.inputSize} inputs and ${net.outputSize} outputs`;
    net.dispose();
    throw new Error(
      `${where}: the network in ${shown} has ${sizes} but its vocabulary has ${vocab.chars.length} characters; ` +
        'train the model again',
    );
  }
  return { net, vocabulary: new Vocabulary(vocab.chars), mode: vocab.mode };
}

function parseVocab(text: string): VocabFile | null {
  let v: VocabFile;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const ok =
    v !== null &&
    typeof v === 'object' &&
    v.format === FORMAT &&
    (v.mode === 'lines' || v.mode === 'text') &&
    v.boundary === BOUNDARY &&
    Array.isArray(v.chars) &&
    v.chars.length > 0 &&
    v.chars.every((c) => typeof c === 'string' && c.length > 0) &&
    new Set(v.chars).size === v.chars.length;
  return ok ? v : null;
}
