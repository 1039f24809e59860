/**
 * Replacing a whole directory atomically, so that files that belong together (a network and its
 * optimizer state, a network and its vocabulary) change together: a kill at any moment leaves the
 * old directory or the new one, never a mixture.
 *
 * 1. the new content is written into a fresh sibling `PATH.partial-PID-TIME` and fsynced;
 * 2. `PATH` (if there) is renamed to `PATH.previous` (an older `PATH.previous` is removed first);
 * 3. `PATH.partial-*` is renamed to `PATH`;
 * 4. `PATH.previous` is removed.
 *
 * A reader takes `PATH` when it exists (it only ever appears complete, by rename), else
 * `PATH.previous` (a kill between steps 2 and 3), and ignores partial directories, which the next
 * write removes once their process is gone. Writers to one `PATH` must hold its lock
 * (`lock.ts`). Node only.
 */
import { nodeFs } from '../lazy-import.js';
import { fsyncDir } from './file.js';
import { processAlive } from './lock.js';

/**
 * Makes a fresh, empty sibling directory of `target` to write the new content into, after removing
 * the partial directories that killed writers (or this process's failed writes) left.
 */
export async function freshPartial(target: string): Promise<string> {
  const { fs, path } = await nodeFs();
  const parent = path.dirname(target);
  const prefix = `${path.basename(target)}.partial-`;
  await fs.mkdir(parent, { recursive: true });
  for (const entry of await fs.readdir(parent)) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(entry.slice(prefix.length))?.[1]);
    if (pid === process.pid || !processAlive(pid)) {
      await fs.rm(path.join(parent, entry), { recursive: true, force: true });
    }
  }
  const partial = path.join(parent, `${prefix}${process.pid}-${Date.now()}`);
  await fs.mkdir(partial);
  return partial;
}

/** Puts the complete directory `partial` (from {@link freshPartial}) in the place of `target`. */
export async function swapIn(partial: string, target: string): Promise<void> {
  const { fs, path } = await nodeFs();
  await fsyncDir(partial);
  const previous = `${target}.previous`;
  if (await exists(target)) {
    await fs.rm(previous, { recursive: true, force: true });
    await fs.rename(target, previous);
  }
  await fs.rename(partial, target);
  await fsyncDir(path.dirname(target));
  await fs.rm(previous, { recursive: true, force: true });
}

/** The directory holding the latest complete content written to `target`, or null if none. */
export async function currentDirectory(target: string): Promise<string | null> {
  for (const candidate of [target, `${target}.previous`]) {
    if (await exists(candidate)) return candidate;
  }
  return null;
}

async function exists(p: string): Promise<boolean> {
  const { fs } = await nodeFs();
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
