#!/usr/bin/env node
/**
 * `faultline-sdk replay`: sends what a runtime left in its spool when it exited while the collector
 * was unreachable — for an operator, or a container's exit hook. Batches are bound to the endpoint
 * they were written for; only those for `--endpoint` are sent, the others are named.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ENDPOINT, defaultSpoolDir, normalizeEndpoint, tracesUrlFor } from './config.ts';
import { emptyStats } from './guard.ts';
import type { Guard } from './guard.ts';
import { SpoolReplayer } from './replay.ts';
import { Spool, boundSpoolDir, listSpoolFiles, readSpoolEndpoint } from './spool.ts';
import type { SpoolFile } from './spool.ts';

const DEFAULT_TIMEOUT_MS = 60_000;

const HELP = `Usage: faultline-sdk replay --spool-dir <dir> --endpoint <url> [options]

Sends the telemetry a runtime spooled while its Faultline collector was unreachable, oldest
batch first, and deletes each batch once the collector has accepted it. A spool is bound to the
endpoint it was written for: only batches written for --endpoint are sent.

Options:
  --spool-dir <dir>    the runtime's spoolDir option
  --service <name>     instead of --spool-dir: the runtime's serviceName, for its default
                       spool directory (<tmpdir>/.faultline-spool/<service>)
  --endpoint <url>     the collector the batches were written for
                       (default: FAULTLINE_ENDPOINT, else ${DEFAULT_ENDPOINT})
  --ingest-key <key>   sent as Authorization: Bearer <key> (default: FAULTLINE_INGEST_KEY)
  --timeout-ms <ms>    give up after this long (default: ${DEFAULT_TIMEOUT_MS})
  -h, --help           show this text

Exit status: 0 when nothing is left to send, 1 when batches are left (the collector did not
take them in time), 2 when the command line is wrong.
`;

class UsageError extends Error {}

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const amount = (files: { spans: number }[]) =>
  `${plural(files.length, 'batch', 'batches')} (${plural(files.reduce((sum, f) => sum + f.spans, 0), 'span')})`;

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}

/** Batches in `root` bound to endpoints other than `tracesUrl`, to name them. */
async function otherEndpoints(root: string, tracesUrl: string): Promise<{ url: string; files: SpoolFile[] }[]> {
  const found: { url: string; files: SpoolFile[] }[] = [];
  for (const entry of await readdir(root, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory()) continue;
    const dir = join(root, entry.name);
    const url = await readSpoolEndpoint(dir);
    if (url === null || url === tracesUrl) continue;
    const files = await listSpoolFiles(dir).catch(() => []);
    if (files.length > 0) found.push({ url, files });
  }
  return found;
}

function parse(argv: string[], env: NodeJS.ProcessEnv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'spool-dir': { type: 'string' },
        service: { type: 'string' },
        endpoint: { type: 'string' },
        'ingest-key': { type: 'string' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // Node's parser adds advice on positionals starting with "-"; the first sentence is the point.
    throw new UsageError((error as Error).message.split('. To specify')[0]);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true as const };
  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError('no command given; the command is "replay"');
  if (command !== 'replay') throw new UsageError(`unknown command "${command}"; the command is "replay"`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);

  if (values['spool-dir'] !== undefined && values.service !== undefined) throw new UsageError('give --spool-dir or --service, not both');
  const root = values['spool-dir'] ?? (values.service !== undefined ? defaultSpoolDir(values.service) : undefined);
  if (!root) throw new UsageError("--spool-dir is required: the spoolDir the runtime was given (or --service <name> for the runtime's default directory)");

  const rawEndpoint = values.endpoint ?? env.FAULTLINE_ENDPOINT ?? DEFAULT_ENDPOINT;
  const endpoint = normalizeEndpoint(rawEndpoint);
  if (endpoint === null || !/^https?:$/.test(new URL(endpoint).protocol)) {
    throw new UsageError(`--endpoint "${rawEndpoint}" is not an http(s) URL, e.g. ${DEFAULT_ENDPOINT}`);
  }
  const timeoutText = values['timeout-ms'] ?? String(DEFAULT_TIMEOUT_MS);
  const timeoutMs = Number(timeoutText);
  if (!/^\d+$/.test(timeoutText) || timeoutMs <= 0) throw new UsageError(`--timeout-ms "${timeoutText}" is not a positive number of milliseconds`);
  const ingestKey = values['ingest-key'] ?? env.FAULTLINE_INGEST_KEY;
  return { help: false as const, root, endpoint, tracesUrl: tracesUrlFor(endpoint), timeoutMs, ingestKey };
}

