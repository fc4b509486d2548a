/**
 * OTLP log records into the spans the ingest path already handles (one path: session aliases,
 * classification, grouping, session state, watchdog, timeline and live push are the spans'). A
 * record becomes a zero-length span at the record's time:
 *
 * - id: log records have no id of their own, so the row's span id (and, when the record was not
 *   emitted inside a span, its trace id) is a SHA-256 digest of everything the record says —
 *   resource, scope, time, severity, event name, body, attributes, trace context. A batch sent
 *   again (exporter retry, spool replay, the same record over gRPC and HTTP) lands on the same
 *   key and is stored once; two records identical in every field are one record.
 * - trace: the record's own trace id when it has one (so a trace search finds it), the span it
 *   was emitted in as the parent.
 * - name: the event name (`claude_code.api_error`), `log` for a plain log line.
 * - status: ERROR for the records schema/log-events.ts calls errors; the classifier input is
 *   built from the record in enrich.ts.
 */
import { createHash } from 'node:crypto';
import { isErrorLogRecord, logEventName } from '@faultline/schema';
import type { Attributes, AttrValue, DecodedLogRecord, DecodedSpan } from '../otlp/types.ts';

/** Body text of a plain log line, as the span's message (long bodies are cut like messages). */
const MAX_BODY_TEXT = 4000;

export function bodyText(body: AttrValue): string | null {
  if (body === null || body === '') return null;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > MAX_BODY_TEXT ? `${text.slice(0, MAX_BODY_TEXT)}…` : text;
}

/** Sorted keys, so a producer (or a collector in between) that reorders attributes still hashes alike. */
function canonical(attrs: Attributes): string {
  const keys = Object.keys(attrs).sort();
  let out = '';
  for (const k of keys) out += `${JSON.stringify(k)}:${JSON.stringify(attrs[k])},`;
  return out;
}

export function logRecordsToSpans(records: DecodedLogRecord[], receivedAt: Date = new Date()): DecodedSpan[] {
  const receivedNs = BigInt(receivedAt.getTime()) * 1_000_000n;
  // Records of one ResourceLogs share their resource object: describe it once.
  const resourceKeys = new WeakMap<Attributes, string>();
  const spans: DecodedSpan[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const rec = records[i];
    let resourceKey = resourceKeys.get(rec.resource);
    if (resourceKey === undefined) {
      resourceKey = canonical(rec.resource);
      resourceKeys.set(rec.resource, resourceKey);
    }
    const digest = createHash('sha256')
      .update(resourceKey)
      .update('\u0000')
      .update(
        [
          rec.scopeName ?? '',
          // The observed time is the SDK's emit time, or a pipeline's receive time: only when the
          // record has no time of its own does it tell two records apart.
          (rec.timeUnixNano || rec.observedTimeUnixNano).toString(),
          String(rec.severityNumber),
          rec.severityText ?? '',
          rec.eventName ?? '',
          rec.traceId ?? '',
          rec.spanId ?? '',
          JSON.stringify(rec.body),
        ].join('\u0000'),
      )
      .update('\u0000')
      .update(canonical(rec.attributes))
      .digest('hex');
    const eventName = logEventName(rec.eventName, rec.attributes, rec.body);
    const isError = isErrorLogRecord(eventName, rec.attributes, rec.severityNumber);
    const at = rec.timeUnixNano || rec.observedTimeUnixNano || receivedNs;
    const text = bodyText(rec.body);
    spans[i] = {
      traceId: rec.traceId ?? digest.slice(16, 48),
      spanId: digest.slice(0, 16),
      parentSpanId: rec.spanId,
      name: eventName ?? 'log',
      kind: 0,
      startTimeUnixNano: at,
      endTimeUnixNano: at,
      attributes: rec.attributes,
      events: [],
      statusCode: isError ? 2 : 0,
      // Claude Code's body only repeats the event name.
      statusMessage: text !== null && text !== eventName ? text : null,
      resource: rec.resource,
      scopeName: rec.scopeName,
      log: { eventName, severityNumber: rec.severityNumber, severityText: rec.severityText, body: rec.body },
    };
  }
  return spans;
}
