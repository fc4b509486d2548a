import {
  anyValue,
  array,
  enumValue,
  id,
  object,
  parseJsonBody,
  pick,
  readAttributes,
  readJsonShape,
  string,
  timestamp,
  type JsonObject,
} from './decode-json.ts';
import { describePosition, LOG_LABELS, newPosition, ZERO_SPAN_ID, ZERO_TRACE_ID, type Position } from './shared.ts';
import type { Attributes, LogDecodeResult } from './types.ts';

/*
 * ExportLogsServiceRequest in OTLP-JSON, with the same rules as traces: lowerCamelCase keys (the
 * snake_case originals accepted), hex ids, 64-bit integers as strings or numbers, enums as
 * integers or their names.
 */

const SEVERITY_NAMES: Record<string, number> = { SEVERITY_NUMBER_UNSPECIFIED: 0 };
for (const [i, level] of ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].entries()) {
  SEVERITY_NAMES[`SEVERITY_NUMBER_${level}`] = i * 4 + 1;
  for (let n = 2; n <= 4; n++) SEVERITY_NAMES[`SEVERITY_NUMBER_${level}${n}`] = i * 4 + n;
}

export function decodeJsonLogsRequest(body: Uint8Array): LogDecodeResult {
  const doc = parseJsonBody(body, 'ExportLogsServiceRequest');
  const where = newPosition(LOG_LABELS);
  const result: LogDecodeResult = { records: [], rejected: [] };
  readJsonShape(where, () => readRequest(doc, where, result));
  return result;
}

function readRequest(doc: JsonObject, where: Position, result: LogDecodeResult): void {
  const resourceLogs = array(pick(doc, 'resourceLogs', 'resource_logs'), 'resourceLogs');
  for (let i = 0; i < resourceLogs.length; i++) {
    where.resourceSpans = i;
    const rl = object(resourceLogs[i], 'resourceLogs[]');
    if (!rl) continue;
    const resource: Attributes = {};
    const res = object(rl.resource, 'resource');
    if (res) {
      where.detail = 'resource';
      readAttributes(array(res.attributes, 'attributes'), resource, 0);
      where.detail = '';
    }
    const scopeLogs = array(pick(rl, 'scopeLogs', 'scope_logs'), 'scopeLogs');
    for (let j = 0; j < scopeLogs.length; j++) {
      where.scopeSpans = j;
      const sl = object(scopeLogs[j], 'scopeLogs[]');
      if (!sl) continue;
      where.detail = 'scope';
      const scope = object(sl.scope, 'scope');
      const scopeName = (scope && string(scope.name, 'name')) || null;
      where.detail = '';
      const records = array(pick(sl, 'logRecords', 'log_records'), 'logRecords');
      for (let k = 0; k < records.length; k++) {
        where.spans = k;
        const record = object(records[k], 'logRecords[]');
        if (record) readLogRecord(record, where, result, resource, scopeName);
      }
      where.spans = -1;
    }
    where.scopeSpans = -1;
  }
}

function readLogRecord(record: JsonObject, where: Position, result: LogDecodeResult, resource: Attributes, scopeName: string | null): void {
  const time = timestamp(pick(record, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano');
  const observed = timestamp(pick(record, 'observedTimeUnixNano', 'observed_time_unix_nano'), 'observedTimeUnixNano');
  const severityNumber = enumValue(pick(record, 'severityNumber', 'severity_number'), 'severityNumber', SEVERITY_NAMES);
  const severityText = string(pick(record, 'severityText', 'severity_text'), 'severityText');
  where.detail = 'body';
  const body = anyValue(record.body, 1);
  where.detail = '';
  const attributes: Attributes = {};
  readAttributes(array(record.attributes, 'attributes'), attributes, 0);
  const eventName = string(pick(record, 'eventName', 'event_name'), 'eventName');
  const traceId = id(pick(record, 'traceId', 'trace_id'), 'traceId', 16);
  const spanId = id(pick(record, 'spanId', 'span_id'), 'spanId', 8);
  const problem =
    traceId.problem ??
    spanId.problem ??
    (traceId.hex.length !== 0 && traceId.hex.length !== 32 ? `trace id must be 16 bytes or empty, got ${traceId.hex.length / 2}` : null) ??
    (spanId.hex.length !== 0 && spanId.hex.length !== 16 ? `span id must be 8 bytes or empty, got ${spanId.hex.length / 2}` : null);
  if (problem !== null) {
    result.rejected.push({ reason: `${describePosition(where)}: ${problem}` });
    return;
  }
  result.records.push({
    timeUnixNano: time,
    observedTimeUnixNano: observed,
    severityNumber: severityNumber >= 0 && severityNumber <= 24 ? severityNumber : 0,
    severityText: severityText || null,
    body,
    attributes,
    eventName: eventName || null,
    traceId: traceId.hex.length === 32 && traceId.hex !== ZERO_TRACE_ID ? traceId.hex : null,
    spanId: spanId.hex.length === 16 && spanId.hex !== ZERO_SPAN_ID ? spanId.hex : null,
    resource,
    scopeName,
  });
}
