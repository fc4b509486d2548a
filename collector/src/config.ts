/**
 * Configuration, parsed and validated once at start (DESIGN §6). A bad value stops start-up with
 * a message naming the variable. Every limit says why it is what it is.
 */
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_RUNNING_WALLCLOCK_MS, DEFAULT_STUCK_THRESHOLDS_MS } from '@faultline/schema';
import { StartupError } from './errors.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

const positiveInt = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const flag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', ''], { error: 'must be 1 or 0 (true/false)' })
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const keyList = z
  .string()
  .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
  .pipe(z.array(z.string().min(16, { error: 'each key must be at least 16 characters' })));

const list = z.string().transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean));

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const originList = list.pipe(
  z.array(
    z
      .string()
      .refine((o) => o !== '*', { error: 'list the origins; * would let every web page read and change this collector' })
      .refine((o) => URL.canParse(o) && new URL(o).origin === o, { error: 'each entry must be an origin such as https://app.example.com (scheme, host, optional port; no path)' }),
  ),
);

const envSchema = z.object({
  PORT: positiveInt(0, 65535).default(4318),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { error: 'must start with postgres:// or postgresql://' })
    .optional(),
  FAULTLINE_DATA_DIR: z.string().min(1).default('./.faultline'),
  FAULTLINE_INGEST_KEYS: keyList.optional(),
  FAULTLINE_API_TOKEN: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  FAULTLINE_ALLOW_INSECURE: flag.default(false),
  // Browser-origin protection (docs/security.md): where users reach the collector, extra Host
  // names it answers for (loopback always; * turns the check off), origins allowed cross-origin.
  FAULTLINE_PUBLIC_URL: httpUrl.optional(),
  FAULTLINE_ALLOWED_HOSTS: list.optional(),
  FAULTLINE_CORS_ORIGINS: originList.optional(),
  // Spans, occurrences and sessions last seen before this are deleted; group counts stay.
  FAULTLINE_RETENTION_DAYS: positiveInt(1, 3650).default(14),
  FAULTLINE_STUCK_STARTING_MS: positiveInt(1000, 86_400_000).default(DEFAULT_STUCK_THRESHOLDS_MS.starting),
  FAULTLINE_STUCK_RUNNING_MS: positiveInt(1000, 86_400_000).default(DEFAULT_STUCK_THRESHOLDS_MS.running),
  FAULTLINE_STUCK_RETRYING_MS: positiveInt(1000, 86_400_000).default(DEFAULT_STUCK_THRESHOLDS_MS.retrying),
  // Still `running` this long, heartbeats or not: the runtime forgot to say it finished.
  FAULTLINE_STUCK_WALLCLOCK_MS: positiveInt(1000, 7 * 86_400_000).default(DEFAULT_RUNNING_WALLCLOCK_MS),
  // "Stuck within threshold + 5 s" (DESIGN §8) needs a sweep well under 5 s.
  FAULTLINE_SWEEP_INTERVAL_MS: positiveInt(100, 600_000).default(2000),
  // OTLP spec recommends a 64 MiB limit, before and after decompression.
  FAULTLINE_MAX_BODY_BYTES: positiveInt(1024, 256 * 1024 * 1024).default(64 * 1024 * 1024),
  // Spans waiting for the database before ingest answers 429: bounds memory under a slow DB.
  FAULTLINE_MAX_QUEUED_SPANS: positiveInt(100, 10_000_000).default(200_000),
  // Spans per write transaction: large enough to amortise round trips, small enough to keep latency low.
  FAULTLINE_MAX_BATCH_SPANS: positiveInt(1, 100_000).default(5000),
  // Write transactions in flight at once on Postgres (a backend each): while one commits, the next
  // batch is already loading. Default 2 (docs/performance.md); PGlite always runs one at a time.
  FAULTLINE_WRITERS: positiveInt(1, 16).default(2),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | null;
  dataDir: string;
  ingestKeys: string[];
  apiToken: string | null;
  allowInsecure: boolean;
  publicUrl: string | null;
  allowedHosts: string[];
  corsOrigins: string[];
  retentionDays: number;
  stuckThresholdsMs: { starting: number; running: number; retrying: number };
  stuckWallclockMs: number;
  sweepIntervalMs: number;
  maxBodyBytes: number;
  maxQueuedSpans: number;
  maxBatchSpans: number;
  writers: number;
}

/** Parse the environment. Throws StartupError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset" so `FOO= npm start` behaves like no FOO at all.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message} (got ${JSON.stringify(cleaned[String(i.path[0])])})`);
    throw new StartupError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL ?? null,
    dataDir: path.resolve(e.FAULTLINE_DATA_DIR),
    ingestKeys: e.FAULTLINE_INGEST_KEYS ?? [],
    apiToken: e.FAULTLINE_API_TOKEN ?? null,
    allowInsecure: e.FAULTLINE_ALLOW_INSECURE,
    publicUrl: e.FAULTLINE_PUBLIC_URL ?? null,
    allowedHosts: e.FAULTLINE_ALLOWED_HOSTS ?? [],
    corsOrigins: e.FAULTLINE_CORS_ORIGINS ?? [],
    retentionDays: e.FAULTLINE_RETENTION_DAYS,
    stuckThresholdsMs: {
      starting: e.FAULTLINE_STUCK_STARTING_MS,
      running: e.FAULTLINE_STUCK_RUNNING_MS,
      retrying: e.FAULTLINE_STUCK_RETRYING_MS,
    },
    stuckWallclockMs: e.FAULTLINE_STUCK_WALLCLOCK_MS,
    sweepIntervalMs: e.FAULTLINE_SWEEP_INTERVAL_MS,
    maxBodyBytes: e.FAULTLINE_MAX_BODY_BYTES,
    maxQueuedSpans: e.FAULTLINE_MAX_QUEUED_SPANS,
    maxBatchSpans: e.FAULTLINE_MAX_BATCH_SPANS,
    writers: e.FAULTLINE_WRITERS,
  };
  if (!isLoopback(config.host) && !config.allowInsecure && (config.ingestKeys.length === 0 || !config.apiToken)) {
    throw new StartupError(
      `Refusing to listen on ${config.host}: it is not a loopback address and FAULTLINE_INGEST_KEYS and FAULTLINE_API_TOKEN are not both set. ` +
        'Set both, or set FAULTLINE_ALLOW_INSECURE=1 if the network in front of this collector is trusted.',
    );
  }
  return config;
}

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

/** A config for tests and embedding: defaults plus overrides, no environment read. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), ...overrides };
}
