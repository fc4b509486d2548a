/**
 * The collector's query API as a scenario run reads it: the same HTTP a dashboard or an
 * orchestrator uses, with the API token when the collector requires one.
 */
import type { ErrorOccurrence, LatestOutput, Page, Session, SessionDetail } from '@faultline/schema';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class CollectorClient {
  readonly url: string;
  private readonly token: string | undefined;

  constructor(url: string, token?: string) {
    this.url = url.replace(/\/+$/, '');
    this.token = token || undefined;
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new ApiError(res.status, `${method} ${path} → ${res.status}: ${message}`);
    }
    return (text ? JSON.parse(text) : null) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** The session and its timeline, or null while the collector has not seen it yet. */
  async sessionDetail(id: string): Promise<SessionDetail | null> {
    try {
      return await this.get<SessionDetail>(`/api/sessions/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** The session as the session list shows it (cheaper than the detail: no timeline), or null. */
  async session(id: string): Promise<Session | null> {
    const page = await this.get<Page<Session>>(`/api/sessions?q=${encodeURIComponent(id)}&limit=5`);
    return page.items.find((s) => s.id === id) ?? null;
  }

  latest(id: string): Promise<LatestOutput> {
    return this.get<LatestOutput>(`/api/sessions/${encodeURIComponent(id)}/latest`);
  }

  async errorsOf(sessionId: string): Promise<ErrorOccurrence[]> {
    return (await this.get<Page<ErrorOccurrence>>(`/api/errors?session=${encodeURIComponent(sessionId)}&limit=100`)).items;
  }

  /** The sessions an operator sees under "failed", searched by id. */
  async failedSessions(idPrefix: string): Promise<Session[]> {
    return (await this.get<Page<Session>>(`/api/sessions?failed=true&q=${encodeURIComponent(idPrefix)}&limit=50`)).items;
  }
}
