/**
 * The collector's query API as a scenario run reads it: the collector's own typed client (the
 * one the dashboard uses), with the API token when the collector requires one.
 */
import { ApiRequestError, createApiClient, unwrap, type ApiClient } from '@faultline/collector/client';
import type { ErrorOccurrence, LatestOutput, ScenarioRunResult, Session, SessionDetail } from '@faultline/schema';

export { ApiRequestError as ApiError };

export class CollectorClient {
  readonly url: string;
  readonly api: ApiClient;

  constructor(url: string, token?: string) {
    this.url = url.replace(/\/+$/, '');
    this.api = createApiClient(this.url, { token: token || null });
  }

  /** The session and its timeline, or null while the collector has not seen it yet. */
  async sessionDetail(id: string): Promise<SessionDetail | null> {
    try {
      return await unwrap(this.api.api.sessions[':id'].$get({ param: { id } }));
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 404) return null;
      throw err;
    }
  }

  /** The session as the session list shows it (cheaper than the detail: no timeline), or null. */
  async session(id: string): Promise<Session | null> {
    const page = await unwrap(this.api.api.sessions.$get({ query: { q: id, limit: '5' } }));
    return page.items.find((s) => s.id === id) ?? null;
  }

  latest(id: string): Promise<LatestOutput> {
    return unwrap(this.api.api.sessions[':id'].latest.$get({ param: { id } }));
  }

  async errorsOf(sessionId: string): Promise<ErrorOccurrence[]> {
    return (await unwrap(this.api.api.errors.$get({ query: { session: sessionId, limit: '100' } }))).items;
  }

  /** The sessions an operator sees under "failed", searched by id prefix. */
  async failedSessions(idPrefix: string): Promise<Session[]> {
    return (await unwrap(this.api.api.sessions.$get({ query: { failed: 'true', q: idPrefix, limit: '50' } }))).items;
  }

  /** Stores one scenario result in the collector (what the dashboard's Scenarios page shows). */
  recordResult(result: ScenarioRunResult): Promise<{ id: number; at: string }> {
    return unwrap(this.api.api.scenarios.results.$post({ json: result }));
  }
}
