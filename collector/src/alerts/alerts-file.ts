/**
 * `FAULTLINE_ALERTS`: destinations and rules as code (YAML or JSON), validated at start — a bad
 * file stops start-up naming the file, line and what to change — then written to the database
 * as file-managed rows: added, updated, and removed when they leave the file. The API shows them
 * and can mute a rule, but changes the rest only through the file. `${NAME}` in a `url` or
 * `secret` is read from the environment, so the file itself holds no credential.
 */
import fs from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { ALERT_DEFAULTS, AlertsFileShape, type AlertsFile } from '@faultline/schema/api';
import { StartupError } from '../errors.ts';
import { describe, lineOf } from '../rules-file.ts';
import type { Store } from '../store/db.ts';

const MAX_FILE_BYTES = 1024 * 1024;
const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function loadAlertsFile(file: string, env: Record<string, string | undefined> = process.env): AlertsFile {
  let source: string;
  try {
    if (fs.statSync(file).size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
    source = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new StartupError(`FAULTLINE_ALERTS: cannot read ${file}: ${(err as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const messages = doc.errors.slice(0, 5).map((e) => `  ${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
    throw new StartupError(`FAULTLINE_ALERTS: ${file} is not valid YAML or JSON:\n${messages.join('\n')}`);
  }
  const problems: string[] = [];
  const at = (path: PropertyKey[]) => `  ${file}:${lineOf(doc, lines, path) ?? 1}: ${describe(path)}`;
  const raw = (doc.toJS() ?? {}) as { destinations?: unknown };
  if (Array.isArray(raw.destinations)) {
    raw.destinations.forEach((d: Record<string, unknown>, i) => {
      for (const field of ['url', 'secret']) {
        const v = d?.[field];
        if (typeof v !== 'string') continue;
        d[field] = v.replace(VAR, (_, name: string) => {
          const value = env[name];
          if (value === undefined || value === '') problems.push(`${at(['destinations', i, field])}: the environment variable ${name} is not set`);
          return value ?? '';
        });
      }
    });
  }
  const parsed = AlertsFileShape.safeParse(raw);
  if (!parsed.success) {
    // Values are not echoed: a url or secret is a credential.
    for (const issue of parsed.error.issues.slice(0, 20)) problems.push(`${at(issue.path as PropertyKey[])}: ${issue.message}`);
  } else {
    const ids = new Set<string>();
    parsed.data.destinations.forEach((d, i) => {
      if (d.secret === 'generate') problems.push(`${at(['destinations', i, 'secret'])}: "generate" works only through the API (the secret is shown once); put a whsec_ secret from the environment here, e.g. \${WEBHOOK_SECRET}`);
      if (ids.has(d.id)) problems.push(`${at(['destinations', i, 'id'])}: another destination already has the id ${d.id}`);
      ids.add(d.id);
    });
    const ruleIds = new Set<string>();
    parsed.data.rules.forEach((r, i) => {
      if (ruleIds.has(r.id)) problems.push(`${at(['rules', i, 'id'])}: another rule already has the id ${r.id}`);
      ruleIds.add(r.id);
      r.destinations.forEach((id, j) => {
        if (!ids.has(id)) problems.push(`${at(['rules', i, 'destinations', j])}: no destination with the id ${id} in this file`);
      });
    });
  }
  if (problems.length > 0 || !parsed.success) {
    throw new StartupError(`FAULTLINE_ALERTS: ${file} has ${problems.length === 1 ? 'a problem' : 'problems'}:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

/** Write the file's destinations and rules to the database (one transaction); refuses ids the API owns. */
export async function syncAlertsFile(store: Store, file: AlertsFile): Promise<void> {
  await store.transaction(async (tx) => {
    const taken = await tx.query<{ id: string; what: string }>(
      `select id, 'destination' as what from alert_destinations where managed_by = 'api' and id = any($1::text[])
       union all select id, 'rule' from alert_rules where managed_by = 'api' and id = any($2::text[])`,
      [file.destinations.map((d) => d.id), file.rules.map((r) => r.id)],
    );
    if (taken.length > 0) {
      throw new StartupError(
        `FAULTLINE_ALERTS: ${taken.map((t) => `the ${t.what} id ${t.id}`).join(', ')} is already used by one made through the API or dashboard; rename it in the file or delete the other.`,
      );
    }
    for (const d of file.destinations) {
      await tx.query(
        `insert into alert_destinations (id, name, kind, url, secret, min_interval_ms, managed_by) values ($1, $2, $3, $4, $5, $6, 'file')
         on conflict (id) do update set name = excluded.name, kind = excluded.kind, url = excluded.url, secret = excluded.secret,
           min_interval_ms = excluded.min_interval_ms, updated_at = now()`,
        [
          d.id, d.name ?? d.id, d.kind, d.url, d.secret === 'generate' ? null : (d.secret ?? null),
          d.minIntervalMs ?? (d.kind === 'slack' ? ALERT_DEFAULTS.slackMinIntervalMs : ALERT_DEFAULTS.webhookMinIntervalMs),
        ],
      );
    }
    await tx.query(`delete from alert_destinations where managed_by = 'file' and not (id = any($1::text[]))`, [file.destinations.map((d) => d.id)]);
    for (const r of file.rules) {
      await tx.query(
        `insert into alert_rules (id, name, kind, destination_ids, filters, threshold, window_ms, states, throttle_ms, group_wait_ms, muted, managed_by)
         values ($1, $2, $3, $4::text[], $5::jsonb, $6, $7, $8::text[], $9, $10, coalesce($11, false), 'file')
         on conflict (id) do update set name = excluded.name, kind = excluded.kind, destination_ids = excluded.destination_ids,
           filters = excluded.filters, threshold = excluded.threshold, window_ms = excluded.window_ms, states = excluded.states,
           throttle_ms = excluded.throttle_ms, group_wait_ms = excluded.group_wait_ms,
           muted = coalesce($11, alert_rules.muted), updated_at = now()`,
        [
          r.id, r.name ?? r.id, r.kind, r.destinations, JSON.stringify(r.filters ?? {}), r.threshold ?? null, r.windowMs ?? null,
          r.states ?? null, r.throttleMs ?? ALERT_DEFAULTS.throttleMs, r.groupWaitMs ?? (r.kind === 'session_state' ? 0 : ALERT_DEFAULTS.groupWaitMs),
          r.muted ?? null,
        ],
      );
    }
    await tx.query(`delete from alert_rules where managed_by = 'file' and not (id = any($1::text[]))`, [file.rules.map((r) => r.id)]);
  });
}
