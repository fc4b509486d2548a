/**
 * The dashboard's only door to the collector (DESIGN §6): a fetch wrapper that adds the API
 * token, turns `{"error":{"code","message"}}` answers into ApiRequestError, and typed calls.
 */
import { get, writable } from 'svelte/store';
import type {
  CodeWithStats,
  ErrorGroup,
  ErrorOccurrence,
  LatestOutput,
  Overview,
  Page,
  ScenarioRunStatus,
  Session,
  SessionDetail,
  TimeoutStat,
} from '@faultline/schema';

const TOKEN_KEY = 'faultline.apiToken';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

function readStoredToken(): string | null {
  try {
    return globalThis.localStorage?.getItem(TOKEN_KEY) ?? null;
  } catch {
    return null; // storage disabled (private mode, sandboxed iframe)
  }
}

/** The API token, if the operator entered one; kept in localStorage across reloads. */
export const token = writable<string | null>(readStoredToken());
/** Set when the collector answered 401: the app shows the token form instead of the view. */
export const authRequired = writable(false);

export function setToken(value: string | null): void {
  const trimmed = value?.trim() || null;
  try {
    if (trimmed) localStorage.setItem(TOKEN_KEY, trimmed);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // keep it in memory only
  }
  token.set(trimmed);
  authRequired.set(false);
}

export type Query = Record<string, string | number | boolean | null | undefined>;

/** `?a=1&b=x`, leaving out empty values so URLs stay short and canonical. */
export function queryString(params: Query): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '' || value === false) continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  signal?: AbortSignal;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const bearer = get(token);
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';

  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiRequestError(
      0,
      'network',
      'Cannot reach the Faultline collector. Check that it is running and reachable from this browser.',
    );
  }

  if (response.status === 401) authRequired.set(true);
  if (!response.ok) throw await toApiError(response);
  if (response.status === 204) return undefined as T;
  try {
    return (await response.json()) as T;
  } catch {
    throw new ApiRequestError(response.status, 'bad_response', `The collector sent an answer that is not JSON (${path}).`);
  }
}

async function toApiError(response: Response): Promise<ApiRequestError> {
  let text = '';
  try {
    text = await response.text();
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body.error && typeof body.error.message === 'string') {
      const code = typeof body.error.code === 'string' ? body.error.code : `http_${response.status}`;
      return new ApiRequestError(response.status, code, body.error.message);
    }
  } catch {
    // not JSON: fall through with the status line
  }
  const detail = text && text.length < 200 ? `: ${text}` : '';
  return new ApiRequestError(
    response.status,
    `http_${response.status}`,
    `The collector answered ${response.status} ${response.statusText}${detail}`.trim(),
  );
}

/** Some list endpoints answer a bare array, others `{items}`; accept both. */
function asList<T>(value: T[] | { items: T[] } | null | undefined): T[] {
  if (Array.isArray(value)) return value;
  return value?.items ?? [];
}

export interface SessionFilter {
  state?: string;
  stuck?: boolean;
  /** In error, or with an error and no state at all (plain OpenTelemetry producers). */
  failed?: boolean;
  code?: string;
  service?: string;
  q?: string;
}

export interface ErrorFilter {
  code?: string;
  category?: string;
  session?: string;
}

export type Window = '1h' | '6h' | '24h' | '7d';
export const WINDOWS: Window[] = ['1h', '6h', '24h', '7d'];

/** /api/codes/:code adds the latest sessions and the groups of that code to the entry. */
export type CodeDetail = CodeWithStats & { recentSessions?: Session[]; groups?: ErrorGroup[] };

export interface ScenarioRun {
  passed: boolean;
  detectedCode: string | null;
  detectMs: number | null;
  at: string;
  detail: string | null;
}

export interface Scenario {
  id: string;
  title: string;
  seed: string;
  trigger: string;
  expectedCode: string;
  expectedState: string | null;
  expectedMessage: string | null;
  timeToDetectMs: number | null;
  lastRun: ScenarioRun | null;
  /** Optional in older collectors: what went wrong for users, the path of states, production timing. */
  description?: string;
  stateFlow?: string;
  timeToDetect?: { production: string; productionMs: number; testMs: number; testSetup: string };
}

const enc = encodeURIComponent;

export const api = {
  overview: (window: Window, signal?: AbortSignal) =>
    request<Overview>(`/api/overview${queryString({ window })}`, { signal }),

  sessions: (filter: SessionFilter & { limit?: number; cursor?: string | null }, signal?: AbortSignal) =>
    request<Page<Session>>(`/api/sessions${queryString({ ...filter })}`, { signal }),

  session: (id: string, signal?: AbortSignal) => request<SessionDetail>(`/api/sessions/${enc(id)}`, { signal }),

  latest: (id: string, signal?: AbortSignal) => request<LatestOutput>(`/api/sessions/${enc(id)}/latest`, { signal }),

  codes: async (signal?: AbortSignal) => asList(await request<CodeWithStats[] | Page<CodeWithStats>>('/api/codes', { signal })),

  code: (code: string, signal?: AbortSignal) => request<CodeDetail>(`/api/codes/${enc(code)}`, { signal }),

  errors: (filter: ErrorFilter & { limit?: number; cursor?: string | null }, signal?: AbortSignal) =>
    request<Page<ErrorOccurrence>>(`/api/errors${queryString({ ...filter })}`, { signal }),

  groups: async (filter: ErrorFilter, signal?: AbortSignal) =>
    asList(await request<ErrorGroup[] | Page<ErrorGroup>>(`/api/groups${queryString({ ...filter })}`, { signal })),

  timeouts: async (window: Window, signal?: AbortSignal) =>
    asList(await request<TimeoutStat[] | { items: TimeoutStat[] }>(`/api/timeouts${queryString({ window })}`, { signal })),

  timeoutKind: (window: Window, kind: string, signal?: AbortSignal) =>
    request<(TimeoutStat & { affectedSessions?: Session[] })[]>(`/api/timeouts${queryString({ window, kind })}`, { signal }),

  scenarios: async (signal?: AbortSignal) =>
    asList(await request<Scenario[] | { items: Scenario[] }>('/api/scenarios', { signal })),

  /** Runs one scenario (`{id}`) or all of them (`{}`); resolves when the collector has finished. */
  runScenarios: (id?: string) => request<ScenarioRunStatus>('/api/scenarios/run', { method: 'POST', body: id ? { id } : {} }),
  scenarioRunStatus: (signal?: AbortSignal) => request<ScenarioRunStatus>('/api/scenarios/run', { signal }),

  /** A short-lived ticket for opening the live stream: EventSource cannot send the token header. */
  streamTicket: () => request<{ ticket: string; expiresAt: string }>('/api/stream/tickets', { method: 'POST', body: {} }),
};

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
