/**
 * The one typed client of the collector's API (hono/client over AppType): the dashboard and the
 * scenario runner call the routes through it, so a route's input and answer are typed from the
 * server itself and no client keeps its own copy of a shape. Runs in browsers and in Node.
 */
import { hc } from 'hono/client';
import type { ApiError, ApiErrorCode } from '@faultline/schema';
import type { AppType } from './app.ts';

export type ApiClient = ReturnType<typeof hc<AppType>>;

export interface ApiClientOptions {
  /** The API token (`FAULTLINE_API_TOKEN`), or a function read before every request. */
  token?: string | null | (() => string | null | undefined);
  fetch?: typeof fetch;
}

/** `createApiClient('http://127.0.0.1:4318').api.sessions.$get({ query: { failed: 'true' } })` */
export function createApiClient(baseUrl: string, options: ApiClientOptions = {}): ApiClient {
  const token = typeof options.token === 'function' ? options.token : () => options.token;
  return hc<AppType>(baseUrl.replace(/\/+$/, ''), {
    fetch: options.fetch,
    headers: (): Record<string, string> => {
      const t = token();
      return t ? { authorization: `Bearer ${t}` } : {};
    },
  });
}

/** A non-2xx answer: the envelope's code and message, with the HTTP status. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode | 'network' | 'bad_response' | `http_${number}`,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

interface AnyResponse<T> {
  ok: boolean;
  status: number;
  statusText: string;
  url: string;
  text(): Promise<string>;
  json(): Promise<T>;
}

/**
 * The JSON of a 2xx answer, typed by the route; anything else becomes an ApiRequestError that
 * carries the collector's own words. A fetch that never reached the collector is code `network`.
 */
export async function unwrap<T>(call: Promise<AnyResponse<T>> | AnyResponse<T>): Promise<T> {
  let res: AnyResponse<T>;
  try {
    res = await call;
  } catch (cause) {
    if (cause instanceof Error && cause.name === 'AbortError') throw cause;
    throw new ApiRequestError(0, 'network', 'Cannot reach the Faultline collector. Check that it is running and reachable from here.');
  }
  const text = await res.text();
  if (!res.ok) {
    try {
      const body = JSON.parse(text) as Partial<ApiError>;
      if (body.error && typeof body.error.message === 'string') {
        return Promise.reject(new ApiRequestError(res.status, body.error.code ?? `http_${res.status}`, body.error.message, body.error.requestId));
      }
    } catch {
      // not JSON: the status line below
    }
    const detail = text && text.length < 200 ? `: ${text}` : '';
    throw new ApiRequestError(res.status, `http_${res.status}`, `The collector answered ${res.status} ${res.statusText}${detail}`.trim());
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiRequestError(res.status, 'bad_response', `The collector sent an answer that is not JSON (${res.url}).`);
  }
}
