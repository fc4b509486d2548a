/**
 * Helpers for the SDK's own tests (not exported from the package): an in-memory pipeline, a
 * tiny OTLP collector on 127.0.0.1, and a decoder that pulls span ids out of OTLP protobuf.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { init } from './faultline.ts';
import type { FaultlineOptions } from './config.ts';

export function memoryFaultline(options: Partial<FaultlineOptions> = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const faultline = init({ serviceName: 'test-runtime', heartbeatIntervalMs: 0, tracerProvider: provider, ...options });
  return {
    faultline,
    exporter,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    named: (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name),
  };
}

/** Nanoseconds since epoch as bigint, so ordering comparisons are exact. */
export function ns(time: [number, number]): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
}

// --- OTLP protobuf: ExportTraceServiceRequest → resource_spans(1) → scope_spans(2) → spans(2) → span_id(2)

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, pos];
    shift += 7;
  }
}

/** Length-delimited fields with the given number, as sub-buffers. */
function fields(buf: Uint8Array, wanted: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < buf.length) {
    let tag: number;
    [tag, pos] = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) [, pos] = readVarint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let len: number;
      [len, pos] = readVarint(buf, pos);
      if (field === wanted) out.push(buf.subarray(pos, pos + len));
      pos += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

/** Span ids (hex) in an OTLP ExportTraceServiceRequest body. */
export function spanIdsInRequest(body: Uint8Array): string[] {
  const ids: string[] = [];
  for (const resourceSpans of fields(body, 1))
    for (const scopeSpans of fields(resourceSpans, 2))
      for (const span of fields(scopeSpans, 2))
        for (const id of fields(span, 2)) ids.push(Buffer.from(id).toString('hex'));
  return ids;
}

export interface FakeCollector {
  url: string;
  /** Span ids received in accepted (2xx) requests, in arrival order. */
  received: string[];
  /** Authorization header of every request. */
  authorizations: (string | undefined)[];
  /** When each request arrived (Date.now()). */
  requestTimes: number[];
  /** Status (and headers, e.g. Retry-After) to answer with from now on. */
  answer(status: number, headers?: Record<string, string>): void;
  requests: number;
  close(): Promise<void>;
}

/** A tiny OTLP/HTTP endpoint on 127.0.0.1 that answers `status` and records accepted span ids. */
export async function startFakeCollector(initialStatus = 200, port = 0): Promise<FakeCollector> {
  let status = initialStatus;
  let headers: Record<string, string> = {};
  const collector = {
    url: '',
    received: [] as string[],
    authorizations: [] as (string | undefined)[],
    requestTimes: [] as number[],
    requests: 0,
    answer(next: number, nextHeaders: Record<string, string> = {}) {
      status = next;
      headers = nextHeaders;
    },
    close: async () => {},
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      collector.requests++;
      collector.requestTimes.push(Date.now());
      collector.authorizations.push(req.headers.authorization);
      if (status >= 200 && status < 300 && req.url === '/v1/traces') {
        collector.received.push(...spanIdsInRequest(Buffer.concat(chunks)));
      }
      res.writeHead(status, { 'Content-Type': 'application/x-protobuf', ...headers });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  collector.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  collector.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return collector;
}
