/**
 * Configuration, parsed and validated once at start (DESIGN §6). A bad value stops start-up with
 * a message naming the variable. Every limit says why it is what it is.
 */
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_ABANDONED_AFTER_MS, DEFAULT_RUNNING_WALLCLOCK_MS, DEFAULT_STUCK_THRESHOLDS_MS } from '@faultline/schema';
import { BUILTIN_CODES, type CodeBook, type OperatorRules } from '@faultline/schema/operator-rules';
import { StartupError } from './errors.ts';
import { DEFAULT_OTLP_LIMITS, type OtlpLimits } from './otlp/limits.ts';
import { loadOperatorRules } from './rules-file.ts';
import { loadAlertsFile } from './alerts/alerts-file.ts';
import type { AlertsFile } from '@faultline/schema/api';

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

const grpcPort = z
  .string()
  .trim()
  .transform((v, ctx) => {
    if (/^(off|none|false)$/i.test(v)) return null;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > 65535) {
      ctx.addIssue({ code: 'custom', message: 'must be a port number (0 for any free port) or "off"' });
      return z.NEVER;
    }
    return n;
  });

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
  // OTLP/gRPC: Claude Code's quick start and Gemini CLI send here by default. Unset: 4317, or any
  // free port when PORT is 0 (so test and embedded collectors never fight over 4317).
  FAULTLINE_GRPC_PORT: grpcPort.optional(),
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
  FAULTLINE_ABANDONED_AFTER_MS: positiveInt(1000, 365 * 86_400_000).default(DEFAULT_ABANDONED_AFTER_MS),
  // "Stuck within threshold + 5 s" (DESIGN §8) needs a sweep well under 5 s.
  FAULTLINE_SWEEP_INTERVAL_MS: positiveInt(100, 600_000).default(2000),
  // OTLP spec recommends a 64 MiB limit, before and after decompression.
  FAULTLINE_MAX_BODY_BYTES: positiveInt(1024, 256 * 1024 * 1024).default(64 * 1024 * 1024),
  // Spans waiting for the database before ingest answers 429: bounds memory under a slow DB.
  FAULTLINE_MAX_QUEUED_SPANS: positiveInt(100, 10_000_000).default(200_000),
  // Spans per write transaction: large enough to amortise round trips, small enough to keep latency low.
  FAULTLINE_MAX_BATCH_SPANS: positiveInt(1, 100_000).default(5000),
  // Per-request OTLP limits (otlp/limits.ts). A request over them is cut, never answered with a
  // retryable status: it could never succeed. 10,000 spans is ~20 OTel SDK batches (512 each) and
  // about 2 s of writing on embedded storage.
  FAULTLINE_MAX_SPANS_PER_REQUEST: positiveInt(1, 1_000_000).default(DEFAULT_OTLP_LIMITS.maxSpansPerRequest),
  // The OpenTelemetry SDKs' own defaults (AttributeCountLimit, EventCountLimit): 128.
  FAULTLINE_MAX_ATTRIBUTES_PER_SPAN: positiveInt(1, 100_000).default(DEFAULT_OTLP_LIMITS.maxAttributesPerSpan),
  FAULTLINE_MAX_EVENTS_PER_SPAN: positiveInt(1, 100_000).default(DEFAULT_OTLP_LIMITS.maxEventsPerSpan),
  // One string (attribute value, name, status message): room for a long stack trace or agent output.
  FAULTLINE_MAX_VALUE_BYTES: positiveInt(64, 64 * 1024 * 1024).default(DEFAULT_OTLP_LIMITS.maxValueBytes),
  // One span as stored (its attributes, events and resource as JSON): every span row is bounded.
  FAULTLINE_MAX_SPAN_BYTES: positiveInt(1024, 256 * 1024 * 1024).default(DEFAULT_OTLP_LIMITS.maxSpanBytes),
  // All spans of one request as stored, the resource counted once per span as it is written:
  // bounds the memory and write time one request can cost, whatever its wire encoding.
  FAULTLINE_MAX_REQUEST_BYTES: positiveInt(1024, 1024 * 1024 * 1024).default(DEFAULT_OTLP_LIMITS.maxRequestBytes),
  // Retention runs 10 s after start and then this often.
  FAULTLINE_RETENTION_INTERVAL_MS: positiveInt(1000, 7 * 86_400_000).default(3_600_000),
  // Embedded storage: CHECKPOINT after this much WAL (PGlite has no checkpointer of its own);
  // bounds the WAL directory (~2x this) and the replay time after a crash.
  FAULTLINE_CHECKPOINT_WAL_MB: positiveInt(16, 4096).default(64),
  // Postgres: a refused or silent server must be noticed in seconds, not the OS's minutes.
  FAULTLINE_DB_CONNECT_TIMEOUT_MS: positiveInt(100, 600_000).default(2000),
  // Postgres: no statement of the collector's may hold a connection longer (retention works in chunks).
  FAULTLINE_DB_STATEMENT_TIMEOUT_MS: positiveInt(100, 3_600_000).default(30_000),
  // Postgres: a health probe (`select 1`) unanswered this long means the database is down or
  // frozen: ingest and the API answer 503 + Retry-After at once until a probe succeeds again.
  // With probes every 100 ms, a request caught by a freeze is answered within ~0.7 s.
  FAULTLINE_DB_PROBE_TIMEOUT_MS: positiveInt(50, 60_000).default(600),
  // SIGTERM: requests in flight get this long to finish before their connections are closed.
  FAULTLINE_SHUTDOWN_TIMEOUT_MS: positiveInt(0, 600_000).default(10_000),
  // Write transactions in flight at once on Postgres (a backend each): while one commits, the next
  // batch is already loading. Default 2 (docs/performance.md); PGlite always runs one at a time.
  FAULTLINE_WRITERS: positiveInt(1, 16).default(2),
  // Live stream (GET /api/stream): events kept so a viewer that reconnects gets what it missed
  // (about 2 minutes of a 5-errors-a-second incident), 0 to keep none.
  FAULTLINE_SSE_REPLAY: positiveInt(0, 100_000).default(1000),
  // Live viewers at once; beyond, 503 + Retry-After. Each one is a socket write per event.
  FAULTLINE_MAX_SSE_VIEWERS: positiveInt(1, 100_000).default(200),
  // Bytes one viewer may fall behind before it is dropped alone (it reconnects and resumes).
  FAULTLINE_SSE_VIEWER_BUFFER_KB: positiveInt(16, 1024 * 1024).default(4096),
  // Operator classification rules (JSON or YAML), evaluated before the built-in ones.
  FAULTLINE_RULES: z.string().min(1).optional(),
  // Prompt text in spans and log events is replaced by a marker unless the operator opts in.
  FAULTLINE_STORE_PROMPTS: flag.default(false),
  // Alert destinations and rules as code (YAML or JSON), written to the database at start.
  FAULTLINE_ALERTS: z.string().min(1).optional(),
  // A receiver that has not answered in this long is retried later (Slack answers in well under a second).
  FAULTLINE_DELIVERY_TIMEOUT_MS: positiveInt(1000, 120_000).default(10_000),
  // A notification still failing this long after it was made is given up and recorded as failed.
  FAULTLINE_DELIVERY_GIVE_UP_MS: positiveInt(10_000, 7 * 86_400_000).default(6 * 3_600_000),
});

