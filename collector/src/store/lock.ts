/**
 * PGlite is one process per data directory: a second opener would corrupt it. We hold a lock
 * file with our pid; a stale one (its process gone) is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StartupError } from '../errors.ts';

export interface DirLock {
  release(): void;
}

/** Whether a process with this pid exists (EPERM: it exists but is not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Directories this process holds: the pid in the file cannot tell two openers in one process apart.
const heldHere = new Set<string>();

export function lockDataDir(dataDir: string): DirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'faultline.lock');
  if (heldHere.has(file)) {
    throw new StartupError(`The data directory ${dataDir} is already open in this process; embedded storage allows one opener at a time.`);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      let released = false;
      heldHere.add(file);
      return {
        release() {
          if (released) return;
          released = true;
          heldHere.delete(file);
          try {
            if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StartupError(`Cannot create the lock file ${file}: ${(err as Error).message}`, { cause: err });
      }
      const holder = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
      if (Number.isFinite(holder) && holder !== process.pid && processAlive(holder)) {
        throw new StartupError(
          `The data directory ${dataDir} is in use by another Faultline collector (pid ${holder}). ` +
            'Embedded storage allows one process at a time: stop the other collector, or set FAULTLINE_DATA_DIR to another directory, or use DATABASE_URL for a shared Postgres.',
        );
      }
      // Stale lock from a process that died without cleaning up.
      fs.rmSync(file, { force: true });
    }
  }
  throw new StartupError(`Could not take the lock on ${dataDir}; another process keeps creating ${file}.`);
}
