/** JSON shapes of the collector's query API (DESIGN §6). The dashboard and scripts build on them. */
import type { SessionState, StuckKind } from './states.ts';
import type { Category, Retryable } from './catalog-types.ts';

export interface LastError {
  code: string;
  category: Category;
  /** The friendly user message, with {provider}/{model} filled in. */
  message: string;
  at: string;
}

export interface Session {
  id: string;
  service: string;
  agent: string | null;
  provider: string | null;
  model: string | null;
  state: SessionState | null;
  statusMessage: string | null;
  stuck: boolean;
  stuckKind: StuckKind | null;
  stuckSince: string | null;
  lastError: LastError | null;
  startedAt: string;
  lastSeenAt: string;
  endedAt: string | null;
  errorCount: number;
  spanCount: number;
  lastTraceId: string | null;
  lastHeartbeat: { at: string; details: Record<string, unknown> } | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ErrorOccurrence {
  id: string;
  at: string;
  sessionId: string | null;
  traceId: string | null;
  spanId: string | null;
  service: string;
  code: string;
  category: Category;
  title: string;
  message: string;
  technicalMessage: string | null;
  exceptionType: string | null;
  stacktrace: string | null;
  fingerprint: string;
  timeoutKind: string | null;
  httpStatus: number | null;
  upstreamStatus: number | null;
  upstreamType: string | null;
  retryable: Retryable;
  attributes: Record<string, unknown>;
  /** Why this code: the classifier rule that decided and the signal it used; null for occurrences stored before it was recorded. */
  classification: ErrorClassification | null;
}

export interface ErrorClassification {
  /** e.g. `temporal-timeout-text`, `http-status`, `operator:acme-portal`, `watchdog`. */
  rule: string;
  /** e.g. `message~"activity StartToClose timeout"`. */
  signal: string | null;
}

/** `log`: an OpenTelemetry log event (an agent CLI's prompt, API request, tool result, …). */
export type TimelineKind = 'status' | 'heartbeat' | 'turn' | 'tool' | 'error' | 'span' | 'log';

export interface TimelineItem {
  kind: TimelineKind;
  at: string;
  endAt: string | null;
  durationMs: number | null;
  name: string;
  traceId: string;
  spanId: string;
  /** status: the new state; error: the code */
  state?: SessionState | null;
  statusMessage?: string | null;
  code?: string | null;
  message?: string | null;
  statusCode: 0 | 1 | 2;
  details: Record<string, unknown>;
  error?: ErrorOccurrence;
}

export interface SessionDetail {
  session: Session;
  timeline: TimelineItem[];
}

export interface LatestOutput {
  sessionId: string;
  kind: 'output' | 'error' | 'none';
  at: string | null;
  text: string | null;
  error: ErrorOccurrence | null;
  state: SessionState | null;
}

export interface ErrorGroup {
  fingerprint: string;
  code: string;
  category: Category;
  title: string;
  exceptionType: string | null;
  sampleMessage: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  sessions: number;
  status: 'open' | 'resolved' | 'ignored';
}

export interface CodeWithStats {
  code: string;
  category: Category;
  title: string;
  userMessage: string;
  supportNote: string;
  operatorHint: string;
  retryable: Retryable;
  httpStatus: number | null;
  timeoutKind: string | null;
  count: number;
  sessions: number;
  lastSeen: string | null;
}

export interface TimeoutStat {
  kind: string;
  count: number;
  sessions: number;
  lastSeen: string | null;
  codes: string[];
}

export interface OverviewBucket {
  at: string;
  /** error counts per category in this bucket */
  byCategory: Record<string, number>;
  total: number;
}

export interface Overview {
  window: string;
  sessions: { total: number; active: number; failed: number; stuck: number };
  errors: number;
  topCodes: { code: string; title: string; category: Category; count: number }[];
  timeouts: TimeoutStat[];
  series: OverviewBucket[];
}

export type StreamEvent =
  | { type: 'session'; session: Session }
  | { type: 'error'; error: ErrorOccurrence }
  | { type: 'stuck'; session: Session }
  | { type: 'scenario'; scenarioId: string };

export interface ApiError {
  error: { code: string; message: string };
}
