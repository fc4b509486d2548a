/**
 * A bounded on-disk queue of serialized OTLP batches, kept while the collector is unreachable.
 *
 * One file per batch, named so that a plain sort gives the send order and the name alone tells
 * how many spans it holds and whether any of them is an error:
 *   <ms since epoch, 13 digits>-<pid>-<seq, 6 digits>-<span count>-<err|ok>.otlp
 * Writes go to a temporary file first and are renamed into place, so a crash never leaves half a
 * batch that a replay would send. Several processes may share a directory; every pass re-reads it.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Guard } from './guard.ts';
import { internalError } from './guard.ts';

export interface SpoolFile {
  name: string;
  path: string;
  bytes: number;
  spans: number;
  hasError: boolean;
}

const FILE_PATTERN = /^(\d{13})-(\d+)-(\d{6})-(\d+)-(err|ok)\.otlp$/;
const TMP_PREFIX = '.tmp-';

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly guard: Guard;
  private seq = 0;
  /** False when the directory cannot be created or read; the exporter then runs without a spool. */
  readonly usable: boolean;

  constructor(dir: string, maxBytes: number, guard: Guard) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.guard = guard;
    this.usable = this.prepare();
    this.refreshStats();
  }

  private prepare(): boolean {
    try {
      mkdirSync(this.dir, { recursive: true });
      for (const name of readdirSync(this.dir)) {
        // temporary files are batches a crashed process never finished writing
        if (name.startsWith(TMP_PREFIX)) this.unlinkQuietly(join(this.dir, name));
      }
      return true;
    } catch (error) {
      internalError(this.guard, `spool directory ${this.dir}`, error);
      return false;
    }
  }

  /** Batches waiting, oldest first. */
  list(): SpoolFile[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (error) {
      if (this.usable) internalError(this.guard, 'spool list', error);
      return [];
    }
    const files: SpoolFile[] = [];
    for (const name of names.sort()) {
      const match = FILE_PATTERN.exec(name);
      if (!match) continue;
      const path = join(this.dir, name);
      let bytes: number;
      try {
        bytes = statSync(path).size;
      } catch {
        continue; // another process replayed it meanwhile
      }
      files.push({ name, path, bytes, spans: Number(match[4]), hasError: match[5] === 'err' });
    }
    return files;
  }

  /**
   * Stores one serialized batch, then evicts to stay under maxBytes: the oldest batches without
   * errors go first, error-bearing ones only when nothing else is left. Returns false if the batch
   * could not be stored (the caller counts its spans as dropped).
   */
  write(body: Uint8Array, spans: number, hasError: boolean): boolean {
    const name = `${String(Date.now()).padStart(13, '0')}-${process.pid}-${String(this.seq++ % 1_000_000).padStart(6, '0')}-${spans}-${hasError ? 'err' : 'ok'}.otlp`;
    const tmp = join(this.dir, `${TMP_PREFIX}${name}`);
    try {
      writeFileSync(tmp, body);
      renameSync(tmp, join(this.dir, name));
    } catch (error) {
      internalError(this.guard, 'spool write', error);
      this.unlinkQuietly(tmp);
      return false;
    }
    this.guard.stats.spooledBatches++;
    this.enforceLimit();
    return true;
  }

  read(file: SpoolFile): Uint8Array<ArrayBuffer> | null {
    try {
      return new Uint8Array(readFileSync(file.path));
    } catch {
      return null;
    }
  }

  remove(file: SpoolFile): void {
    this.unlinkQuietly(file.path);
    const stats = this.guard.stats;
    stats.pendingBatches = Math.max(0, stats.pendingBatches - 1);
    stats.spooledBytes = Math.max(0, stats.spooledBytes - file.bytes);
  }

  /** Counts a batch as given up on and deletes it. */
  drop(file: SpoolFile): void {
    this.guard.stats.droppedSpans += file.spans;
    this.remove(file);
  }

  private enforceLimit(): void {
    const files = this.list();
    let total = files.reduce((sum, f) => sum + f.bytes, 0);
    const victims = [...files.filter((f) => !f.hasError), ...files.filter((f) => f.hasError)];
    for (const victim of victims) {
      if (total <= this.maxBytes) break;
      this.guard.stats.droppedSpans += victim.spans;
      this.guard.log(`spool over ${this.maxBytes} bytes: dropped ${victim.name}`);
      this.unlinkQuietly(victim.path);
      total -= victim.bytes;
    }
    this.refreshStats();
  }

  refreshStats(): void {
    const files = this.usable ? this.list() : [];
    this.guard.stats.pendingBatches = files.length;
    this.guard.stats.spooledBytes = files.reduce((sum, f) => sum + f.bytes, 0);
  }

  private unlinkQuietly(path: string): void {
    try {
      unlinkSync(path);
    } catch {
      // already gone (replayed by another process) is fine
    }
  }
}
