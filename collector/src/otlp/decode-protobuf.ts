import protobuf from 'protobufjs/minimal.js';
import { OtlpDecodeError } from './errors.ts';
import {
  acceptSpan,
  describePosition,
  doubleAttribute,
  MAX_ANY_VALUE_DEPTH,
  newPosition,
  setAttribute,
  type Position,
  type PositionLabels,
} from './shared.ts';
import type { AttrValue, Attributes, DecodedEvent, DecodeResult } from './types.ts';

/*
 * ExportTraceServiceRequest read straight into DecodedSpan with protobufjs's Reader: no
 * intermediate message objects, which is what keeps ingest above 50k spans/s. Field numbers are
 * those of opentelemetry-proto (collector/trace/v1/trace_service.proto, trace/v1/trace.proto,
 * common/v1/common.proto, resource/v1/resource.proto).
 *
 * Every message body is decoded with `reader.len` narrowed to that message's end, so a length
 * prefix or fixed-width read can never run past its parent — protobufjs's own bounds checks then
 * guard the sub-message, not just the whole buffer.
 */

export type Reader = protobuf.Reader;
/** Node's Buffer has these native slicers (protobufjs uses utf8Slice too); `toString` adds argument parsing per call. */
export type NodeBuffer = Buffer & { utf8Slice(start: number, end: number): string; hexSlice(start: number, end: number): string };

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
const START_GROUP = 3;
const END_GROUP = 4;
export const I32 = 5;
const WIRE_TYPE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', 'invalid(6)', 'invalid(7)'];

/** A wire-level fault; its message is completed with the position when it reaches the top. */
export class WireError extends Error {}

/** What every OTLP message reader needs: the bounded reader and where it is, for error messages. */
export interface WireState {
  r: Reader;
  view: DataView;
  where: Position;
}

interface State extends WireState {
  result: DecodeResult;
}

/** A reader over `body` (no copy), positioned at the request's start. */
export function wireState(body: Uint8Array, labels?: PositionLabels): WireState {
  // A Buffer view (no copy) lets protobufjs decode strings with Node's native utf8Slice.
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return { r: protobuf.Reader.create(buf), view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength), where: newPosition(labels) };
}

/** Turns what a reader threw into the 400 answer naming where the payload broke. */
export function wireFailure(err: unknown, s: WireState): OtlpDecodeError {
  if (err instanceof OtlpDecodeError) return err;
  // protobufjs throws RangeError/Error for truncated varints and reads past the end
  const detail = err instanceof Error ? err.message : String(err);
  return new OtlpDecodeError(`protobuf: ${describePosition(s.where)}: ${detail} (at byte ${s.r.pos} of ${s.r.buf.length})`, {
    cause: err,
    context: { format: 'protobuf', at: describePosition(s.where), byteOffset: s.r.pos },
  });
}

export function decodeProtobufTraceRequest(body: Uint8Array): DecodeResult {
  const state: State = { ...wireState(body), result: { spans: [], rejected: [] } };
  try {
    readRequest(state);
  } catch (err) {
    throw wireFailure(err, state);
  }
  return state.result;
}

function readRequest(s: State): void {
  const r = s.r;
  let rsIndex = 0;
  while (r.pos < r.len) {
    const tag = readTag(r);
    if (tag >>> 3 === 1) {
      expectWireType(tag, LEN, 'ExportTraceServiceRequest.resource_spans');
      s.where.resourceSpans = rsIndex++;
      readResourceSpans(s);
      s.where.resourceSpans = -1;
    } else skipField(r, tag, 0);
  }
}

function readResourceSpans(s: State): void {
  const r = s.r;
  const outer = enter(r);
  // Shared by every span of this ResourceSpans; filled whenever field 1 arrives (fields may come in any order).
  const resource: Attributes = {};
  let ssIndex = 0;
  while (r.pos < r.len) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, LEN, 'ResourceSpans.resource');
        s.where.detail = 'resource';
        readResource(s, resource);
        s.where.detail = '';
        break;
      case 2:
        expectWireType(tag, LEN, 'ResourceSpans.scope_spans');
        s.where.scopeSpans = ssIndex++;
        readScopeSpans(s, resource);
        s.where.scopeSpans = -1;
        break;
      default:
        skipField(r, tag, 0);
    }
  }
  r.len = outer;
}

