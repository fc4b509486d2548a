/**
 * The API's plain values and rules, without zod: error codes and statuses, the cursor format,
 * the windows, and the session filters applied to one session. The root export carries them (so
 * the dashboard bundles no zod for them); the zod shapes in api.ts build on them.
 */
import type { SessionState } from './states.ts';

/** NUL cannot be stored in Postgres text and never appears in a real id or filter. */
export const NO_NUL = (v: string) => !v.includes('\u0000');

/**
 * Every machine code the collector answers with, and its HTTP status. Closed: a new failure
 * the API reports gets a code here first, so clients can switch on `error.code`.
 */
export const API_ERROR_STATUS = {
  invalid_request: 400,
  otlp_decode_failed: 400,
  unauthorized: 401,
  foreign_origin: 403,
  not_found: 404,
  scenario_run_in_progress: 409,
  managed_by_file: 409,
  destination_in_use: 409,
  payload_too_large: 413,
  unsupported_content_encoding: 415,
  unsupported_media_type: 415,
  unknown_host: 421,
  too_many_requests: 429,
  internal: 500,
  startup_failed: 500,
  unavailable: 503,
  scenarios_unavailable: 503,
  /** The database is down or frozen (the collector's breaker is open); Retry-After says when to come back. */
  storage_unavailable: 503,
  /** The collector is draining after SIGTERM. */
  shutting_down: 503,
  /** GET /api/stream: FAULTLINE_MAX_SSE_VIEWERS live viewers are already connected; Retry-After says when to try again. */
  too_many_viewers: 503,
} as const;
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;
export const API_ERROR_CODES = Object.keys(API_ERROR_STATUS) as [ApiErrorCode, ...ApiErrorCode[]];

/**
 * Keyset position: the sort time as Postgres text at microsecond precision (a JS Date would
 * lose the microseconds and repeat or skip rows at a page boundary) and the row id.
 */
export interface Cursor {
  t: string;
  id: string;
}

const CURSOR_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{1,6})?Z$/;

/** A real instant between years 1 and 9999 (what timestamptz takes): no month 13, no February 30. */
function isCursorTime(t: string): boolean {
  const m = CURSOR_TIME.exec(t);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (y < 1) return false;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s);
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && date.getUTCHours() === h && date.getUTCMinutes() === mi && date.getUTCSeconds() === s;
}

const toBase64Url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromBase64Url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));

/** The opaque `nextCursor` of a page: base64url of `[time, id]`. */
export function encodeCursor(c: Cursor): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify([c.t, c.id])));
}

export function decodeCursor(raw: string): Cursor | undefined {
  try {
    const v: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64Url(raw)));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && isCursorTime(v[0]) && typeof v[1] === 'string' && NO_NUL(v[1]) && v[1].length <= 512) {
      return { t: v[0], id: v[1] };
    }
  } catch {
    // not base64url JSON: the issue below says what to send
  }
  return undefined;
}

/** Windows for counts and charts, with the bucket width that gives 30–50 points on a chart. */
export const WINDOWS = {
  '1h': { ms: 3_600_000, bucketMs: 120_000 },
  '6h': { ms: 6 * 3_600_000, bucketMs: 600_000 },
  '24h': { ms: 24 * 3_600_000, bucketMs: 1_800_000 },
  '7d': { ms: 7 * 24 * 3_600_000, bucketMs: 4 * 3_600_000 },
} as const;
export type WindowName = keyof typeof WINDOWS;
export const WINDOW_NAMES = Object.keys(WINDOWS) as [WindowName, ...WindowName[]];

export const GROUP_STATUSES = ['open', 'resolved', 'ignored'] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];

// ── test and demo data ────────────────────────────────────────────────────────────────────────

/**
 * Services whose sessions are Faultline's own test and demo data: the scenario runner
 * (`faultline-scenarios`) and the example runtime (`example-agent-runtime`). They are kept out of
 * counts and lists unless asked for (`includeTest=true`, the dashboard's "Include test and demo
 * data"), so a scenario run never reads as a production incident.
 */
export const TEST_DATA_SERVICES = ['faultline-scenarios', 'example-agent-runtime'] as const;
export const isTestDataService = (service: string) => (TEST_DATA_SERVICES as readonly string[]).includes(service);

