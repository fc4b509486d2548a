import { OtlpDecodeError } from './errors.ts';
import {
  acceptSpan,
  describePosition,
  doubleAttribute,
  MAX_ANY_VALUE_DEPTH,
  newPosition,
  setAttribute,
  ZERO_SPAN_ID,
  ZERO_TRACE_ID,
  type Position,
} from './shared.ts';
import type { AttrValue, Attributes, DecodedEvent, DecodeResult } from './types.ts';

/*
 * OTLP-JSON (proto3 JSON mapping with OTLP's deviations): lowerCamelCase keys (the original
 * snake_case names are accepted too, as the OpenTelemetry Collector does), hex ids in any case,
 * 64-bit integers as strings or numbers, enums as integers (names tolerated), unknown keys ignored.
 * A value of the wrong JSON type is a malformed request (400), as in any proto3 JSON parser;
 * a bad id only rejects its span.
 */

export type Json = unknown;
export type JsonObject = Record<string, Json>;

export class ShapeError extends Error {}

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const UNSIGNED = /^\d+$/;
const SIGNED = /^-?\d+$/;

/**
 * Postgres text and JSONB hold neither NUL nor unpaired UTF-16 surrogates: one such string would
 * fail a whole write batch. Escaped NULs are dropped and escaped lone surrogates become U+FFFD —
 * what the protobuf path gets from UTF-8 decoding anyway. (An escaped backslash before "u0000"
 * is text, not an escape, and stays.)
 */
function storableJsonText(text: string): string {
  let out = text;
  if (out.includes('\\u0000')) out = out.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1');
  if (/\\u[dD][89a-fA-F]/.test(out)) {
    out = out
      .replace(/\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})/g, '\\ufffd')
      .replace(/(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/g, '\\ufffd');
  }
  return out;
}

/** The body as a JSON object, or the 400 answer saying why it is not one. */
export function parseJsonBody(body: Uint8Array, message: string): JsonObject {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let doc: Json;
  try {
    doc = JSON.parse(storableJsonText(text));
  } catch (err) {
    throw new OtlpDecodeError(`json: body is not valid JSON (${(err as Error).message})`, { cause: err, context: { format: 'json' } });
  }
  if (!isObject(doc)) {
    throw new OtlpDecodeError(`json: top level must be an ${message} object, got ${typeName(doc)}`, {
      context: { format: 'json' },
    });
  }
  return doc;
}

/** Runs a reader, turning a ShapeError into the 400 answer naming where the document broke. */
export function readJsonShape<T>(where: Position, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    const at = describePosition(where);
    throw new OtlpDecodeError(`json: ${at}: ${err.message}`, { cause: err, context: { format: 'json', at } });
  }
}

export function decodeJsonTraceRequest(body: Uint8Array): DecodeResult {
  const doc = parseJsonBody(body, 'ExportTraceServiceRequest');
  const where = newPosition();
  const result: DecodeResult = { spans: [], rejected: [] };
  readJsonShape(where, () => readRequest(doc, where, result));
  return result;
}

function readRequest(doc: JsonObject, where: Position, result: DecodeResult): void {
  const resourceSpans = array(pick(doc, 'resourceSpans', 'resource_spans'), 'resourceSpans');
  for (let i = 0; i < resourceSpans.length; i++) {
    where.resourceSpans = i;
    const rs = object(resourceSpans[i], 'resourceSpans[]');
    if (!rs) continue;
    const resource: Attributes = {};
    const res = object(rs.resource, 'resource');
    if (res) {
      where.detail = 'resource';
      readAttributes(array(res.attributes, 'attributes'), resource, 0);
      where.detail = '';
    }
    const scopeSpans = array(pick(rs, 'scopeSpans', 'scope_spans'), 'scopeSpans');
    for (let j = 0; j < scopeSpans.length; j++) {
      where.scopeSpans = j;
      const ss = object(scopeSpans[j], 'scopeSpans[]');
      if (!ss) continue;
      const scope = object(ss.scope, 'scope');
      where.detail = 'scope';
      const scopeName = (scope && string(scope.name, 'name')) || null;
      where.detail = '';
      const spans = array(ss.spans, 'spans');
      for (let k = 0; k < spans.length; k++) {
        where.spans = k;
        const span = object(spans[k], 'spans[]');
        if (span) readSpan(span, where, result, resource, scopeName);
      }
      where.spans = -1;
    }
    where.scopeSpans = -1;
  }
}