export function readResource(s: WireState, resource: Attributes): void {
  const r = s.r;
  const outer = enter(r);
  while (r.pos < r.len) {
    const tag = readTag(r);
    if (tag >>> 3 === 1) {
      expectWireType(tag, LEN, 'Resource.attributes');
      readKeyValue(s, resource, 0);
    } else skipField(r, tag, 0);
  }
  r.len = outer;
}

function readScopeSpans(s: State, resource: Attributes): void {
  const r = s.r;
  const outer = enter(r);
  const spans = s.result.spans;
  const first = spans.length;
  let scopeName = '';
  let spanIndex = 0;
  while (r.pos < r.len) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, LEN, 'ScopeSpans.scope');
        s.where.detail = 'scope';
        scopeName = readScopeName(s, scopeName);
        s.where.detail = '';
        break;
      case 2:
        expectWireType(tag, LEN, 'ScopeSpans.spans');
        s.where.spans = spanIndex++;
        readSpan(s, resource);
        s.where.spans = -1;
        break;
      default:
        skipField(r, tag, 0);
    }
  }
  r.len = outer;
  // The scope may follow its spans on the wire, so it is applied once the message is complete.
  const name = scopeName || null;
  for (let i = first; i < spans.length; i++) spans[i].scopeName = name;
}

export function readScopeName(s: WireState, current: string): string {
  const r = s.r;
  const outer = enter(r);
  let name = current;
  while (r.pos < r.len) {
    const tag = readTag(r);
    if (tag >>> 3 === 1) {
      expectWireType(tag, LEN, 'InstrumentationScope.name');
      name = readString(r);
    } else skipField(r, tag, 0); // version, attributes, dropped_attributes_count
  }
  r.len = outer;
  return name;
}

function readSpan(s: State, resource: Attributes): void {
  const r = s.r;
  const buf = r.buf as NodeBuffer;
  const outer = enter(r);
  let traceStart = -1;
  let traceLen = 0;
  let spanStart = -1;
  let spanLen = 0;
  let parentStart = -1;
  let parentLen = 0;
  let name = '';
  let kind = 0;
  let start = 0n;
  let end = 0n;
  const attributes: Attributes = {};
  const events: DecodedEvent[] = [];
  let statusCode = 0;
  let statusMessage = '';
  let eventIndex = 0;
  while (r.pos < r.len) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, LEN, 'Span.trace_id');
        traceLen = readLength(r);
        traceStart = r.pos;
        r.pos += traceLen;
        break;
      case 2:
        expectWireType(tag, LEN, 'Span.span_id');
        spanLen = readLength(r);
        spanStart = r.pos;
        r.pos += spanLen;
        break;
      case 4:
        expectWireType(tag, LEN, 'Span.parent_span_id');
        parentLen = readLength(r);
        parentStart = r.pos;
        r.pos += parentLen;
        break;
      case 5:
        expectWireType(tag, LEN, 'Span.name');
        name = readString(r);
        break;
      case 6:
        expectWireType(tag, VARINT, 'Span.kind');
        kind = r.int32();
        break;
      case 7:
        expectWireType(tag, I64, 'Span.start_time_unix_nano');
        start = readFixed64(s);
        break;
      case 8:
        expectWireType(tag, I64, 'Span.end_time_unix_nano');
        end = readFixed64(s);
        break;
      case 9:
        expectWireType(tag, LEN, 'Span.attributes');
        readKeyValue(s, attributes, 0);
        break;
      case 11: {
        expectWireType(tag, LEN, 'Span.events');
        s.where.detail = `events[${eventIndex++}]`;
        events.push(readEvent(s));
        s.where.detail = '';
        break;
      }
      case 15: {
        expectWireType(tag, LEN, 'Span.status');
        s.where.detail = 'status';
        const inner = enter(r);
        while (r.pos < r.len) {
          const t = readTag(r);
          const field = t >>> 3;
          if (field === 2) {
            expectWireType(t, LEN, 'Status.message');
            statusMessage = readString(r);
          } else if (field === 3) {
            expectWireType(t, VARINT, 'Status.code');
            statusCode = r.int32();
          } else skipField(r, t, 0);
        }
        r.len = inner;
        s.where.detail = '';
        break;
      }
      default:
        // 3 trace_state, 10/12/14 dropped counts, 13 links, 16 flags: not stored, but skipped by wire type
        skipField(r, tag, 0);
    }
  }
  r.len = outer;

  let problem: string | null = null;
  if (traceLen !== 16) problem = `trace id must be 16 bytes, got ${traceLen}`;
  else if (isAllZero(buf, traceStart, 16)) problem = 'trace id is all zeros';
  else if (spanLen !== 8) problem = `span id must be 8 bytes, got ${spanLen}`;
  else if (isAllZero(buf, spanStart, 8)) problem = 'span id is all zeros';
  else if (parentLen !== 0 && parentLen !== 8) problem = `parent span id must be 8 bytes or empty, got ${parentLen}`;
  if (problem !== null) {
    acceptSpan(s.result, s.where, problem, '', '', null, name, 0, 0n, 0n, attributes, events, 0, '', resource);
    return;
  }
  const parentSpanId = parentLen === 8 && !isAllZero(buf, parentStart, 8) ? hex(buf, parentStart, 8) : null;
  acceptSpan(
    s.result,
    s.where,
    null,
    hex(buf, traceStart, 16),
    hex(buf, spanStart, 8),
    parentSpanId,
    name,
    kind,
    start,
    end,
    attributes,
    events,
    statusCode,
    statusMessage,
    resource,
  );
}