// ── one definition of the session filters, for a session already in hand ──────────────────────

/** States in which a session is doing something (or waiting for its user); "active" also means not stuck and not abandoned. */
export const ACTIVE_STATES = ['starting', 'running', 'retrying', 'waiting_input'] as const satisfies readonly SessionState[];

/** The `GET /api/sessions` filters once parsed (SessionListQueryShape in api.ts parses to this). */
export interface SessionFilter {
  state?: SessionState;
  stuck?: boolean;
  failed?: boolean;
  /** In an active state, not stuck and not abandoned: "active now". */
  active?: boolean;
  code?: string;
  service?: string;
  q?: string;
  /** Seen (any span, or a watchdog flag) within this window. */
  window?: WindowName;
  /** Include test and demo data (TEST_DATA_SERVICES); a search by id (`q`) always includes it. */
  includeTest?: boolean;
}

/** What the filters read of a session (a `Session` of the API has all of it). */
export interface SessionFacts {
  id: string;
  service: string;
  state: SessionState | null;
  stuck: boolean;
  lastError: { code: string; at: string } | null;
  lastTraceId: string | null;
  lastSeenAt: string;
  /** Start of the newest span that succeeded (no error); see derivedOutcome. */
  lastOkAt: string | null;
  abandonedAt: string | null;
}

const TRACE_ID = /^[0-9a-f]{32}$/i;

/** Whether `q` reads as a trace id (then it also matches sessions with a span in that trace). */
export const isTraceIdQuery = (q: string) => TRACE_ID.test(q);

/** Whether a filtered list leaves out test and demo data: unless asked for, or when searching one id. */
export const hidesTestData = (filter: Pick<SessionFilter, 'includeTest' | 'q'>) => filter.includeTest !== true && !filter.q;

/**
 * The outcome of a session that never told us its state (plain OpenTelemetry producers send no
 * status spans), from the last outcome seen: an error with no successful call after it is
 * `failed`; a call that started after the last error and succeeded is `recovered`; calls and no
 * error at all is `ok`. null for sessions with a state (their state says it) or with nothing yet.
 */
export type DerivedOutcome = 'failed' | 'recovered' | 'ok';
export function derivedOutcome(s: Pick<SessionFacts, 'state' | 'lastError' | 'lastOkAt'>): DerivedOutcome | null {
  if (s.state !== null) return null;
  if (s.lastError === null) return s.lastOkAt !== null ? 'ok' : null;
  return s.lastOkAt !== null && Date.parse(s.lastOkAt) > Date.parse(s.lastError.at) ? 'recovered' : 'failed';
}

/** The derived outcome in words, for people (lists, the session page). */
export const DERIVED_OUTCOME_WORDS: Record<DerivedOutcome, { label: string; sentence: string }> = {
  failed: { label: 'failed', sentence: 'Failed: the last call ended in an error, and nothing succeeded after it.' },
  recovered: { label: 'recovered', sentence: 'Recovered: the last call succeeded after an error.' },
  ok: { label: 'ok', sentence: 'OK: every call so far succeeded.' },
};

/** "Failed": in `error`, or no state at all and the last outcome seen is an error (derivedOutcome). */
export function isFailedSession(s: Pick<SessionFacts, 'state' | 'lastError' | 'lastOkAt'>): boolean {
  return s.state === 'error' || derivedOutcome(s) === 'failed';
}

/** "Active now": in an active state, not stuck, not abandoned (a stuck session is not doing anything). */
export function isActiveSession(s: Pick<SessionFacts, 'state' | 'stuck' | 'abandonedAt'>): boolean {
  return s.state !== null && (ACTIVE_STATES as readonly string[]).includes(s.state) && !s.stuck && s.abandonedAt === null;
}

/**
 * The `GET /api/sessions` filters (SessionListQueryShape) applied to one session, for a list kept
 * live from the stream. What a session object cannot show is read as its best evidence: a last
 * error of the code is a hit of that code, a last trace id is a span in that trace. So a session
 * this accepts is one the server lists; the server may list more (an older hit, an older trace).
 */
