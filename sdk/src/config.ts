/**
 * init() options and the environment, resolved once. Bad values fall back to defaults (a guest
 * must not stop its host from starting) and are reported through the debug log.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TracerProvider } from '@opentelemetry/api';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface FaultlineOptions {
  /** service.name of every span, e.g. "agent-runtime". */
  serviceName: string;
  /** Collector base URL; default FAULTLINE_ENDPOINT or http://127.0.0.1:4318. Spans go to `/v1/traces`. */
  endpoint?: string;
  /** Sent as `Authorization: Bearer <key>`; default FAULTLINE_INGEST_KEY. */
  ingestKey?: string;
  /**
   * Where batches wait during a collector outage; default <tmpdir>/.faultline-spool/<service>.
   * Batches go to a subdirectory bound to the endpoint, so they are only ever sent there.
   */
  spoolDir?: string;
  /** Spool size bound; past it the oldest batches without errors are dropped first. Default 64 MiB. */
  spoolMaxBytes?: number;
  /** Heartbeat period while a session is starting/running/retrying; default 5000; 0 disables. */
  heartbeatIntervalMs?: number;
  /** Log internal failures to stderr; default FAULTLINE_DEBUG=1. */
  debug?: boolean;
  /**
   * Use the runtime's own tracer provider instead of creating one. Its processors and exporters
   * then decide where spans go (no Faultline spool); `shutdown()` leaves it running.
   */
  tracerProvider?: TracerProvider;
  /** More processors for the provider Faultline creates (e.g. a second backend, a console exporter). */
  spanProcessors?: SpanProcessor[];
  /** Replace the OTLP/HTTP exporter (still wrapped by the spool); for tests and custom transports. */
  exporter?: SpanExporter;
  /** BatchSpanProcessor delay; default 500 ms, capped at 1000 so errors arrive promptly. */
  scheduledDelayMillis?: number;
  /** Time one live export may take, including the exporter's retries; default 5000 ms. */
  exportTimeoutMs?: number;
  /**
   * Wait before the first replay after an outage starts; doubles up to replayMaxDelayMs, half of it
   * random (so runtimes do not return in lockstep), never shorter than the collector's Retry-After.
   * Default 1000 ms.
   */
  replayInitialDelayMs?: number;
  /** Default 30000 ms. */
  replayMaxDelayMs?: number;
  /**
   * How long `shutdown()` may try to deliver buffered and spooled spans before it gives up and
   * says what is left; default 5000 ms.
   */
  shutdownTimeoutMs?: number;
  /**
   * Call `shutdown()` on `beforeExit`, SIGTERM and SIGINT. A signal handled only by Faultline
   * still ends the process, once shutdown is over. Default false.
   */
  shutdownOnExit?: boolean;
}

export interface ResolvedConfig {
  serviceName: string;
  endpoint: string;
  tracesUrl: string;
  headers: Record<string, string>;
  spoolDir: string;
  spoolMaxBytes: number;
  heartbeatIntervalMs: number;
  debug: boolean;
  scheduledDelayMillis: number;
  exportTimeoutMs: number;
  replayInitialDelayMs: number;
  replayMaxDelayMs: number;
  shutdownTimeoutMs: number;
  shutdownOnExit: boolean;
  /** Values that were ignored, for the debug log. */
  warnings: string[];
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4318';
// Enough for several minutes of a busy runtime's telemetry, small enough for any tmp dir.
const DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;
// DESIGN §3: "every few seconds"; well under the collector's 60 s running threshold.
const DEFAULT_HEARTBEAT_MS = 5_000;
// Long enough for a collector that restarts (a redeploy) to come back, short enough for a CLI run.
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;
// Errors must reach the dashboard "right away"; one second is the ceiling.
const MAX_SCHEDULED_DELAY_MS = 1_000;

function number(value: unknown, name: string, fallback: number, warnings: string[], min = 0): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number' && Number.isFinite(value) && value >= min) return value;
  warnings.push(`${name}=${String(value)} is not a number ≥ ${min}; using ${fallback}`);
  return fallback;
}

function safeDirName(serviceName: string): string {
  return serviceName.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'default';
}

/**
 * The endpoint as the SDK keys it (trimmed, no trailing slash), or null when it is not a URL. The
 * spool directory is bound to the result, so the runtime and `faultline-sdk replay` must agree.
 */
export function normalizeEndpoint(raw: string): string | null {
  const endpoint = raw.trim().replace(/\/+$/, '');
  try {
    new URL(endpoint);
    return endpoint;
  } catch {
    return null;
  }
}

/** The OTLP traces URL of a collector base URL (one given with `/v1/traces` is kept as it is). */
export function tracesUrlFor(endpoint: string): string {
  return endpoint.endsWith('/v1/traces') ? endpoint : `${endpoint}/v1/traces`;
}

/** The spool directory a runtime uses when it is given none. */
export function defaultSpoolDir(serviceName: string): string {
  return join(tmpdir(), '.faultline-spool', safeDirName(serviceName));
}

export function resolveConfig(given: FaultlineOptions | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const warnings: string[] = [];
  const options: Partial<FaultlineOptions> = given ?? {};
  const serviceName = typeof options.serviceName === 'string' && options.serviceName ? options.serviceName : 'unknown_agent_runtime';
  if (serviceName !== options.serviceName) warnings.push('serviceName missing; using unknown_agent_runtime');

  const givenEndpoint = options.endpoint || env.FAULTLINE_ENDPOINT || DEFAULT_ENDPOINT;
  let endpoint = normalizeEndpoint(givenEndpoint);
  if (endpoint === null) {
    warnings.push(`endpoint ${givenEndpoint} is not a URL; using ${DEFAULT_ENDPOINT}`);
    endpoint = DEFAULT_ENDPOINT;
  }
  const tracesUrl = tracesUrlFor(endpoint);
  const ingestKey = options.ingestKey ?? env.FAULTLINE_INGEST_KEY;
  const headers: Record<string, string> = ingestKey ? { Authorization: `Bearer ${ingestKey}` } : {};

  const scheduled = number(options.scheduledDelayMillis, 'scheduledDelayMillis', 500, warnings, 1);
  return {
    serviceName,
    endpoint,
    tracesUrl,
    headers,
    spoolDir: options.spoolDir || defaultSpoolDir(serviceName),
    spoolMaxBytes: number(options.spoolMaxBytes, 'spoolMaxBytes', DEFAULT_SPOOL_MAX_BYTES, warnings, 1),
    heartbeatIntervalMs: number(options.heartbeatIntervalMs, 'heartbeatIntervalMs', DEFAULT_HEARTBEAT_MS, warnings),
    debug: options.debug ?? env.FAULTLINE_DEBUG === '1',
    scheduledDelayMillis: Math.min(scheduled, MAX_SCHEDULED_DELAY_MS),
    exportTimeoutMs: number(options.exportTimeoutMs, 'exportTimeoutMs', 5_000, warnings, 1),
    replayInitialDelayMs: number(options.replayInitialDelayMs, 'replayInitialDelayMs', 1_000, warnings, 1),
    replayMaxDelayMs: number(options.replayMaxDelayMs, 'replayMaxDelayMs', 30_000, warnings, 1),
    shutdownTimeoutMs: number(options.shutdownTimeoutMs, 'shutdownTimeoutMs', DEFAULT_SHUTDOWN_TIMEOUT_MS, warnings),
    shutdownOnExit: options.shutdownOnExit === true,
    warnings,
  };
}