function readSpan(span: JsonObject, where: Position, result: DecodeResult, resource: Attributes, scopeName: string | null): void {
  const name = string(span.name, 'name');
  const kind = enumValue(span.kind, 'kind', SPAN_KINDS);
  const start = timestamp(pick(span, 'startTimeUnixNano', 'start_time_unix_nano'), 'startTimeUnixNano');
  const end = timestamp(pick(span, 'endTimeUnixNano', 'end_time_unix_nano'), 'endTimeUnixNano');
  const attributes: Attributes = {};
  readAttributes(array(span.attributes, 'attributes'), attributes, 0);
  const events: DecodedEvent[] = [];
  const rawEvents = array(span.events, 'events');
  for (let i = 0; i < rawEvents.length; i++) {
    where.detail = `events[${i}]`;
    const ev = object(rawEvents[i], 'events[]');
    if (!ev) continue;
    const evAttributes: Attributes = {};
    readAttributes(array(ev.attributes, 'attributes'), evAttributes, 0);
    events.push({
      name: string(ev.name, 'name'),
      timeUnixNano: timestamp(pick(ev, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano'),
      attributes: evAttributes,
    });
  }
  where.detail = 'status';
  const status = object(span.status, 'status');
  const statusCode = status ? enumValue(status.code, 'code', STATUS_CODES) : 0;
  const statusMessage = status ? string(status.message, 'message') : '';
  where.detail = '';

  const traceId = id(pick(span, 'traceId', 'trace_id'), 'traceId', 16);
  const spanId = id(pick(span, 'spanId', 'span_id'), 'spanId', 8);
  const parent = id(pick(span, 'parentSpanId', 'parent_span_id'), 'parentSpanId', 8);
  let problem: string | null = null;
  if (traceId.problem !== null || traceId.hex.length !== 32) problem = traceId.problem ?? `trace id must be 16 bytes, got ${traceId.hex.length / 2}`;
  else if (traceId.hex === ZERO_TRACE_ID) problem = 'trace id is all zeros';
  else if (spanId.problem !== null || spanId.hex.length !== 16) problem = spanId.problem ?? `span id must be 8 bytes, got ${spanId.hex.length / 2}`;
  else if (spanId.hex === ZERO_SPAN_ID) problem = 'span id is all zeros';
  else if (parent.problem !== null || (parent.hex.length !== 0 && parent.hex.length !== 16)) {
    problem = parent.problem ?? `parent span id must be 8 bytes or empty, got ${parent.hex.length / 2}`;
  }
  const parentSpanId = parent.hex.length === 16 && parent.hex !== ZERO_SPAN_ID ? parent.hex : null;
  const before = result.spans.length;
  acceptSpan(result, where, problem, traceId.hex, spanId.hex, parentSpanId, name, kind, start, end, attributes, events, statusCode, statusMessage, resource);
  if (result.spans.length > before) result.spans[before].scopeName = scopeName;
}

export function readAttributes(list: Json[], target: Attributes, depth: number): void {
  for (let i = 0; i < list.length; i++) {
    const kv = object(list[i], 'attributes[]');
    if (!kv) continue;
    setAttribute(target, string(kv.key, 'key'), anyValue(kv.value, depth + 1));
  }
}

export function anyValue(v: Json, depth: number): AttrValue {
  if (depth > MAX_ANY_VALUE_DEPTH) throw new ShapeError(`attribute value nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  const o = object(v, 'value');
  if (!o) return null;
  // proto3 oneof: the first member present wins (a valid sender sets exactly one)
  let x: Json;
  if ((x = pick(o, 'stringValue', 'string_value')) != null) return string(x, 'stringValue');
  if ((x = pick(o, 'boolValue', 'bool_value')) != null) {
    if (typeof x !== 'boolean') throw new ShapeError(`boolValue must be a boolean, got ${typeName(x)}`);
    return x;
  }
  if ((x = pick(o, 'intValue', 'int_value')) != null) return int64(x);
  if ((x = pick(o, 'doubleValue', 'double_value')) != null) return double(x);
  if ((x = pick(o, 'arrayValue', 'array_value')) != null) {
    const arr = object(x, 'arrayValue');
    const values = arr ? array(arr.values, 'arrayValue.values') : [];
    const out: AttrValue[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = anyValue(values[i], depth + 1);
    return out;
  }
  if ((x = pick(o, 'kvlistValue', 'kvlist_value')) != null) {
    const kvl = object(x, 'kvlistValue');
    const out: Attributes = {};
    if (kvl) readAttributes(array(kvl.values, 'kvlistValue.values'), out, depth);
    return out;
  }
  if ((x = pick(o, 'bytesValue', 'bytes_value')) != null) {
    const s = string(x, 'bytesValue');
    if (!BASE64.test(s)) throw new ShapeError('bytesValue must be base64');
    // normalise URL-safe or unpadded base64 to the form the protobuf path produces
    return Buffer.from(s, 'base64').toString('base64');
  }
  return null;
}

// ---- typed field readers ------------------------------------------------------------------

export function pick(o: JsonObject, camel: string, snake: string): Json {
  const v = o[camel];
  return v === undefined ? o[snake] : v;
}

export function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function typeName(v: Json): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** proto3 JSON: null means "not set". */
export function object(v: Json, field: string): JsonObject | undefined {
  if (v == null) return undefined;
  if (!isObject(v)) throw new ShapeError(`${field} must be an object, got ${typeName(v)}`);
  return v;
}

export function array(v: Json, field: string): Json[] {
  if (v == null) return [];
  if (!Array.isArray(v)) throw new ShapeError(`${field} must be an array, got ${typeName(v)}`);
  return v;
}

export function string(v: Json, field: string): string {
  if (v == null) return '';
  if (typeof v !== 'string') throw new ShapeError(`${field} must be a string, got ${typeName(v)}`);
  return v;
}

export function enumValue(v: Json, field: string, names: Record<string, number>): number {
  if (v == null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && Object.hasOwn(names, v)) return names[v];
  throw new ShapeError(`${field} must be an integer enum value, got ${JSON.stringify(v)}`);
}

/** fixed64 nanoseconds: decimal string (the OTLP form) or a JSON number. */
export function timestamp(v: Json, field: string): bigint {
  if (v == null) return 0n;
  if (typeof v === 'string' && UNSIGNED.test(v)) {
    const n = BigInt(v);
    if (n <= 0xffffffffffffffffn) return n;
  } else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  else if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 64) return BigInt(v); // already rounded by JSON.parse
  throw new ShapeError(`${field} must be an unsigned 64-bit integer (decimal string or number), got ${JSON.stringify(v)}`);
}

function int64(v: Json): number | string {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return v;
    if (Number.isInteger(v) && Math.abs(v) <= 2 ** 63) return BigInt(v).toString();
  } else if (typeof v === 'string' && SIGNED.test(v)) {
    const n = BigInt(v);
    if (n >= -(2n ** 63n) && n < 2n ** 63n) {
      const num = Number(n);
      return Number.isSafeInteger(num) ? num : n.toString();
    }
  }
  throw new ShapeError(`intValue must be a 64-bit integer (decimal string or number), got ${JSON.stringify(v)}`);
}

function double(v: Json): number | string {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return v;
    const n = Number(v);
    if (v.trim() !== '' && !Number.isNaN(n)) return doubleAttribute(n);
  }
  throw new ShapeError(`doubleValue must be a number, got ${JSON.stringify(v)}`);
}

/** Hex per OTLP (any case); base64 of the right size is tolerated for senders using plain proto3 JSON. */
export function id(v: Json, field: string, bytes: number): { hex: string; problem: string | null } {
  if (v == null || v === '') return { hex: '', problem: null };
  if (typeof v !== 'string') throw new ShapeError(`${field} must be a hex string, got ${typeName(v)}`);
  if (v.length === bytes * 2 && HEX.test(v)) return { hex: v.toLowerCase(), problem: null };
  if (v.length === Math.ceil(bytes / 3) * 4 && BASE64.test(v)) {
    const b = Buffer.from(v, 'base64');
    if (b.length === bytes) return { hex: b.toString('hex'), problem: null };
  }
  const shown = v.length > 40 ? `${v.slice(0, 40)}…` : v;
  const what = field === 'traceId' ? 'trace id' : field === 'spanId' ? 'span id' : 'parent span id';
  return { hex: '', problem: `${what} must be ${bytes * 2} hex characters, got "${shown}"` };
}
