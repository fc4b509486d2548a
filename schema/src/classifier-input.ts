/**
 * From what a span (or a log record) carries to classifier input: the one reading of plain
 * OpenTelemetry attributes, used by the collector and by tests that classify without one.
 *
 * Pure: no node:* imports.
 */
import { ATTR, PROVIDER_ALIASES } from './attributes.ts';
import type { ClassifierInput, SpanKindName } from './classifier-types.ts';

/**
 * Where each classifier signal may arrive, first match wins: Faultline's own attribute, then the
 * semantic-convention names plain producers send, then older names still in use.
 */
export const CLASSIFIER_ATTRIBUTE_ALIASES = {
  httpStatus: [ATTR.httpStatus, 'http.status_code'],
  exitCode: [ATTR.cliExitCode, 'process.exit.code', 'process.exit_code'],
  signal: [ATTR.processSignal, 'process.exit.signal', 'process.termination.signal'],
  stderrTail: [ATTR.cliStderrTail, 'process.stderr'],
  grpcStatus: ['rpc.grpc.status_code'],
  rpcService: ['rpc.service'],
  /** Only span-level attributes count: a resource-wide provider is no evidence that this span called it. */
  provider: PROVIDER_ALIASES,
  genAiOperation: [ATTR.genAiOperation],
  serverAddress: ['server.address', 'net.peer.name', 'http.host'],
  url: ['url.full', 'http.url'],
  upstreamType: [ATTR.upstreamType, 'error.upstream_type'],
  upstreamCode: [ATTR.upstreamCode, 'error.upstream_code'],
} as const;

export interface SpanFacts {
  name?: string | null;
  kind?: SpanKindName | null;
  /** Instrumentation scope name. */
  scope?: string | null;
  statusMessage?: string | null;
  attributes: Readonly<Record<string, unknown>>;
  /** Attributes of the span's last `exception` event, when it has one. */
  exception?: Readonly<Record<string, unknown>> | null;
  resource?: Readonly<Record<string, unknown>> | null;
  isTool?: boolean;
}

/** OTLP wire `Span.kind` (0 unspecified … 5 consumer) to its name. */
export function spanKindName(kind: number | null | undefined): SpanKindName | null {
  switch (kind) {
    case 1:
      return 'internal';
    case 2:
      return 'server';
    case 3:
      return 'client';
    case 4:
      return 'producer';
    case 5:
      return 'consumer';
    default:
      return null;
  }
}

const text = (v: unknown): string | null =>
  v === undefined || v === null || v === '' ? null : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : null);

function first<T>(attrs: Readonly<Record<string, unknown>>, keys: readonly string[], read: (v: unknown) => T | null): T | null {
  for (const key of keys) {
    if (!Object.hasOwn(attrs, key)) continue;
    const value = read(attrs[key]);
    if (value !== null) return value;
  }
  return null;
}

function hostOf(url: string | null): string | null {
  if (url === null) return null;
  const m = /^[a-z][a-z0-9+.-]{0,20}:\/\/(?:[^@/?#]{0,200}@)?([^/?#:]{1,255})/i.exec(url);
  return m ? m[1].toLowerCase() : null;
}

export function classifierInputFromAttributes(facts: SpanFacts): ClassifierInput {
  const a = facts.attributes;
  const ex = facts.exception ?? {};
  const A = CLASSIFIER_ATTRIBUTE_ALIASES;
  return {
    code: text(a[ATTR.errorType]),
    exceptionType: text(ex[ATTR.exceptionType]) ?? text(a[ATTR.exceptionType]),
    message: text(ex[ATTR.exceptionMessage]) ?? text(a[ATTR.exceptionMessage]) ?? text(facts.statusMessage),
    httpStatus: first(a, A.httpStatus, num),
    upstreamType: first(a, A.upstreamType, text),
    upstreamCode: first(a, A.upstreamCode, text),
    errno: text(a[ATTR.errno]),
    temporalTimeoutType: text(a[ATTR.temporalTimeoutType]),
    failoverReason: text(a[ATTR.failoverReason]),
    timeoutKind: text(a[ATTR.timeoutKind]),
    cliExitCode: first(a, A.exitCode, num),
    cliSignal: first(a, A.signal, text),
    stderrTail: first(a, A.stderrTail, text),
    sandboxErrorClass: text(a[ATTR.sandboxErrorClass]),
    sandboxExitCode: num(a[ATTR.sandboxExitCode]),
    terminationRequested: bool(a[ATTR.terminationRequested]),
    operation: text(a[ATTR.operation]),
    isTool: facts.isTool ?? false,
    spanName: facts.name ?? null,
    spanKind: facts.kind ?? null,
    scope: facts.scope ?? null,
    service: text(facts.resource?.[ATTR.serviceName]),
    grpcStatus: first(a, A.grpcStatus, num),
    rpcService: first(a, A.rpcService, text),
    providerName: first(a, A.provider, text),
    genAiOperation: first(a, A.genAiOperation, text),
    serverAddress: first(a, A.serverAddress, text) ?? hostOf(first(a, A.url, text)),
    attributes: a,
  };
}
