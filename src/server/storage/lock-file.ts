// One process per data directory: two nodes appending to one log would interleave their records. The LOCK
// file holds the owner's pid; a lock whose process is gone (a crash, kill -9) is taken over. It is created
// with its content in one step (written to a temporary file, then linked into place), so no process ever
// reads an empty LOCK and takes it for stale while its owner is still writing it.
import { link, open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'LOCK';

export class DirectoryLockedError extends Error {
  override readonly name = 'DirectoryLockedError';

  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`${dir} is in use by process ${pid}`);
  }
}

export interface DirectoryLock {
  release(): Promise<void>;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Whether a process with this pid runs (EPERM: it runs, under another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/** The pid a lock file names, or null when it names none (its owner died between creating and writing it). */
async function readLockHolder(path: string): Promise<number | null> {
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return '';
    throw error;
  });
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/** Directories this process has locked: a LOCK naming our own pid is ours only if it is listed here. */
const lockedHere = new Set<string>();

/** Take `dir`'s lock, or throw DirectoryLockedError naming the process that holds it. */
export async function lockDirectory(dir: string, onWarning: (message: string) => void): Promise<DirectoryLock> {
  const path = join(dir, LOCK_FILE);
  const key = resolve(dir);
  if (lockedHere.has(key)) throw new DirectoryLockedError(dir, process.pid);
  const temporary = join(dir, `${LOCK_FILE}.${process.pid}.tmp`);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(`${process.pid}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // Two attempts: the second follows the removal of a stale lock. Losing that race again is reported.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(temporary, path); // fails if LOCK exists: creation and content in one step
        lockedHere.add(key);
        return {
          release: async () => {
            lockedHere.delete(key);
            await unlink(path);
          },
        };
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      const holder = await readLockHolder(path);
      // Our own pid in a LOCK we do not hold is a previous life's (a container restarts with the same pid).
      if (holder !== null && holder !== process.pid && isProcessAlive(holder)) throw new DirectoryLockedError(dir, holder);
      onWarning(`storage: taking over ${path} from ${holder === null ? 'no process' : `process ${holder}`}, which is not running`);
      await unlink(path).catch((error: unknown) => {
        if (errorCode(error) !== 'ENOENT') throw error;
      });
    }
    throw new Error(`storage: could not take ${path}: another process took it at the same moment`);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}
