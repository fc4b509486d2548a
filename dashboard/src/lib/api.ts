/**
 * The dashboard's only door to the collector: the collector's own typed client (hono/client over
 * its AppType, @faultline/collector/client), with the API token added, 401 turned into the
 * token form, and `{"error":{"code","message"}}` answers into ApiRequestError. Every answer's type
 * comes from the server's routes; no shape is written twice.
 */
import { get, writable } from 'svelte/store';
import { ApiRequestError, createApiClient, unwrap } from '@faultline/collector/client';
import { WINDOW_NAMES } from '@faultline/schema';
import type { GroupStatus, ScenarioWithLastRun, SessionListQuery, StuckAction, WindowName } from '@faultline/schema';
import { STREAM_POSITION_HEADER, type AlertRuleInput, type AlertRulePatch, type DeliveryListQuery, type DestinationInput } from '@faultline/schema/api';

export { ApiRequestError };

const TOKEN_KEY = 'faultline.apiToken';

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
  const text = new URLSearchParams(query(params)).toString();
  return text ? `?${text}` : '';
}

const positionListeners = new Set<(position: string) => void>();

/** Each API answer's live-stream position (how new its data is), for the live connection (live.ts). */
export function onStreamPosition(fn: (position: string) => void): () => void {
  positionListeners.add(fn);
  return () => positionListeners.delete(fn);
}

/** Every call goes through fetch at call time (tests stub it), and a 401 asks for the token. */
async function collectorFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const response = await globalThis.fetch(input, init);
  if (response.status === 401) authRequired.set(true);
  const position = response.headers?.get(STREAM_POSITION_HEADER);
  if (position) for (const fn of positionListeners) fn(position);
  return response;
}

const client = createApiClient('', { token: () => get(token), fetch: collectorFetch as typeof fetch });

/** Filter values as the dashboard keeps them (unchecked = false, empty = ''), as query strings without the empty ones. */
export function query(params: Query): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '' || value === false) continue;
    out[key] = String(value);
  }
  return out;
}

export interface SessionFilter {
  state?: string;
  stuck?: boolean;
  /** In error, or no state at all and the last outcome an error (derivedOutcome in the contract). */
  failed?: boolean;
  /** Active now: not stuck, not abandoned. */
  active?: boolean;
  code?: string;
  service?: string;
  q?: string;
  /** Seen within this window; '' = all of retention. */
  window?: string;
  /** Include test and demo data (scenarios, the example runtime). */
  includeTest?: boolean;
}

export interface ErrorFilter {
  code?: string;
  category?: string;
  session?: string;
  window?: string;
  /** Only timeouts (an occurrence with a timeout kind, whatever its category). */
  timeout?: boolean;
  includeTest?: boolean;
}

export type Window = WindowName;
export const WINDOWS: Window[] = [...WINDOW_NAMES];

export type Scenario = ScenarioWithLastRun;

export const api = {
  overview: (window: Window, signal?: AbortSignal, includeTest = false) =>
    unwrap(client.api.overview.$get({ query: query({ window, includeTest }) as { window: Window } }, { init: { signal } })),

  sessions: (filter: SessionFilter & { limit?: number; cursor?: string | null }, signal?: AbortSignal) =>
    unwrap(client.api.sessions.$get({ query: query({ ...filter }) as SessionListQuery }, { init: { signal } })),

  session: (id: string, signal?: AbortSignal) => unwrap(client.api.sessions[':id'].$get({ param: { id } }, { init: { signal } })),

  latest: (id: string, signal?: AbortSignal) => unwrap(client.api.sessions[':id'].latest.$get({ param: { id } }, { init: { signal } })),

  codes: (signal?: AbortSignal) => unwrap(client.api.codes.$get(undefined, { init: { signal } })),

  code: (code: string, signal?: AbortSignal) => unwrap(client.api.codes[':code'].$get({ param: { code } }, { init: { signal } })),

  errors: (filter: ErrorFilter & { limit?: number; cursor?: string | null }, signal?: AbortSignal) =>
    unwrap(client.api.errors.$get({ query: query({ ...filter }) as Record<string, string> }, { init: { signal } })),

  groups: (filter: ErrorFilter, signal?: AbortSignal) => unwrap(client.api.groups.$get({ query: query({ code: filter.code }) }, { init: { signal } })),

  /** Resolve, ignore or reopen a group (a resolved group that recurs reopens by itself: "regressed"). */
  setGroupStatus: (fingerprint: string, status: GroupStatus) =>
    unwrap(client.api.groups[':fingerprint'].$patch({ param: { fingerprint }, json: { status } })),

  /** Acknowledge a stall (stays stuck, marked) or dismiss it (leaves "stuck now" until it stalls again). */
  stuckAction: (id: string, action: StuckAction) => unwrap(client.api.sessions[':id'].stuck.$post({ param: { id }, json: { action } })),

  timeouts: (window: Window, signal?: AbortSignal, includeTest = false) =>
    unwrap(client.api.timeouts.$get({ query: query({ window, includeTest }) as { window: Window } }, { init: { signal } })),

  timeoutKind: (window: Window, kind: string, signal?: AbortSignal) =>
    unwrap(client.api.timeouts.$get({ query: { window, kind } }, { init: { signal } })),

  scenarios: (signal?: AbortSignal) => unwrap(client.api.scenarios.$get(undefined, { init: { signal } })),

  /** Starts one scenario (`{id}`) or all of them (`{}`) in the background; poll scenarioRunStatus for the end. */
  runScenarios: (id?: string) => unwrap(client.api.scenarios.run.$post({ json: id ? { id } : {} })),
  scenarioRunStatus: (signal?: AbortSignal) => unwrap(client.api.scenarios.run.$get(undefined, { init: { signal } })),

  alertRules: (signal?: AbortSignal) => unwrap(client.api.alerts.rules.$get(undefined, { init: { signal } })),
  createAlertRule: (input: AlertRuleInput) => unwrap(client.api.alerts.rules.$post({ json: input })),
  patchAlertRule: (id: string, patch: AlertRulePatch) => unwrap(client.api.alerts.rules[':id'].$patch({ param: { id }, json: patch })),
  deleteAlertRule: (id: string) => client.api.alerts.rules[':id'].$delete({ param: { id } }, { headers: { 'content-type': 'application/json' } }).then(noContent),
  destinations: (signal?: AbortSignal) => unwrap(client.api.alerts.destinations.$get(undefined, { init: { signal } })),
  createDestination: (input: DestinationInput) => unwrap(client.api.alerts.destinations.$post({ json: input })),
  deleteDestination: (id: string) =>
    client.api.alerts.destinations[':id'].$delete({ param: { id } }, { headers: { 'content-type': 'application/json' } }).then(noContent),
  /** Sends a test message now and answers with its delivery once the first attempt is over. */
  testDestination: (id: string) => unwrap(client.api.alerts.destinations[':id'].test.$post({ param: { id }, json: {} })),
  firingAlerts: (signal?: AbortSignal) => unwrap(client.api.alerts.firing.$get(undefined, { init: { signal } })),
  deliveries: (filter: { status?: string; destination?: string }, signal?: AbortSignal) =>
    unwrap(client.api.alerts.deliveries.$get({ query: query({ ...filter }) as DeliveryListQuery }, { init: { signal } })),

  /** A short-lived ticket for opening the live stream: EventSource cannot send the token header. */
  streamTicket: () => unwrap(client.api.stream.tickets.$post({ json: {} })),
};

/** A 204 has no body to unwrap: only its failure says something. */
async function noContent(response: Response): Promise<void> {
  if (response.ok) return;
  await unwrap(Promise.resolve(response as never));
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
