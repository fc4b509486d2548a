/**
 * What a customer quotes to support is a code (AGT-PROVIDER-BILLING), a session id or a trace
 * id. Resolve any of them to the page that explains it.
 */
import { api, ApiRequestError } from './api.ts';
import { codeHref, sessionHref } from './router.ts';

export const CODE_PATTERN = /^AGT-[A-Z0-9]+-[A-Z0-9_]+$/i;

export type LookupResult = { href: string } | { notFound: string };

export async function resolveLookup(input: string): Promise<LookupResult> {
  const value = input.trim();
  if (!value) return { notFound: 'Type a code, a session id or a trace id.' };
  if (CODE_PATTERN.test(value)) return { href: codeHref(value.toUpperCase()) };

  // `q` matches session ids and trace ids (DESIGN §6).
  const page = await api.sessions({ q: value, limit: 2 });
  const exact = page.items.find((s) => s.id === value || s.lastTraceId === value);
  if (exact) return { href: sessionHref(exact.id) };
  if (page.items.length === 1) return { href: sessionHref(page.items[0].id) };
  if (page.items.length > 1) return { href: `/sessions?q=${encodeURIComponent(value)}` };

  try {
    const detail = await api.session(value);
    return { href: sessionHref(detail.session.id) };
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 404) {
      return { notFound: `No error code, session or trace matches “${value}”.` };
    }
    throw error;
  }
}
