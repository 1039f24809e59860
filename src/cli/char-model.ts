/**
 * A character-level language model on disk: the network (`model.json` + `weights.bin`, as
 * `net.save('file://DIR')` writes them) and its vocabulary (`vocab.json`), in one directory.
 *
 * The two change together: a save writes both into a fresh sibling directory and swaps it in
 * with renames (`io/swap.ts`), so a kill at any moment leaves the old pair or the new one. The
 * vocabulary is also stored in `model.json` (`userDefinedMetadata`), and loading refuses a
 * `vocab.json` that differs from it (permuted, edited, from another model); a model saved before
 * that is checked for what every vocabulary `train` writes is: distinct single characters in
 * sorted order, as many as the network's inputs and outputs.
 */
import { resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { BOUNDARY, Vocabulary, type CharCorpus, type CorpusMode } from '../data/text.js';
import * as rt from '../index.js';
import { MAX_JSON_BYTES, mkdirFailure, parseJson, readRegularText } from '../io/file.js';
import { acquireLock } from '../io/lock.js';
import { currentDirectory, freshPartial, swapIn } from '../io/swap.js';
import { BIN, displayPath, VIRTUAL } from './command.js';
import { show } from '../check/index.js';

export const VOCAB_FILE = 'vocab.json';
const FORMAT = 'tfjs-recurrent/char-vocabulary';
/** The key of the vocabulary in `model.json`'s `userDefinedMetadata`. */
const METADATA_KEY = 'tfjs-recurrent/char-vocabulary';
/** The files a model directory written by `train` may hold (anything else is the user's). */
const OWN_FILES = /^(model\.json|weights(-2)?\.bin|vocab\.json|\.tfjs-recurrent\.lock|\..+\.\d+\.\d+\.tmp)$/;

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

/**
 * Checks, before any training, that `train --out DIR` can write there: not a virtual file system,
 * not a file, not a directory of other files (the save replaces the whole directory), and a
 * parent where a directory can be made. Throws an error that says what is wrong and what to do.
 */
export async function checkOutDir(where: string, dir: string): Promise<void> {
  const target = resolve(dir);
  const refuse = (why: string) => new Error(`${where}: cannot write --out ${dir}: ${why}`);
  if (VIRTUAL.test(target)) {
    throw refuse(`${target} is in a virtual file system (/proc, /sys, /dev); give a directory on a disk`);
  }
  const st = await lstat(target).catch(() => null);
  if (st && !st.isDirectory()) {
    throw refuse(
      `${target} is ${st.isSymbolicLink() ? 'a symbolic link' : 'a file'}; expected a directory (new, or one \`${BIN} train\` wrote)`,
    );
  }
  if (st) {
    const others = (await readdir(target)).filter((e) => !OWN_FILES.test(e));
    if (others.length > 0) {
      const shown = others.slice(0, 5).join(', ') + (others.length > 5 ? ', …' : '');
      throw refuse(
        `${target} holds files that are not a model (${shown}); the model is saved as a whole directory and ` +
          'would replace them: give a new directory',
      );
    }
  }
  // Make (then remove) the directory the save will write into: proves the parent is writable.
  let probe: string;
  try {
    probe = await freshPartial(target);
  } catch (err) {
    throw refuse(`cannot create it: ${mkdirFailure(err)}`);
  }
  await rm(probe, { recursive: true, force: true });
}

/**
 * Saves the network and its vocabulary to `dir` as one unit: both are written into a fresh
 * directory that then replaces `dir` (see the file's comment). Saves to one `dir` take turns.
 */
export async function saveCharModel(dir: string, net: rt.RecurrentNetwork, corpus: CharCorpus): Promise<void> {
  const target = resolve(dir);
  const chars = [...corpus.vocabulary.chars];
  const unlock = await acquireLock(`${target}.lock`, {
    waitMs: 60_000,
    what: `The model directory ${target}`,
    advice: `Another \`${BIN} train\` is saving to it; give another --out or try again when it ends.`,
  });
  try {
    const partial = await freshPartial(target);
    const artifacts = await rt.io.networkArtifacts(net);
    artifacts.userDefinedMetadata = { [METADATA_KEY]: { mode: corpus.mode, chars } };
    await rt.io.fileHandler(partial).save!(artifacts);
    const vocab: VocabFile = { format: FORMAT, version: 1, mode: corpus.mode, boundary: BOUNDARY, chars };
    await rt.io.atomicWrite(`${partial}/${VOCAB_FILE}`, `${JSON.stringify(vocab, null, 1)}\n`);
    await swapIn(partial, target);
  } finally {
    await unlock();
  }
}

/** Loads what {@link saveCharModel} wrote, with errors that say what is missing and what to do. */
export async function loadCharModel(where: string, dir: string): Promise<CharModel> {
  const root = resolve(dir);
  const shown = displayPath(root);
  // `DIR.previous` holds the model when a save was killed between its two renames.
  const found = await currentDirectory(root);
  const isDir =
    found !== null &&
    (await lstat(found).then(
      (s) => s.isDirectory(),
      () => false,
    ));
  if (!isDir) {
    throw new Error(
      `${where}: ${shown} is not a directory; train a model first: ${BIN} train --text FILE --out ${dir}`,
    );
  }
  const vocabPath = `${found}/${VOCAB_FILE}`;
  let text: string;
  try {
    text = await readRegularText(vocabPath, MAX_JSON_BYTES, VOCAB_FILE);
  } catch (err) {
    if (!/ENOENT/.test((err as Error).message)) throw new Error(`${where}: ${(err as Error).message}`);
    throw new Error(
      `${where}: ${shown} has no ${VOCAB_FILE}, so it is not a model made by \`${BIN} train\`; ` +
        `train one with: ${BIN} train --text FILE --out ${dir}`,
    );
  }
  const vocab = parseVocab(where, vocabPath, text);
  const artifacts = await rt.io.fileHandler(found).load!();
  checkAgainstModel(where, found, vocab, artifacts);
  const net = rt.io.networkFromArtifacts(artifacts, `file://${found}`);
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

/** Refuses a `vocab.json` that is not the vocabulary the network in `dir` was trained with. */
function checkAgainstModel(where: string, dir: string, vocab: VocabFile, artifacts: tf.io.ModelArtifacts): void {
  const stored = (artifacts.userDefinedMetadata as Record<string, unknown> | undefined)?.[METADATA_KEY] as
    { mode?: unknown; chars?: unknown } | undefined;
  const vocabPath = `${dir}/${VOCAB_FILE}`;
  if (stored === undefined) {
    // Saved before model.json held its vocabulary: `train` always sorts it.
    const i = vocab.chars.findIndex((c, k) => k > 0 && !(vocab.chars[k - 1] < c));
    if (i > 0) {
      throw new Error(
        `${where}: ${vocabPath} is not in sorted order (${show(vocab.chars[i - 1])} before ` +
          `${show(vocab.chars[i])}), as \`${BIN} train\` writes it: edited or permuted; train the model again`,
      );
    }
    return;
  }
  const chars = Array.isArray(stored.chars) ? stored.chars : [];
  const same = chars.length === vocab.chars.length && chars.every((c, k) => c === vocab.chars[k]);
  if (!same || stored.mode !== vocab.mode) {
    const k = chars.findIndex((c, i) => c !== vocab.chars[i]);
    const detail =
      chars.length !== vocab.chars.length
        ? `${vocab.chars.length} characters, the network's has ${chars.length}`
        : k >= 0
          ? `id ${k} is ${show(vocab.chars[k])}, the network's is ${show(chars[k])}`
          : `mode ${show(vocab.mode)}, the network's is ${show(stored.mode)}`;
    throw new Error(
      `${where}: ${vocabPath} is not the vocabulary the network in ${dir}/model.json was trained with ` +
        `(${detail}); the files come from different models: train the model again`,
    );
  }
}

function parseVocab(where: string, file: string, text: string): VocabFile {
  const bad = (why: string) => new Error(`${where}: ${file} is malformed (${why}); train the model again`);
  let v: VocabFile;
  try {
    v = parseJson(text, file) as VocabFile;
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (v === null || typeof v !== 'object' || v.format !== FORMAT) throw bad(`expected format '${FORMAT}'`);
  if (v.mode !== 'lines' && v.mode !== 'text') throw bad(`mode is ${show(v.mode)}, expected lines or text`);
  if (v.boundary !== BOUNDARY) throw bad(`boundary is ${show(v.boundary)}, expected "\\n"`);
  if (!Array.isArray(v.chars) || v.chars.length === 0) throw bad('chars must be a non-empty array');
  const i = v.chars.findIndex((c) => typeof c !== 'string' || Array.from(c).length !== 1);
  if (i >= 0) throw bad(`chars[${i}] is ${show(v.chars[i])}, expected one character`);
  if (new Set(v.chars).size !== v.chars.length) throw bad('chars holds a character twice');
  return v;
}
