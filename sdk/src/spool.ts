/**
 * A bounded on-disk queue of serialized OTLP batches, kept while the collector is unreachable.
 *
 * A spool is bound to the endpoint its batches were written for: they live in a subdirectory of
 * the spool directory named after that endpoint, beside an `endpoint` file holding its URL, so a
 * runtime (or `faultline-sdk replay`) pointed at another collector never sends them there.
 *
 * One file per batch, named so that a plain sort gives the send order and the name alone tells
 * how many spans it holds and whether any of them is an error:
 *   <ms since epoch, 13 digits>-<pid>-<seq, 6 digits>-<span count>-<err|ok>.otlp
 * Writes go to a temporary file first and are renamed into place, so a crash never leaves half a
 * batch that a replay would send. All I/O is asynchronous (the runtime's event loop is never
 * blocked on the disk); the files this process knows are indexed in memory, so a write costs one
 * file write and one rename, not a directory listing. Several processes may share a directory:
 * every replay pass lists it again.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
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
/** A temporary file older than this was left by a crashed writer; a younger one may be in use. */
const STALE_TMP_MS = 60_000;
/** Holds the full traces URL the batches of a directory were written for. */
const ENDPOINT_FILE = 'endpoint';

/** The subdirectory name for an endpoint: readable host and port, plus a hash of the full URL. */
function endpointKey(tracesUrl: string): string {
  const hash = createHash('sha256').update(tracesUrl).digest('hex').slice(0, 12);
  let readable = 'endpoint';
  try {
    const url = new URL(tracesUrl);
    readable = `${url.hostname}_${url.port || (url.protocol === 'https:' ? '443' : '80')}`.replace(/[^A-Za-z0-9._-]+/g, '_');
  } catch {
    // the hash alone still binds the directory
  }
  return `${readable}-${hash}`;
}

/** Where the batches for `tracesUrl` wait inside the spool directory `root`. */
export function boundSpoolDir(root: string, tracesUrl: string): string {
  return join(root, endpointKey(tracesUrl));
}

function parseSpoolFileName(dir: string, name: string, bytes: number): SpoolFile | null {
  const match = FILE_PATTERN.exec(name);
  if (!match) return null;
  return { name, path: join(dir, name), bytes, spans: Number(match[4]), hasError: match[5] === 'err' };
}

/** Batch files in `dir`, oldest first (files another process removed meanwhile are skipped). */
export async function listSpoolFiles(dir: string): Promise<SpoolFile[]> {
  const names = (await readdir(dir)).filter((name) => FILE_PATTERN.test(name)).sort();
  const files: SpoolFile[] = [];
  for (const name of names) {
    try {
      const file = parseSpoolFileName(dir, name, (await stat(join(dir, name))).size);
      if (file) files.push(file);
    } catch {
      // replayed and deleted by another process meanwhile
    }
  }
  return files;
}

/** The endpoint a bound directory was written for, or null when it has no (readable) marker. */
export async function readSpoolEndpoint(dir: string): Promise<string | null> {
  try {
    return (await readFile(join(dir, ENDPOINT_FILE), 'utf8')).trim() || null;
  } catch {
    return null;
  }
}

export class Spool {
  /** The directory given by the runtime (or the default); batches go to `dir` inside it. */
  readonly root: string;
  /** The directory bound to `tracesUrl`. */
  readonly dir: string;
  readonly tracesUrl: string;
  readonly maxBytes: number;
  private readonly guard: Guard;
  private seq = 0;
  /** Files this process knows are waiting, oldest first. */
  private files: SpoolFile[] = [];
  private usableNow = false;
  /** Resolves to false when the directory cannot be created or read; nothing is spooled then. */
  readonly ready: Promise<boolean>;

  /**
   * `dir` may be given when the caller already found the bound directory; with `create: false`
   * (the replay command) nothing is created and a missing directory leaves the spool unusable.
   */
  constructor(root: string, tracesUrl: string, maxBytes: number, guard: Guard, options: { dir?: string; create?: boolean } = {}) {
    this.root = root;
    this.tracesUrl = tracesUrl;
    this.dir = options.dir ?? boundSpoolDir(root, tracesUrl);
    this.maxBytes = maxBytes;
    this.guard = guard;
    this.ready = this.prepare(options.create ?? true);
  }

  get usable(): boolean {
    return this.usableNow;
  }

