/**
 * The collector's query API (docs/design.md, "API"): every request and response as a zod shape.
 * The collector validates its inputs and outputs with them, the typed `hc` client and the
 * dashboard read the types they infer, so a shape is written once. A bad request value becomes
 * a 400 whose message starts with the parameter's name (`limit: must be at most 500`).
 *
 * Pure: zod only, no node:* imports. The plain values and rules without zod (windows, the
 * cursor, error statuses, the session filter predicate) are in api-values.ts, which the root
 * export carries, so a bundle that needs only those never loads zod.
 */
import { z } from 'zod';
import { API_ERROR_CODES, GROUP_STATUSES, NO_NUL, STUCK_ACTIONS, WINDOW_NAMES, decodeCursor, type Cursor, type SessionFilter } from './api-values.ts';
import { CATEGORIES, RETRYABLE } from './catalog-types.ts';
import { SESSION_STATES, STUCK_KINDS } from './states.ts';

export * from './api-values.ts';

// ── error envelope ────────────────────────────────────────────────────────────────────────────

/** `{"error":{"code","message","requestId"}}`: every API answer that is not a success. */
export const ApiErrorShape = z.object({
  error: z.object({
    code: z.enum(API_ERROR_CODES),
    /** For people: what happened and what to do. */
    message: z.string(),
    /** Also in the `x-request-id` header and the collector's log line for this request. */
    requestId: z.string().optional(),
  }),
});
export type ApiError = z.infer<typeof ApiErrorShape>;

// ── request values ────────────────────────────────────────────────────────────────────────────


/** A free-text filter value: trimmed, bounded, no NUL; empty means "not given". */
export const textParam = (max = 256) =>
  z
    .string()
    .trim()
    .max(max, { error: `must be at most ${max} characters` })
    .refine(NO_NUL, { error: 'must not contain a NUL character' })
    .transform((v) => (v === '' ? undefined : v))
    .optional();

/** An id in a path (`/api/sessions/:id`): as stored, bounded, no NUL. */
export const idParam = (what: string, max = 256) =>
  z
    .string()
    .min(1, { error: `must be a ${what}` })
    .max(max, { error: `must be at most ${max} characters` })
    .refine(NO_NUL, { error: 'must not contain a NUL character' });

/** `limit=`: a whole number written in decimal digits, 1…max. */
export const limitParam = (def: number, max: number) =>
  z
    .string()
    .regex(/^\s*\d{1,12}\s*$/, { error: `must be a whole number from 1 to ${max}` })
    .transform(Number)
    .pipe(z.number().min(1, { error: 'must be at least 1' }).max(max, { error: `must be at most ${max}` }))
    .optional()
    .transform((v) => v ?? def);

export const flagParam = z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).transform((v) => v === 'true' || v === '1');

export const cursorParam = z
  .string()
  .max(2048, { error: 'is not a cursor from this API' })
  .transform((raw, ctx): Cursor | undefined => {
    if (raw === '') return undefined;
    const cursor = decodeCursor(raw);
    if (cursor) return cursor;
    ctx.addIssue({ code: 'custom', message: 'is not a cursor from this API; pass the nextCursor of the previous page' });
    return z.NEVER;
  })
  .optional();

export const windowParam = z.enum(WINDOW_NAMES, { error: `must be one of ${WINDOW_NAMES.join(', ')}` }).default('24h');
/** A list's optional window: only what was seen within it; absent means all of retention. */
export const listWindowParam = z.enum(WINDOW_NAMES, { error: `must be one of ${WINDOW_NAMES.join(', ')}` }).optional();