function readEvent(s: State): DecodedEvent {
  const r = s.r;
  const outer = enter(r);
  let name = '';
  let time = 0n;
  const attributes: Attributes = {};
  while (r.pos < r.len) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, I64, 'Event.time_unix_nano');
        time = readFixed64(s);
        break;
      case 2:
        expectWireType(tag, LEN, 'Event.name');
        name = readString(r);
        break;
      case 3:
        expectWireType(tag, LEN, 'Event.attributes');
        readKeyValue(s, attributes, 0);
        break;
      default:
        skipField(r, tag, 0);
    }
  }
  r.len = outer;
  return { name, timeUnixNano: time, attributes };
}

/** KeyValue message → one entry of `target`. */
export function readKeyValue(s: WireState, target: Attributes, depth: number): void {
  const r = s.r;
  const outer = enter(r);
  let key = '';
  let value: AttrValue = null;
  while (r.pos < r.len) {
    const tag = readTag(r);
    const field = tag >>> 3;
    if (field === 1) {
      expectWireType(tag, LEN, 'KeyValue.key');
      key = readString(r);
    } else if (field === 2) {
      expectWireType(tag, LEN, 'KeyValue.value');
      value = readAnyValue(s, depth + 1);
    } else skipField(r, tag, 0);
  }
  r.len = outer;
  setAttribute(target, key, value);
}