  private async prepare(create: boolean): Promise<boolean> {
    try {
      if (create) await mkdir(this.dir, { recursive: true });
      const marked = await readSpoolEndpoint(this.dir);
      if (marked !== null && marked !== this.tracesUrl) {
        throw new Error(`${this.dir} holds batches for ${marked}, not ${this.tracesUrl}`);
      }
      if (marked === null && create) await writeFile(join(this.dir, ENDPOINT_FILE), `${this.tracesUrl}\n`);
      for (const name of await readdir(this.dir)) {
        // Old temporary files are batches a crashed process never finished writing.
        if (!name.startsWith(TMP_PREFIX)) continue;
        const path = join(this.dir, name);
        const age = await stat(path).then((info) => Date.now() - info.mtimeMs, () => 0);
        if (age > STALE_TMP_MS) await this.unlinkQuietly(path);
      }
      this.files = await listSpoolFiles(this.dir);
      this.usableNow = true;
      this.updateStats();
      return true;
    } catch (error) {
      internalError(this.guard, `spool directory ${this.dir}`, error);
      return false;
    }
  }

  /** What waits in the spool as far as this process knows. */
  pending(): { batches: number; spans: number; bytes: number } {
    let spans = 0;
    let bytes = 0;
    for (const file of this.files) {
      spans += file.spans;
      bytes += file.bytes;
    }
    return { batches: this.files.length, spans, bytes };
  }

  /** Lists the directory again (other processes may have added or sent batches): oldest first. */
  async rescan(): Promise<SpoolFile[]> {
    if (!(await this.ready)) return [];
    try {
      this.files = await listSpoolFiles(this.dir);
    } catch (error) {
      internalError(this.guard, 'spool list', error);
    }
    this.updateStats();
    return [...this.files];
  }

  /**
   * Stores one serialized batch, then evicts to stay under maxBytes: the oldest batches without
   * errors go first, error-bearing ones only when nothing else is left. Resolves to false if the
   * batch could not be stored (the caller counts its spans as dropped).
   */
  async write(body: Uint8Array, spans: number, hasError: boolean): Promise<boolean> {
    if (!(await this.ready)) return false;
    const name = `${String(Date.now()).padStart(13, '0')}-${process.pid}-${String(this.seq++ % 1_000_000).padStart(6, '0')}-${spans}-${hasError ? 'err' : 'ok'}.otlp`;
    const tmp = join(this.dir, `${TMP_PREFIX}${name}`);
    try {
      await writeFile(tmp, body);
      await rename(tmp, join(this.dir, name));
    } catch (error) {
      internalError(this.guard, 'spool write', error);
      await this.unlinkQuietly(tmp);
      return false;
    }
    this.guard.stats.spooledBatches++;
    this.insert({ name, path: join(this.dir, name), bytes: body.byteLength, spans, hasError });
    await this.enforceLimit();
    return true;
  }

  async read(file: SpoolFile): Promise<Uint8Array<ArrayBuffer> | null> {
    try {
      return new Uint8Array(await readFile(file.path));
    } catch {
      return null;
    }
  }

  async remove(file: SpoolFile): Promise<void> {
    this.files = this.files.filter((f) => f.name !== file.name);
    this.updateStats();
    await this.unlinkQuietly(file.path);
  }

  /** Counts a batch as given up on and deletes it. */
  async drop(file: SpoolFile): Promise<void> {
    this.guard.stats.droppedSpans += file.spans;
    await this.remove(file);
  }

  private insert(file: SpoolFile): void {
    // Names sort in send order; a write usually lands last, so this is an append.
    let at = this.files.length;
    while (at > 0 && this.files[at - 1].name > file.name) at--;
    this.files.splice(at, 0, file);
    this.updateStats();
  }

  private async enforceLimit(): Promise<void> {
    let total = this.pending().bytes;
    if (total <= this.maxBytes) return;
    // Victims are chosen and taken off the index before any await, so concurrent writes never
    // pick (and count) the same batch twice.
    const victims: SpoolFile[] = [];
    for (const victim of [...this.files.filter((f) => !f.hasError), ...this.files.filter((f) => f.hasError)]) {
      if (total <= this.maxBytes) break;
      victims.push(victim);
      total -= victim.bytes;
      this.guard.stats.droppedSpans += victim.spans;
      this.guard.log(`spool over ${this.maxBytes} bytes: dropped ${victim.name}`);
    }
    const gone = new Set(victims.map((f) => f.name));
    this.files = this.files.filter((f) => !gone.has(f.name));
    this.updateStats();
    await Promise.all(victims.map((f) => this.unlinkQuietly(f.path)));
  }

  private updateStats(): void {
    const { batches, spans, bytes } = this.pending();
    this.guard.stats.pendingBatches = batches;
    this.guard.stats.pendingSpans = spans;
    this.guard.stats.spooledBytes = bytes;
  }

  private async unlinkQuietly(path: string): Promise<void> {
    try {
      await unlink(path);
    } catch {
      // already gone (replayed by another process) is fine
    }
  }
}