const enumParam = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` });

// ── requests ──────────────────────────────────────────────────────────────────────────────────

/**
 * `GET /api/sessions` filters; all given filters must hold.
 * - `q`: a session id prefix (case-sensitive), or a 32-hex trace id: the sessions with any span
 *   in that trace. Prefix, not substring: ids are searched the way they are quoted, from the
 *   start, and an index can answer it.
 * - `code`: sessions with at least one occurrence of the code within retention — not only those
 *   whose last error it is ("which sessions hit billing?").
 * - `failed`: state `error`, or no state at all and the last outcome an error (derivedOutcome).
 * - `active`: starting, running, retrying or waiting for input, and neither stuck nor abandoned.
 * - `window`: seen within the window (1h, 6h, 24h, 7d); the Overview's windowed cards link with it.
 * - `includeTest`: include test and demo data (TEST_DATA_SERVICES), left out by default unless `q` is given.
 * The answer carries `total`, the number of sessions matching (all pages).
 * `sessionMatches` is the same definition for one session already in hand.
 */
export const SessionListQueryShape = z.object({
  state: enumParam(SESSION_STATES).optional(),
  stuck: flagParam.optional(),
  failed: flagParam.optional(),
  active: flagParam.optional(),
  window: listWindowParam,
  includeTest: flagParam.optional(),
  // The collector also checks that it knows the code (the catalog, and the operator's own codes).
  code: textParam(64).transform((c) => c?.toUpperCase()),
  service: textParam(256),
  q: textParam(256),
  limit: limitParam(50, 500),
  cursor: cursorParam,
});
export type SessionListQuery = z.input<typeof SessionListQueryShape>;
/** Compile-time check: the parsed filters are the SessionFilter that `sessionMatches` reads. */
export type ParsedSessionFilter = Omit<z.output<typeof SessionListQueryShape>, 'limit' | 'cursor'>;
const _parsedIsFilter = (f: ParsedSessionFilter): SessionFilter => f;
void _parsedIsFilter;

export const SessionIdParamShape = z.object({ id: idParam('session id') });

export const CodeParamShape = z.object({ code: idParam('catalog code', 64) });

const codeFilter = textParam(64).transform((c) => c?.toUpperCase());

/**
 * `GET /api/errors`: occurrences, newest first, with `total`. `timeout=true`: only timeouts (an
 * occurrence with a timeout kind, whatever its category: a provider timeout is category
 * `provider`) — what the Timeouts chart counts. `window` and `includeTest` as for sessions; test
 * and demo data stay in when asking for one `session` or `fingerprint`.
 */
export const ErrorListQueryShape = z.object({
  code: codeFilter,
  window: listWindowParam,
  timeout: flagParam.optional(),
  includeTest: flagParam.optional(),
  category: enumParam(CATEGORIES).optional(),
  session: textParam(256),
  fingerprint: textParam(256),
  limit: limitParam(50, 500),
  cursor: cursorParam,
});

export const GroupListQueryShape = z.object({
  code: codeFilter,
  status: enumParam(GROUP_STATUSES).optional(),
  limit: limitParam(200, 1000),
});

export const GroupParamShape = z.object({ fingerprint: idParam('fingerprint') });
export const GroupPatchShape = z.object({ status: enumParam(GROUP_STATUSES) });

export const TimeoutsQueryShape = z.object({
  window: windowParam,
  includeTest: flagParam.optional(),
  kind: z
    .string()
    .trim()
    .regex(/^[a-z0-9_.-]{1,64}$/, { error: 'must be a timeout kind such as heartbeat or schedule_to_start' })
    .optional(),
});

export const OverviewQueryShape = z.object({ window: windowParam, includeTest: flagParam.optional() });

/** `POST /api/sessions/:id/stuck`: acknowledge (someone is on it) or dismiss (leaves "stuck now"). */
export const StuckActionShape = z.object({ action: enumParam(STUCK_ACTIONS) });

// ── resources ─────────────────────────────────────────────────────────────────────────────────

const state = z.enum(SESSION_STATES);
const category = z.enum(CATEGORIES);
const json = z.record(z.string(), z.unknown());

export const LastErrorShape = z.object({
  code: z.string(),
  category,
  /** The friendly user message, with {provider}/{model} filled in. */
  message: z.string(),
  at: z.string(),
});
export type LastError = z.infer<typeof LastErrorShape>;

export const SessionShape = z.object({
  id: z.string(),
  service: z.string(),
  agent: z.string().nullable(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  state: state.nullable(),
  statusMessage: z.string().nullable(),
  stuck: z.boolean(),
  stuckKind: z.enum(STUCK_KINDS).nullable(),
  stuckSince: z.string().nullable(),
  lastError: LastErrorShape.nullable(),
  startedAt: z.string(),
  lastSeenAt: z.string(),
  endedAt: z.string().nullable(),
  errorCount: z.number(),
  spanCount: z.number(),
  lastTraceId: z.string().nullable(),
  lastHeartbeat: z.object({ at: z.string(), details: json }).nullable(),
  /** Start of the newest span that succeeded; with no state, derivedOutcome reads it against lastError. */
  lastOkAt: z.string().nullable(),
  /** Silent past FAULTLINE_ABANDONED_AFTER_MS: no longer counted stuck or active; cleared by a new span. */
  abandonedAt: z.string().nullable(),
  /** An operator acknowledged the stall (it stays stuck). */
  stuckAcknowledgedAt: z.string().nullable(),
  /** An operator dismissed a stall: the last sign of life (span time) it covered. Not stuck again until a newer one stalls. */
  stuckDismissedAt: z.string().nullable(),
  /** From Faultline's scenarios or the example runtime (TEST_DATA_SERVICES). */
  testData: z.boolean(),
});
export type Session = z.infer<typeof SessionShape>;

/** A keyset page: pass `nextCursor` as `cursor=` for the next one; null on the last page. */
export const PageShape = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
/** A page with the number of items matching the filters across all pages, counted up to LIST_TOTAL_CAP + 1 (above the cap: "more than"). */
export const CountedPageShape = <T extends z.ZodType>(item: T) => PageShape(item).extend({ total: z.number() });
export interface CountedPage<T> extends Page<T> {
  total: number;
}

export const ErrorClassificationShape = z.object({
  /** e.g. `temporal-timeout-text`, `http-status`, `operator:acme-portal`, `watchdog`. */
  rule: z.string(),
  /** e.g. `message~"activity StartToClose timeout"`. */
  signal: z.string().nullable(),
});
export type ErrorClassification = z.infer<typeof ErrorClassificationShape>;

export const ErrorOccurrenceShape = z.object({
  id: z.string(),
  at: z.string(),
  sessionId: z.string().nullable(),
  traceId: z.string().nullable(),
  spanId: z.string().nullable(),
  service: z.string(),
  code: z.string(),
  category,
  title: z.string(),
  message: z.string(),
  technicalMessage: z.string().nullable(),
  exceptionType: z.string().nullable(),
  stacktrace: z.string().nullable(),
  fingerprint: z.string(),
  timeoutKind: z.string().nullable(),
  httpStatus: z.number().nullable(),
  upstreamStatus: z.number().nullable(),
  upstreamType: z.string().nullable(),
  retryable: z.enum(RETRYABLE),
  attributes: json,
  /** Why this code: the classifier rule that decided and the signal it used; null for occurrences stored before it was recorded. */
  classification: ErrorClassificationShape.nullable(),
});
export type ErrorOccurrence = z.infer<typeof ErrorOccurrenceShape>;

/** `log`: an OpenTelemetry log event (an agent CLI's prompt, API request, tool result, …). */
export const TIMELINE_KINDS = ['status', 'heartbeat', 'turn', 'tool', 'error', 'span', 'log'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export const TimelineItemShape = z.object({
  kind: z.enum(TIMELINE_KINDS),
  at: z.string(),
  endAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  name: z.string(),
  traceId: z.string(),
  spanId: z.string(),
  /** status: the new state; error: the code */
  state: state.nullable().optional(),
  statusMessage: z.string().nullable().optional(),
  code: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
  statusCode: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  details: json,
  error: ErrorOccurrenceShape.optional(),
});
export type TimelineItem = z.infer<typeof TimelineItemShape>;

export const SessionDetailShape = z.object({
  session: SessionShape,
  timeline: z.array(TimelineItemShape),
  /** What support can tell the customer, in plain words (schema `customerMessage`). */
  customerMessage: z.string(),
  /** Retries the producer recorded (`retrying` states, attempt counts); 0 when none were, so none is claimed. */
  retries: z.number(),
});
export type SessionDetail = z.infer<typeof SessionDetailShape>;

export const LatestOutputShape = z.object({
  sessionId: z.string(),
  kind: z.enum(['output', 'error', 'none']),
  at: z.string().nullable(),
  text: z.string().nullable(),
  error: ErrorOccurrenceShape.nullable(),
  state: state.nullable(),
});
export type LatestOutput = z.infer<typeof LatestOutputShape>;

export const ErrorGroupShape = z.object({
  fingerprint: z.string(),
  code: z.string(),
  category,
  title: z.string(),
  exceptionType: z.string().nullable(),
  sampleMessage: z.string(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  count: z.number(),
  sessions: z.number(),
  status: z.enum(GROUP_STATUSES),
  /** Set when a resolved group saw a new occurrence and reopened by itself; cleared when an operator sets the status. */
  regressedAt: z.string().nullable(),
});
export type ErrorGroup = z.infer<typeof ErrorGroupShape>;

export const CodeWithStatsShape = z.object({
  code: z.string(),
  category,
  title: z.string(),
  userMessage: z.string(),
  /** What the user actually saw when the collector, not the producer, recorded the code (the stuck watchdog); null: `userMessage`. */
  userSaw: z.string().nullable(),
  supportNote: z.string(),
  operatorHint: z.string(),
  retryable: z.enum(RETRYABLE),
  httpStatus: z.number().nullable(),
  timeoutKind: z.string().nullable(),
  count: z.number(),
  sessions: z.number(),
  lastSeen: z.string().nullable(),
});
export type CodeWithStats = z.infer<typeof CodeWithStatsShape>;

/** `GET /api/codes/:code`: the entry with its counts, the sessions it hit recently and its groups. */
export const CodeDetailShape = CodeWithStatsShape.extend({
  /** Sessions that hit this code, most recent hit first. */
  recentSessions: z.array(SessionShape),
  /** The distinct problems (fingerprints) under this code. */
  groups: z.array(ErrorGroupShape),
});
export type CodeDetail = z.infer<typeof CodeDetailShape>;

export const TimeoutStatShape = z.object({
  kind: z.string(),
  count: z.number(),
  sessions: z.number(),
  lastSeen: z.string().nullable(),
  codes: z.array(z.string()),
  /** Only with `kind=`: sessions with a timeout of this kind in the window, most recent first. */
  affectedSessions: z.array(SessionShape).optional(),
});
export type TimeoutStat = z.infer<typeof TimeoutStatShape>;

export const OverviewBucketShape = z.object({
  at: z.string(),
  /** error counts per category in this bucket */
  byCategory: z.record(z.string(), z.number()),
  total: z.number(),
});
export type OverviewBucket = z.infer<typeof OverviewBucketShape>;

export const OverviewShape = z.object({
  window: z.enum(WINDOW_NAMES),
  /** Whether test and demo data are counted (`includeTest=true`). */
  includeTest: z.boolean(),
  sessions: z.object({ total: z.number(), active: z.number(), failed: z.number(), stuck: z.number() }),
  errors: z.number(),
  topCodes: z.array(z.object({ code: z.string(), title: z.string(), category, count: z.number() })),
  timeouts: z.array(TimeoutStatShape),
  series: z.array(OverviewBucketShape),
});
export type Overview = z.infer<typeof OverviewShape>;

/**
 * What `GET /api/stream` sends, one Server-Sent Event each, named by `type`. No name may be one a
 * browser gives a meaning of its own: an SSE event named `error` fires `EventSource.onerror`,
 * which every client takes for a lost connection (hence `occurrence`, not `error`).
 */
export const STREAM_EVENT_TYPES = ['session', 'occurrence', 'stuck', 'scenario'] as const;
export type StreamEvent =
  | { type: 'session'; session: Session }
  /** An error occurrence was recorded. */
  | { type: 'occurrence'; occurrence: ErrorOccurrence }
  | { type: 'stuck'; session: Session }
  | { type: 'scenario'; scenarioId: string };
export type StreamEventType = (typeof STREAM_EVENT_TYPES)[number];
// The list and the union name the same types (a compile error here means they drifted apart).
const streamTypesMatch: [StreamEventType] extends [StreamEvent['type']] ? ([StreamEvent['type']] extends [StreamEventType] ? true : false) : false = true;
void streamTypesMatch;

/**
 * The stream's own messages. `hello` opens every connection (`resumed`: the missed events follow,
 * replayed from the collector's buffer). `reset`: events may have been lost (the viewer's
 * Last-Event-ID is older than the buffer, from a restarted collector, or a burst touched too many
 * sessions to send one by one): refetch what is on screen once.
 */
export const STREAM_CONTROL_TYPES = ['hello', 'reset'] as const;
export const StreamHelloShape = z.object({ serverTime: z.string(), resumed: z.boolean() });
export type StreamHello = z.infer<typeof StreamHelloShape>;
export const StreamResetShape = z.object({
  reason: z.enum(['unknown-id', 'too-old', 'restarted', 'burst', 'incomplete']),
  message: z.string(),
});
export type StreamReset = z.infer<typeof StreamResetShape>;
/** On every /api response: the stream position the answer is at least as new as (see docs). */
export const STREAM_POSITION_HEADER = 'faultline-stream-position';

/** `POST /api/stream/tickets` (an empty JSON object) → a short-lived ticket for EventSource, which cannot send headers. */
export const StreamTicketRequestShape = z.object({});
export const StreamTicketShape = z.object({ ticket: z.string(), expiresAt: z.string() });

// ── scenarios (descriptions in scenarios.ts; what a run records and GET /api/scenarios returns) ─

export const TimeToDetectShape = z.object({
  /** What a user waits in production, in words (e.g. "the 60 s ScheduleToStart limit"). */
  production: z.string(),
  productionMs: z.number(),
  /** The budget a scenario run checks against: the shrunk limit plus the pipeline's own delay. */
  testMs: z.number(),
  /** How the limits are shrunk for the run, in words. */
  testSetup: z.string(),
});
export type TimeToDetect = z.infer<typeof TimeToDetectShape>;

export const ScenarioVariantShape = z.object({
  /** Unique within its scenario. */
  id: z.string(),
  title: z.string(),
  trigger: z.string(),
  /** null: no error may be recorded for this variant. */
  expectedCode: z.string().nullable(),
  expectedState: state,
  expectedMessage: z.string().nullable(),
});
export type ScenarioVariant = z.infer<typeof ScenarioVariantShape>;

export const ScenarioDescriptionShape = z.object({
  /** Stable slug; also the key of stored runs. */
  id: z.string(),
  /** Position in the taxonomy's scenario list (13 is Faultline's own watchdog scenario). */
  number: z.number(),
  title: z.string(),
  /** The seed incident it comes from, e.g. "000". */
  seed: z.string(),
  /** Where it is written down: taxonomy section and upstream references. */
  source: z.string(),
  /** What went wrong for users before, in a sentence or two. */
  description: z.string(),
  trigger: z.string(),
  expectedCode: z.string(),
  /** The state the session must be in once the failure is detected. */
  expectedState: state,
  /** The catalog's words, rendered with the scenario's provider and model. */
  expectedMessage: z.string(),
  /** The path of states, for people (e.g. "starting → retrying → error"). */
  stateFlow: z.string(),
  /** Whether the session must count as failed (state `error`) and never as stuck. */
  expectFailed: z.boolean(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  timeToDetect: TimeToDetectShape,
  /** Same as timeToDetect.testMs; the field the dashboard reads. */
  timeToDetectMs: z.number(),
  /** What a run checks beyond code, state and message, in words. */
  checks: z.array(z.string()),
  variants: z.array(ScenarioVariantShape),
});
export type ScenarioDescription = z.infer<typeof ScenarioDescriptionShape>;

const text = (max: number) => z.string().max(max);
const detectMs = z.number().int().min(0).max(86_400_000).nullable();

export const ScenarioCheckResultShape = z.object({ name: text(200), passed: z.boolean(), detail: text(2000).optional() });
export type ScenarioCheckResult = z.infer<typeof ScenarioCheckResultShape>;

export const ScenarioVariantResultShape = z.object({
  id: text(100),
  passed: z.boolean(),
  detectedCode: text(64).nullable(),
  detectedState: state.nullable(),
  detectMs,
  sessionId: text(256),
  detail: text(2000),
});
export type ScenarioVariantResult = z.infer<typeof ScenarioVariantResultShape>;

/** One run of one scenario, as the runner posts it to `POST /api/scenarios/results`. */
export const ScenarioRunResultShape = z.object({
  scenarioId: text(100),
  passed: z.boolean(),
  detectedCode: text(64).nullable(),
  detectedState: state.nullable(),
  /** From the injected fault to the collector's API showing the expected code and state. */
  detectMs,
  sessionId: text(256).nullable(),
  /** One line for people: what passed, or the first thing that did not. */
  detail: text(2000),
  checks: z.array(ScenarioCheckResultShape).max(100).default([]),
  variants: z.array(ScenarioVariantResultShape).max(20).default([]),
});
export type ScenarioRunResult = z.output<typeof ScenarioRunResultShape>;

export const ScenarioRecordedShape = z.object({ id: z.number(), at: z.string() });

export const ScenarioLastRunShape = z.object({
  passed: z.boolean(),
  detectedCode: z.string().nullable(),
  detectedState: z.string().nullable(),
  detectMs: z.number().nullable(),
  sessionId: z.string().nullable(),
  at: z.string(),
  detail: z.string(),
  checks: z.array(ScenarioCheckResultShape),
  variants: z.array(ScenarioVariantResultShape),
});
export type ScenarioLastRun = z.infer<typeof ScenarioLastRunShape>;

export const ScenarioWithLastRunShape = ScenarioDescriptionShape.extend({ lastRun: ScenarioLastRunShape.nullable() });
export type ScenarioWithLastRun = z.infer<typeof ScenarioWithLastRunShape>;

/** `POST /api/scenarios/run`: one scenario (`id`), several (`ids`), or all (neither). */
export const ScenarioRunRequestShape = z.object({ id: text(100).optional(), ids: z.array(text(100)).max(100).optional() });

/** `GET /api/scenarios/run`: the collector's background run, if any. */
export const ScenarioRunStatusShape = z.object({
  running: z.boolean(),
  ids: z.array(z.string()),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  exitCode: z.number().nullable(),
  /** The runner's last lines of output (its table or its error). */
  outputTail: z.string(),
});
export type ScenarioRunStatus = z.infer<typeof ScenarioRunStatusShape>;

// ── alerts and session webhooks (docs/alerts.md) ────────────────────────────────────────────
export * from './api-alerts.ts';