export function readAnyValue(s: WireState, depth: number): AttrValue {
  if (depth > MAX_ANY_VALUE_DEPTH) throw new WireError(`attribute value nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  const r = s.r;
  const outer = enter(r);
  let value: AttrValue = null;
  while (r.pos < r.len) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, LEN, 'AnyValue.string_value');
        value = readString(r);
        break;
      case 2:
        expectWireType(tag, VARINT, 'AnyValue.bool_value');
        value = r.bool();
        break;
      case 3: {
        expectWireType(tag, VARINT, 'AnyValue.int_value');
        const long = r.int64() as unknown as { low: number; high: number };
        value = int64Value(long.low, long.high);
        break;
      }
      case 4:
        expectWireType(tag, I64, 'AnyValue.double_value');
        value = doubleAttribute(r.double());
        break;
      case 5: {
        expectWireType(tag, LEN, 'AnyValue.array_value');
        const items: AttrValue[] = [];
        const inner = enter(r);
        while (r.pos < r.len) {
          const t = readTag(r);
          if (t >>> 3 === 1) {
            expectWireType(t, LEN, 'ArrayValue.values');
            items.push(readAnyValue(s, depth + 1));
          } else skipField(r, t, 0);
        }
        r.len = inner;
        value = items;
        break;
      }
      case 6: {
        expectWireType(tag, LEN, 'AnyValue.kvlist_value');
        const entries: Attributes = {};
        const inner = enter(r);
        while (r.pos < r.len) {
          const t = readTag(r);
          if (t >>> 3 === 1) {
            expectWireType(t, LEN, 'KeyValueList.values');
            readKeyValue(s, entries, depth);
          } else skipField(r, t, 0);
        }
        r.len = inner;
        value = entries;
        break;
      }
      case 7: {
        expectWireType(tag, LEN, 'AnyValue.bytes_value');
        const n = readLength(r);
        value = (r.buf as Buffer).toString('base64', r.pos, r.pos + n);
        r.pos += n;
        break;
      }
      default:
        // 8 string_value_strindex is for profiles only; other receivers ignore it
        skipField(r, tag, 0);
    }
  }
  r.len = outer;
  return value;
}

/** int64 → number when exactly representable, else its decimal string (never a rounded number). */
function int64Value(low: number, high: number): number | string {
  const n = high * 4294967296 + (low >>> 0);
  if (Number.isSafeInteger(n)) return n;
  return ((BigInt(high) << 32n) | BigInt(low >>> 0)).toString();
}

// ---- wire helpers -------------------------------------------------------------------------

export function readTag(r: Reader): number {
  const tag = r.uint32();
  if (tag >>> 3 === 0) throw new WireError(`invalid field number 0 (tag byte 0x${tag.toString(16)})`);
  return tag;
}

/** Reads a length prefix and checks it against what is left of the enclosing message. */
export function readLength(r: Reader): number {
  const n = r.uint32();
  const remaining = r.len - r.pos;
  if (n > remaining) throw new WireError(`length ${n} exceeds remaining ${remaining} bytes`);
  return n;
}

/** Reads a sub-message's length and narrows the reader to it; returns the outer limit to restore. */
export function enter(r: Reader): number {
  const n = readLength(r);
  const outer = r.len;
  r.len = r.pos + n;
  return outer;
}

export function readString(r: Reader): string {
  const n = readLength(r);
  const start = r.pos;
  r.pos += n;
  if (n === 0) return '';
  const s = (r.buf as NodeBuffer).utf8Slice(start, start + n);
  // Postgres text and JSONB cannot hold NUL; one such string would fail the whole write batch.
  return s.includes('\0') ? s.replaceAll('\0', '') : s;
}

export function readFixed64(s: WireState): bigint {
  const r = s.r;
  if (r.len - r.pos < 8) throw new WireError(`fixed64 needs 8 bytes, ${r.len - r.pos} remain`);
  const v = s.view.getBigUint64(r.pos, true);
  r.pos += 8;
  return v;
}

export function expectWireType(tag: number, expected: number, field: string): void {
  const actual = tag & 7;
  if (actual !== expected) {
    throw new WireError(`${field} has wire type ${WIRE_TYPE_NAMES[actual]}, expected ${WIRE_TYPE_NAMES[expected]}`);
  }
}

/** Skips an unknown field by its wire type (groups included), so newer senders stay readable. */
export function skipField(r: Reader, tag: number, depth: number): void {
  const wireType = tag & 7;
  switch (wireType) {
    case VARINT:
      r.skip();
      return;
    case I64:
      if (r.len - r.pos < 8) throw new WireError(`fixed64 field ${tag >>> 3} needs 8 bytes, ${r.len - r.pos} remain`);
      r.pos += 8;
      return;
    case LEN: {
      const n = readLength(r); // not `r.pos += readLength(r)`: that adds to the position from before the prefix
      r.pos += n;
      return;
    }
    case I32:
      if (r.len - r.pos < 4) throw new WireError(`fixed32 field ${tag >>> 3} needs 4 bytes, ${r.len - r.pos} remain`);
      r.pos += 4;
      return;
    case START_GROUP: {
      if (depth >= MAX_ANY_VALUE_DEPTH) throw new WireError(`unknown groups nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
      const field = tag >>> 3;
      for (;;) {
        if (r.pos >= r.len) throw new WireError(`group ${field} is not closed`);
        const inner = readTag(r);
        if ((inner & 7) === END_GROUP) {
          if (inner >>> 3 !== field) throw new WireError(`group ${field} closed by end-group of field ${inner >>> 3}`);
          return;
        }
        skipField(r, inner, depth + 1);
      }
    }
    case END_GROUP:
      throw new WireError(`unexpected end-group for field ${tag >>> 3}`);
    default:
      throw new WireError(`invalid wire type ${wireType} for field ${tag >>> 3}`);
  }
}

export function isAllZero(buf: Uint8Array, start: number, n: number): boolean {
  for (let i = start; i < start + n; i++) if (buf[i] !== 0) return false;
  return true;
}

export function hex(buf: NodeBuffer, start: number, n: number): string {
  return buf.hexSlice(start, start + n);
}
