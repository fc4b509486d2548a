import type { CountedPage, ErrorOccurrence, Session, TimelineItem } from '@faultline/schema';
import { vi } from 'vitest';

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

export function makeSession(overrides: Partial<Session> = {}): Session {
  return {
    id: 'sess_1',
    service: 'webchat',
    agent: 'support-agent',
    provider: 'anthropic',
    model: 'claude-sonnet-4',
    state: 'running',
    statusMessage: 'Working…',
    stuck: false,
    stuckKind: null,
    stuckSince: null,
    lastError: null,
    startedAt: minutesAgo(20),
    lastSeenAt: minutesAgo(1),
    endedAt: null,
    errorCount: 0,
    spanCount: 12,
    lastTraceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    lastHeartbeat: null,
    lastOkAt: null,
    abandonedAt: null,
    stuckAcknowledgedAt: null,
    stuckDismissedAt: null,
    testData: false,
    ...overrides,
  };
}

export const billingFailed = makeSession({
  id: 'sess_billing',
  state: 'error',
  statusMessage: 'Turn failed',
  errorCount: 1,
  lastError: {
    code: 'AGT-PROVIDER-BILLING',
    category: 'provider',
    message: 'Your anthropic account is out of credit. Add credit or switch provider, then try again.',
    at: minutesAgo(3),
  },
});

export const stuckStarting = makeSession({
  id: 'sess_stuck',
  state: 'starting',
  statusMessage: 'Creating execution environment...',
  stuck: true,
  stuckKind: 'starting',
  stuckSince: minutesAgo(7),
  lastSeenAt: minutesAgo(9),
  lastError: {
    code: 'AGT-SESSION-STUCK',
    category: 'session',
    message: 'This run stopped making progress while starting. It has been flagged; try again.',
    at: minutesAgo(7),
  },
});

export const sessionPage: CountedPage<Session> = { items: [stuckStarting, billingFailed], nextCursor: 'cursor-2', total: 3 };

export function makeError(overrides: Partial<ErrorOccurrence> = {}): ErrorOccurrence {
  return {
    id: 'err_1',
    at: minutesAgo(3),
    sessionId: 'sess_billing',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    service: 'webchat',
    code: 'AGT-PROVIDER-BILLING',
    category: 'provider',
    title: 'Provider billing / credit exhausted',
    message: 'Your anthropic account is out of credit. Add credit or switch provider, then try again.',
    technicalMessage: 'invalid_request_error: Your credit balance is too low to access the Anthropic API.',
    exceptionType: 'FailoverError',
    stacktrace: 'FailoverError: billing\n    at handleAssistantFailover (run.ts:120:11)',
    fingerprint: 'fp_billing_1',
    timeoutKind: null,
    httpStatus: 402,
    upstreamStatus: 400,
    upstreamType: 'invalid_request_error',
    retryable: 'no',
    attributes: { 'gen_ai.provider.name': 'anthropic' },
    classification: { rule: 'billing-text', signal: 'message~"credit balance is too low"' },
    ...overrides,
  };
}

export function timelineItem(overrides: Partial<TimelineItem> & Pick<TimelineItem, 'kind' | 'at'>): TimelineItem {
  return {
    endAt: null,
    durationMs: null,
    name: overrides.kind,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: Math.random().toString(16).slice(2, 18),
    statusCode: 0,
    details: {},
    ...overrides,
  };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/**
 * Stub fetch with handlers chosen by path prefix (longest wins). Records every request so a
 * test can assert what the dashboard asked for.
 */
export function stubFetch(routes: Record<string, (url: URL, init?: RequestInit) => Response | Promise<Response>>) {
  const calls: { url: URL; init?: RequestInit }[] = [];
  const keys = Object.keys(routes).sort((a, b) => b.length - a.length);
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://localhost');
    calls.push({ url, init });
    const key = keys.find((k) => url.pathname === k || url.pathname.startsWith(`${k}/`));
    if (!key) return json({ error: { code: 'not_found', message: `no stub for ${url.pathname}` } }, 404);
    return routes[key](url, init);
  });
  vi.stubGlobal('fetch', fetch);
  return { fetch, calls };
}

/** Enough of EventSource to drive the store: open, named events, errors. */
export class FakeEventSource {
  static all: FakeEventSource[] = [];
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((m: MessageEvent) => void) | null = null;
  closed = false;
  listeners = new Map<string, (m: MessageEvent) => void>();
  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
  }
  addEventListener(type: string, fn: (m: MessageEvent) => void) {
    this.listeners.set(type, fn);
  }
  close() {
    this.closed = true;
  }
  /** The connection opens and the collector says hello (with an id unless resumed, as it does). */
  open(hello: { resumed?: boolean; id?: string } = {}) {
    this.onopen?.();
    this.send('hello', { serverTime: new Date().toISOString(), resumed: hello.resumed ?? false }, hello.resumed ? undefined : (hello.id ?? 'boot-0'));
  }
  fail() {
    this.onerror?.();
  }
  send(type: string, data: unknown, id?: string) {
    const message = new MessageEvent(type, { data: JSON.stringify(data), lastEventId: id ?? '' });
    (type === 'message' ? this.onmessage : this.listeners.get(type))?.call(this, message);
  }
  static latest() {
    return FakeEventSource.all[FakeEventSource.all.length - 1];
  }
}