/** The environment variables the collector reads (`faultline --help` lists them). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  port: number;
  /** OTLP/gRPC port; null when turned off. */
  grpcPort: number | null;
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
  /** Sessions silent this long are marked abandoned, never flagged as fresh stuck events. */
  abandonedAfterMs: number;
  sweepIntervalMs: number;
  maxBodyBytes: number;
  maxQueuedSpans: number;
  maxBatchSpans: number;
  otlpLimits: OtlpLimits;
  retentionIntervalMs: number;
  checkpointWalBytes: number;
  dbConnectTimeoutMs: number;
  dbStatementTimeoutMs: number;
  dbProbeTimeoutMs: number;
  shutdownTimeoutMs: number;
  writers: number;
  /** GET /api/stream: events kept for Last-Event-ID resume. */
  sseReplay: number;
  maxSseViewers: number;
  sseViewerBufferBytes: number;
  /** Live stream: session changes within this window are sent once (default 250 ms; tests shorten it). */
  sseCoalesceMs?: number;
  /** Operator rules and codes from FAULTLINE_RULES; null when unset. */
  rules: OperatorRules | null;
  storePrompts: boolean;
  /** Destinations and rules from FAULTLINE_ALERTS; null when unset. */
  alerts: AlertsFile | null;
  deliveryTimeoutMs: number;
  deliveryGiveUpMs: number;
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
    grpcPort: e.FAULTLINE_GRPC_PORT !== undefined ? e.FAULTLINE_GRPC_PORT : e.PORT === 0 ? 0 : 4317,
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
    abandonedAfterMs: e.FAULTLINE_ABANDONED_AFTER_MS,
    sweepIntervalMs: e.FAULTLINE_SWEEP_INTERVAL_MS,
    maxBodyBytes: e.FAULTLINE_MAX_BODY_BYTES,
    maxQueuedSpans: e.FAULTLINE_MAX_QUEUED_SPANS,
    maxBatchSpans: e.FAULTLINE_MAX_BATCH_SPANS,
    otlpLimits: {
      maxSpansPerRequest: e.FAULTLINE_MAX_SPANS_PER_REQUEST,
      maxAttributesPerSpan: e.FAULTLINE_MAX_ATTRIBUTES_PER_SPAN,
      maxEventsPerSpan: e.FAULTLINE_MAX_EVENTS_PER_SPAN,
      maxValueBytes: e.FAULTLINE_MAX_VALUE_BYTES,
      maxSpanBytes: e.FAULTLINE_MAX_SPAN_BYTES,
      maxRequestBytes: e.FAULTLINE_MAX_REQUEST_BYTES,
    },
    retentionIntervalMs: e.FAULTLINE_RETENTION_INTERVAL_MS,
    checkpointWalBytes: e.FAULTLINE_CHECKPOINT_WAL_MB * 1024 * 1024,
    dbConnectTimeoutMs: e.FAULTLINE_DB_CONNECT_TIMEOUT_MS,
    dbStatementTimeoutMs: e.FAULTLINE_DB_STATEMENT_TIMEOUT_MS,
    dbProbeTimeoutMs: e.FAULTLINE_DB_PROBE_TIMEOUT_MS,
    shutdownTimeoutMs: e.FAULTLINE_SHUTDOWN_TIMEOUT_MS,
    writers: e.FAULTLINE_WRITERS,
    sseReplay: e.FAULTLINE_SSE_REPLAY,
    maxSseViewers: e.FAULTLINE_MAX_SSE_VIEWERS,
    sseViewerBufferBytes: e.FAULTLINE_SSE_VIEWER_BUFFER_KB * 1024,
    rules: e.FAULTLINE_RULES === undefined ? null : loadOperatorRules(e.FAULTLINE_RULES),
    storePrompts: e.FAULTLINE_STORE_PROMPTS,
    alerts: e.FAULTLINE_ALERTS === undefined ? null : loadAlertsFile(e.FAULTLINE_ALERTS, env),
    deliveryTimeoutMs: e.FAULTLINE_DELIVERY_TIMEOUT_MS,
    deliveryGiveUpMs: e.FAULTLINE_DELIVERY_GIVE_UP_MS,
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

/** The deployment's catalog: built-in codes plus the operator's own from FAULTLINE_RULES. */
export function codesOf(config: Pick<Config, 'rules'>): CodeBook {
  return config.rules?.codes ?? BUILTIN_CODES;
}

/**
 * A config for tests and embedding: defaults plus overrides, no environment read. gRPC is off
 * unless asked for (`grpcPort: 0`): parallel test collectors must not compete for 4317.
 */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), grpcPort: null, ...overrides };
}
