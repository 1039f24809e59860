/**
 * Lock files: one writer at a time for a model directory or a checkpoint path, across processes
 * and within one. A lock is a small JSON file (`{ pid, host, since, token }`) created with
 * `O_EXCL`; it is removed by its owner, or taken over by the next writer once its process is gone
 * (a killed saver or trainer), so a kill never blocks the path for good.
 *
 * Node only; loaded lazily like the rest of `io/`.
 */
import { lazyImport, nodeFs } from '../lazy-import.js';

interface LockInfo {
  pid: number;
  host: string;
  since: string;
  token: string;
}

/** How a lock is waited for: `0` refuses at once when another writer holds it. */
export interface LockOptions {
  /** Milliseconds to wait for a live holder to let go (0: refuse at once). */
  waitMs: number;
  /** What the path is, for messages (`the model directory`, `the checkpoint path`). */
  what: string;
  /** What to suggest when the lock is held by a live process. */
  advice: string;
}

/** Whether the process `pid` on this host is alive (a process we may not signal counts as alive). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function hostname(): Promise<string> {
  const os = await lazyImport<typeof import('node:os')>('node:os').catch(() => null);
  return os?.hostname() ?? 'unknown';
}

async function readLock(file: string): Promise<{ info: LockInfo | null; text: string; ageMs: number } | null> {
  const { fs } = await nodeFs();
  try {
    const st = await fs.stat(file);
    if (!st.isFile() || st.size > 4096) return { info: null, text: '', ageMs: Date.now() - st.mtimeMs };
    const text = await fs.readFile(file, 'utf8');
    let info: LockInfo | null = null;
    try {
      const v = JSON.parse(text);
      if (v && typeof v === 'object' && Number.isInteger(v.pid) && typeof v.token === 'string') info = v;
    } catch {
      // a lock being written, or damaged: judged by its age below
    }
    return { info, text, ageMs: Date.now() - st.mtimeMs };
  } catch {
    return null; // gone in the meantime
  }
}

/** A lock without a readable owner is taken over once this old (its writer died mid-write). */
const UNREADABLE_LOCK_MS = 10_000;

/**
 * Takes the lock file `file` (creating it), runs nothing else: returns the function that lets it
 * go. Waits up to `waitMs` for a live holder; takes over a lock whose process is gone; refuses
 * with a message naming the lock, its holder and what to do.
 */
export async function acquireLock(file: string, o: LockOptions): Promise<() => Promise<void>> {
  const { fs } = await nodeFs();
  const host = await hostname();
  const token = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const mine: LockInfo = { pid: process.pid, host, since: new Date().toISOString(), token };
  const deadline = Date.now() + o.waitMs;
  let pause = 5;
  for (;;) {
    try {
      await fs.writeFile(file, JSON.stringify(mine), { flag: 'wx' });
      return async () => {
        const now = await readLock(file);
        if (now?.info?.token === token) await fs.rm(file, { force: true });
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        throw new Error(`Cannot create the lock file ${file} for ${o.what}: ${code ?? (err as Error).message}`);
      }
    }
    const held = await readLock(file);
    if (held === null) continue; // let go in the meantime: try again
    const stale = held.info ? held.info.host === host && !processAlive(held.info.pid) : held.ageMs > UNREADABLE_LOCK_MS;
    if (stale) {
      await breakStaleLock(file, held.text);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = held.info
        ? `process ${held.info.pid} on ${held.info.host} (since ${held.info.since})`
        : 'a process that is still writing it';
      throw new Error(
        `${o.what} is locked by ${who}: ${file}. ${o.advice}` +
          (held.info && held.info.host !== host ? ' If that process no longer runs, remove the lock file.' : ''),
      );
    }
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 100);
  }
}

/**
 * Removes a stale lock whose content was `text`: renamed aside first and checked, so that a lock
 * another process took over in the meantime is put back, not removed.
 */
async function breakStaleLock(file: string, text: string): Promise<void> {
  const { fs } = await nodeFs();
  const aside = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await fs.rename(file, aside);
  } catch {
    return; // someone else broke or released it
  }
  const taken = await fs.readFile(aside, 'utf8').catch(() => text);
  if (taken !== text) await fs.link(aside, file).catch(() => undefined); // a fresh lock: put it back
  await fs.rm(aside, { force: true });
}

/** Runs `fn` holding the lock file `file`. */
export async function withLock<T>(file: string, o: LockOptions, fn: () => Promise<T>): Promise<T> {
  const release = await acquireLock(file, o);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * Removes the temporary files that {@link atomicWrite} leaves when its process is killed
 * (`.NAME.PID.TIME.tmp` whose process is gone) from `dir`.
 */
export async function removeStaleTemporaries(dir: string): Promise<void> {
  const { fs, path } = await nodeFs();
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const m = /^\..+\.(\d+)\.\d+\.tmp$/.exec(entry) ?? /\.lock\.stale-(\d+)-[a-z0-9]+$/.exec(entry);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) {
      await fs.rm(path.join(dir, entry), { force: true, recursive: true });
    }
  }
}
