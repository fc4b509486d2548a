/**
 * `error_rate` rules: count the matching error occurrences in the trailing window at `now` (a
 * parameter, so tests move time instead of sleeping). Above the threshold the rule's alert fires;
 * back at or under it — the burst has left the window — it resolves. Firing and resolving go
 * through the alert's row lock, so collectors evaluating at the same moment fire once.
 */
import type { Store } from '../store/db.ts';
import { fireAlerts, resolveAlerts, type AlertFacts } from './fire.ts';
import type { AlertRuleSet, RuleRow } from './rules.ts';

/** The subject of a rate alert: the rule itself. */
export const RATE_KEY = '';

function countQuery(rule: RuleRow): { text: string; params: unknown[] } {
  const f = rule.filters;
  const params: unknown[] = [];
  const where: string[] = [];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  add((n) => `e.at > ${n}::timestamptz`, null);
  add((n) => `e.at <= ${n}::timestamptz`, null);
  if (f.codes?.length) add((n) => `e.code = any(${n}::text[])`, f.codes);
  if (f.categories?.length) add((n) => `e.category = any(${n}::text[])`, f.categories);
  if (f.services?.length) add((n) => `e.service = any(${n}::text[])`, f.services);
  // The agent is the session's (errors carry none of their own).
  const join = f.agents?.length ? 'join sessions s on s.id = e.session_id' : '';
  if (f.agents?.length) add((n) => `s.agent = any(${n}::text[])`, f.agents);
  return { text: `select count(*)::int as n from errors e ${join} where ${where.join(' and ')}`, params };
}

export async function evaluateErrorRates(store: Store, rules: AlertRuleSet, nowMs: number): Promise<{ fired: number; resolved: number }> {
  let fired = 0;
  let resolved = 0;
  for (const rule of rules.of('error_rate')) {
    const windowMs = rule.windowMs!;
    const threshold = rule.threshold!;
    const q = countQuery(rule);
    q.params[0] = new Date(nowMs - windowMs).toISOString();
    q.params[1] = new Date(nowMs).toISOString();
    const [{ n }] = await store.query<{ n: number }>(q.text, q.params);
    const f = rule.filters;
    const one = (list: string[] | undefined) => (list?.length === 1 ? list[0] : null);
    const facts: AlertFacts = {
      code: one(f.codes), category: one(f.categories), service: one(f.services), agent: one(f.agents),
      sessionId: null, fingerprint: null, message: null, count: n, threshold, windowMs,
    };
    await store.transaction(async (tx) => {
      if (n > threshold) fired += await fireAlerts(tx, rule, [{ key: RATE_KEY, facts }], nowMs);
      else resolved += await resolveAlerts(tx, [rule], [RATE_KEY], nowMs, { facts: { count: n } });
    });
  }
  return { fired, resolved };
}
