import {
  enter,
  expectWireType,
  hex,
  I64,
  isAllZero,
  LEN,
  readAnyValue,
  readFixed64,
  readKeyValue,
  readLength,
  readResource,
  readScopeName,
  readString,
  readTag,
  skipField,
  VARINT,
  wireFailure,
  wireState,
  type NodeBuffer,
  type WireState,
} from './decode-protobuf.ts';
import { describePosition, LOG_LABELS } from './shared.ts';
import type { AttrValue, Attributes, LogDecodeResult } from './types.ts';

/*
 * ExportLogsServiceRequest, read with the same wire helpers (and the same bounds discipline) as
 * traces. Field numbers of opentelemetry-proto collector/logs/v1/logs_service.proto and
 * logs/v1/logs.proto: ResourceLogs{resource 1, scope_logs 2}, ScopeLogs{scope 1, log_records 2},
 * LogRecord{time_unix_nano 1, severity_number 2, severity_text 3, body 5, attributes 6,
 * dropped_attributes_count 7, flags 8, trace_id 9, span_id 10, observed_time_unix_nano 11,
 * event_name 12}.
 */

interface LogState extends WireState {
  result: LogDecodeResult;
}

export function decodeProtobufLogsRequest(body: Uint8Array): LogDecodeResult {
  const s: LogState = { ...wireState(body, LOG_LABELS), result: { records: [], rejected: [] } };
  try {
    const r = s.r;
    let index = 0;
    while (r.pos < r.len) {
      const tag = readTag(r);
      if (tag >>> 3 === 1) {
        expectWireType(tag, LEN, 'ExportLogsServiceRequest.resource_logs');
        s.where.resourceSpans = index++;
        readResourceLogs(s);
        s.where.resourceSpans = -1;
      } else skipField(r, tag, 0);
    }
  } catch (err) {
    throw wireFailure(err, s);
  }
  return s.result;
}

function readResourceLogs(s: LogState): void {
  const r = s.r;
  const outer = enter(r);
  const resource: Attributes = {};
  let index = 0;
  while (r.pos < r.len) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, LEN, 'ResourceLogs.resource');
        s.where.detail = 'resource';
        readResource(s, resource);
        s.where.detail = '';
        break;
      case 2:
        expectWireType(tag, LEN, 'ResourceLogs.scope_logs');
        s.where.scopeSpans = index++;
        readScopeLogs(s, resource);
        s.where.scopeSpans = -1;
        break;
      default:
        skipField(r, tag, 0);
    }
  }
  r.len = outer;
}

function readScopeLogs(s: LogState, resource: Attributes): void {
  const r = s.r;
  const outer = enter(r);
  const records = s.result.records;
  const first = records.length;
  let scopeName = '';
  let index = 0;
  while (r.pos < r.len) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, LEN, 'ScopeLogs.scope');
        s.where.detail = 'scope';
        scopeName = readScopeName(s, scopeName);
        s.where.detail = '';
        break;
      case 2:
        expectWireType(tag, LEN, 'ScopeLogs.log_records');
        s.where.spans = index++;
        readLogRecord(s, resource);
        s.where.spans = -1;
        break;
      default:
        skipField(r, tag, 0);
    }
  }
  r.len = outer;
  // The scope may follow its records on the wire.
  const name = scopeName || null;
  for (let i = first; i < records.length; i++) records[i].scopeName = name;
}

function readLogRecord(s: LogState, resource: Attributes): void {
  const r = s.r;
  const buf = r.buf as NodeBuffer;
  const outer = enter(r);
  let time = 0n;
  let observed = 0n;
  let severityNumber = 0;
  let severityText = '';
  let body: AttrValue = null;
  const attributes: Attributes = {};
  let traceStart = -1;
  let traceLen = 0;
  let spanStart = -1;
  let spanLen = 0;
  let eventName = '';
  while (r.pos < r.len) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, I64, 'LogRecord.time_unix_nano');
        time = readFixed64(s);
        break;
      case 2:
        expectWireType(tag, VARINT, 'LogRecord.severity_number');
        severityNumber = r.int32();
        break;
      case 3:
        expectWireType(tag, LEN, 'LogRecord.severity_text');
        severityText = readString(r);
        break;
      case 5:
        expectWireType(tag, LEN, 'LogRecord.body');
        s.where.detail = 'body';
        body = readAnyValue(s, 1);
        s.where.detail = '';
        break;
      case 6:
        expectWireType(tag, LEN, 'LogRecord.attributes');
        readKeyValue(s, attributes, 0);
        break;
      case 9:
        expectWireType(tag, LEN, 'LogRecord.trace_id');
        traceLen = readLength(r);
        traceStart = r.pos;
        r.pos += traceLen;
        break;
      case 10:
        expectWireType(tag, LEN, 'LogRecord.span_id');
        spanLen = readLength(r);
        spanStart = r.pos;
        r.pos += spanLen;
        break;
      case 11:
        expectWireType(tag, I64, 'LogRecord.observed_time_unix_nano');
        observed = readFixed64(s);
        break;
      case 12:
        expectWireType(tag, LEN, 'LogRecord.event_name');
        eventName = readString(r);
        break;
      default:
        // 7 dropped_attributes_count, 8 flags: not stored, skipped by wire type
        skipField(r, tag, 0);
    }
  }
  r.len = outer;
  let problem: string | null = null;
  if (traceLen !== 0 && traceLen !== 16) problem = `trace id must be 16 bytes or empty, got ${traceLen}`;
  else if (spanLen !== 0 && spanLen !== 8) problem = `span id must be 8 bytes or empty, got ${spanLen}`;
  if (problem !== null) {
    s.result.rejected.push({ reason: `${describePosition(s.where)}: ${problem}` });
    return;
  }
  s.result.records.push({
    timeUnixNano: time,
    observedTimeUnixNano: observed,
    // proto3 enums are open; anything outside 0–24 is read as unspecified
    severityNumber: severityNumber >= 0 && severityNumber <= 24 ? severityNumber : 0,
    severityText: severityText || null,
    body,
    attributes,
    eventName: eventName || null,
    traceId: traceLen === 16 && !isAllZero(buf, traceStart, 16) ? hex(buf, traceStart, 16) : null,
    spanId: spanLen === 8 && !isAllZero(buf, spanStart, 8) ? hex(buf, spanStart, 8) : null,
    resource,
    scopeName: null,
  });
}