/** Runs the command; resolves to the exit status. */
async function main(argv: string[], io: Io): Promise<number> {
  let options;
  try {
    options = parse(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`faultline-sdk: ${error.message}\nRun "faultline-sdk --help" for usage.`);
    return 2;
  }
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const { root, endpoint, tracesUrl, timeoutMs, ingestKey } = options;
  if (!(await isDirectory(root))) {
    io.err(`faultline-sdk: no spool directory at ${root}. Pass the spoolDir the runtime was given (see its shutdown warning).`);
    return 2;
  }
  // The runtime's spool directory holds one subdirectory per endpoint; a bound one may be given too.
  const rootEndpoint = await readSpoolEndpoint(root);
  if (rootEndpoint !== null && rootEndpoint !== tracesUrl) {
    io.err(
      `faultline-sdk: ${root} holds batches written for ${rootEndpoint}, not ${tracesUrl}; ` +
        `they are only sent there (--endpoint ${rootEndpoint.replace(/\/v1\/traces$/, '')}).`,
    );
    return 2;
  }
  const dir = rootEndpoint !== null ? root : boundSpoolDir(root, tracesUrl);
  const others = rootEndpoint !== null ? [] : await otherEndpoints(root, tracesUrl);
  const noteOthers = () => {
    for (const other of others) {
      io.out(`${root} also holds ${amount(other.files)} written for ${other.url}; they are only sent there (--endpoint ${other.url.replace(/\/v1\/traces$/, '')}).`);
    }
  };

  const waiting = (await isDirectory(dir)) ? await listSpoolFiles(dir) : [];
  if (waiting.length === 0) {
    io.out(`Nothing spooled for ${tracesUrl} in ${root}.`);
    noteOthers();
    return 0;
  }

  const guard: Guard = { stats: emptyStats(), log: (message) => io.err(`faultline-sdk: ${message}`) };
  const spool = new Spool(root, tracesUrl, Number.POSITIVE_INFINITY, guard, { dir, create: false });
  if (!(await spool.ready)) {
    io.err(`faultline-sdk: cannot read ${dir}.`);
    return 2;
  }
  const replayer = new SpoolReplayer({
    spool,
    tracesUrl,
    headers: ingestKey ? { Authorization: `Bearer ${ingestKey}` } : {},
    guard,
    initialDelayMs: 500,
    maxDelayMs: 5_000,
  });
  io.out(`Sending ${amount(waiting)} from ${dir} to ${tracesUrl}…`);
  const drained = await replayer.drain(Date.now() + timeoutMs);
  const { replayedBatches, droppedSpans } = guard.stats;
  const sentSpans = guard.stats.spansExported;
  io.out(`Delivered ${plural(replayedBatches, 'batch', 'batches')} (${plural(sentSpans, 'span')}).`);
  if (droppedSpans > 0) io.out(`Dropped ${plural(droppedSpans, 'span')} the collector rejected as undeliverable (400/413/415).`);
  noteOthers();
  if (drained) return 0;
  const left = spool.pending();
  io.err(
    `faultline-sdk: ${plural(left.batches, 'batch', 'batches')} (${plural(left.spans, 'span')}) are still in ${dir}: ` +
      `${endpoint} did not take them within ${timeoutMs} ms (${replayer.failureReason || 'no answer'}). Run this again when the collector is reachable.`,
  );
  return 1;
}

main(process.argv.slice(2), { out: (line) => console.log(line), err: (line) => console.error(line), env: process.env }).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    console.error('faultline-sdk: unexpected failure', error);
    process.exitCode = 1;
  },
);
