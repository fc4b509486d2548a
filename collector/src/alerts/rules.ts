/**
 * The alert rules and destinations every hook reads, kept in memory and reloaded from the
 * database every few seconds (and at once after a change through this collector's API), so the
 * ingest write path decides without a query whether an event concerns any rule.
 */
import type { AlertFilters, AlertRuleKind, DestinationKind, SessionWebhookState } from '@faultline/schema/api';
import type { SqlRunner } from '../store/db.ts';

export interface RuleRow {
  id: string;
  name: string;
  kind: AlertRuleKind;
  destinationIds: string[];
  filters: AlertFilters;
  threshold: number | null;
  windowMs: number | null;
  states: SessionWebhookState[] | null;
  throttleMs: number;
  groupWaitMs: number;
  muted: boolean;
}

export interface DestinationRow {
  id: string;
  name: string;
  kind: DestinationKind;
  url: string;
  secret: string | null;
  minIntervalMs: number;
}

/** What a rule's filters look at. Null means the event has no such value: a rule filtering on it does not match. */
export interface AlertSubject {
  code: string | null;
  category: string | null;
  service: string | null;
  agent: string | null;
}

const has = (list: readonly string[] | undefined, value: string | null) => !list || list.length === 0 || (value !== null && list.includes(value));

export function ruleMatches(rule: Pick<RuleRow, 'filters'>, s: AlertSubject): boolean {
  const f = rule.filters;
  return has(f.codes, s.code) && has(f.categories, s.category) && has(f.services, s.service) && has(f.agents, s.agent);
}

export class AlertRuleSet {
  private readonly byKind = new Map<AlertRuleKind, RuleRow[]>();
  readonly destinations: Map<string, DestinationRow>;

  constructor(
    readonly rules: readonly RuleRow[],
    destinations: readonly DestinationRow[],
  ) {
    for (const r of rules) this.byKind.set(r.kind, [...(this.byKind.get(r.kind) ?? []), r]);
    this.destinations = new Map(destinations.map((d) => [d.id, d]));
  }

  of(kind: AlertRuleKind): readonly RuleRow[] {
    return this.byKind.get(kind) ?? [];
  }

  get(id: string): RuleRow | undefined {
    return this.rules.find((r) => r.id === id);
  }

  static readonly EMPTY = new AlertRuleSet([], []);
}

interface RuleDbRow {
  id: string;
  name: string;
  kind: AlertRuleKind;
  destination_ids: string[];
  filters: AlertFilters;
  threshold: number | null;
  window_ms: number | null;
  states: SessionWebhookState[] | null;
  throttle_ms: number;
  group_wait_ms: number;
  muted: boolean;
}

export async function loadRuleSet(db: SqlRunner): Promise<AlertRuleSet> {
  const rules = await db.query<RuleDbRow>(
    'select id, name, kind, destination_ids, filters, threshold, window_ms, states, throttle_ms, group_wait_ms, muted from alert_rules order by id',
  );
  const destinations = await db.query<{ id: string; name: string; kind: DestinationKind; url: string; secret: string | null; min_interval_ms: number }>(
    'select id, name, kind, url, secret, min_interval_ms from alert_destinations order by id',
  );
  return new AlertRuleSet(
    rules.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      destinationIds: r.destination_ids,
      filters: r.filters ?? {},
      threshold: r.threshold,
      windowMs: r.window_ms,
      states: r.states,
      throttleMs: r.throttle_ms,
      groupWaitMs: r.group_wait_ms,
      muted: r.muted,
    })),
    destinations.map((d) => ({ id: d.id, name: d.name, kind: d.kind, url: d.url, secret: d.secret, minIntervalMs: d.min_interval_ms })),
  );
}