export function sessionMatches(filter: SessionFilter, s: SessionFacts, now = Date.now()): boolean {
  if (hidesTestData(filter) && isTestDataService(s.service)) return false;
  if (filter.window && Date.parse(s.lastSeenAt) < now - WINDOWS[filter.window].ms) return false;
  if (filter.stuck !== undefined && s.stuck !== filter.stuck) return false;
  if (filter.failed !== undefined && isFailedSession(s) !== filter.failed) return false;
  if (filter.active !== undefined && isActiveSession(s) !== filter.active) return false;
  if (filter.state && s.state !== filter.state) return false;
  if (filter.code && s.lastError?.code !== filter.code.toUpperCase()) return false;
  if (filter.service && s.service !== filter.service) return false;
  if (filter.q && !s.id.startsWith(filter.q) && !(isTraceIdQuery(filter.q) && s.lastTraceId === filter.q.toLowerCase())) return false;
  return true;
}

// ── the Overview's cards: each number is the total of the list its link opens ──────────────────

/** The `GET /api/errors` filters a card uses. */
export interface ErrorCardFilter {
  window?: WindowName;
  includeTest?: boolean;
}

export interface OverviewCard {
  key: 'failed' | 'stuck' | 'active' | 'errors';
  /** The list the card opens (the dashboard route, and the API route under /api). */
  list: 'sessions' | 'errors';
  /** Counted within the selected window (else: right now, whatever the window). */
  windowed: boolean;
  /** The card's filter, before the window and the test-data toggle. */
  filter: SessionFilter;
  /** What the number counts, for people; `{window}` is the selected window. */
  words: string;
}

/** The cards in the order shown. The overview counts each with `cardQuery`, and links to the same query. */
export const OVERVIEW_CARDS: readonly OverviewCard[] = [
  { key: 'failed', list: 'sessions', windowed: true, filter: { failed: true }, words: 'failed in the last {window}' },
  { key: 'stuck', list: 'sessions', windowed: false, filter: { stuck: true }, words: 'stuck now' },
  { key: 'active', list: 'sessions', windowed: false, filter: { active: true }, words: 'active now (not stuck)' },
  { key: 'errors', list: 'errors', windowed: true, filter: {}, words: 'errors in the last {window}' },
];

/** A card's whole filter: its own, the window when it is windowed, and the test-data toggle. */
export function cardQuery(card: OverviewCard, window: WindowName, includeTest: boolean): SessionFilter & ErrorCardFilter {
  return { ...card.filter, ...(card.windowed ? { window } : {}), ...(includeTest ? { includeTest: true } : {}) };
}

/** The card's link: `/sessions?failed=true&window=24h`; the same path under /api answers the list and its total. */
export function cardHref(card: OverviewCard, window: WindowName, includeTest: boolean): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(cardQuery(card, window, includeTest))) if (v !== undefined) params.set(k, String(v));
  return `/${card.list}?${params.toString()}`;
}

export const cardWords = (card: OverviewCard, window: WindowName) => card.words.replace('{window}', window);

/**
 * Totals (a list's `total`, the Overview's card numbers) count at most this many and one more:
 * a count that does not grow with history. A total above the cap means "more than" it.
 */
export const LIST_TOTAL_CAP = 10_000;
/** A total for people: `10,000+` past the cap. */
export const formatTotal = (n: number) => (n > LIST_TOTAL_CAP ? `${LIST_TOTAL_CAP.toLocaleString('en-US')}+` : n.toLocaleString('en-US'));

// ── operator actions on a stuck session ────────────────────────────────────────────────────────

/**
 * `acknowledge`: someone is on it; it stays stuck (and listed) with who-knows marked.
 * `dismiss`: not worth watching; it leaves "stuck now" until it shows a new sign of life.
 */
export const STUCK_ACTIONS = ['acknowledge', 'dismiss'] as const;
export type StuckAction = (typeof STUCK_ACTIONS)[number];

/** Sessions silent longer than this are marked abandoned, never flagged as fresh stuck events (FAULTLINE_ABANDONED_AFTER_MS). */
export const DEFAULT_ABANDONED_AFTER_MS = 24 * 3_600_000;
