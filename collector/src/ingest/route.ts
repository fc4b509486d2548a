/**
 * POST /v1/traces — standard OTLP/HTTP (DESIGN §6): protobuf and JSON, gzip/deflate, limits
 * before and after decompression, partial success, and 429/503 with Retry-After under
 * back-pressure. Every answer is in the request's content type.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import {
  OtlpDecodeError,
  PayloadTooLargeError,
  UnsupportedEncodingError,
  decodeTraceRequest,
  decompressBody,
  encodeExportResponse,
  encodeStatus,
  grpcCodeForHttpStatus,
  parseContentType,
} from '../otlp/index.ts';
import { requireIngestKey } from '../auth.ts';
import { FaultlineError } from '../errors.ts';
import type { Config } from '../config.ts';
import { enrichSpansYielding } from './enrich.ts';
import { BackPressureError, type IngestPipeline } from './pipeline.ts';

type Format = 'protobuf' | 'json';

function otlpAnswer(status: number, message: string, format: Format, headers: Record<string, string> = {}): Response {
  const { body, contentType } = encodeStatus({ code: grpcCodeForHttpStatus(status), message }, format);
  return new Response(body as BodyInit, { status, headers: { 'content-type': contentType, ...headers } });
}

export function ingestRoutes(config: Config, pipeline: IngestPipeline) {
  const app = new Hono<{ Variables: { format: Format } }>();
  app.post(
    '/v1/traces',
    async (c, next) => {
      // Decide the answer format before anything can fail, so every error is in the client's encoding.
      const format = parseContentType(c.req.header('content-type'));
      if (!format) {
        return c.text(
          `Unsupported Content-Type ${JSON.stringify(c.req.header('content-type') ?? '')}: send application/x-protobuf or application/json.`,
          415,
        );
      }
      c.set('format', format);
      try {
        await requireIngestKey(config.ingestKeys)(c, async () => {});
      } catch (err) {
        if (err instanceof FaultlineError) return otlpAnswer(err.status, err.message, format);
        throw err;
      }
      return next();
    },
    bodyLimit({
      maxSize: config.maxBodyBytes,
      onError: (c) =>
        otlpAnswer(413, `Request body exceeds the ${config.maxBodyBytes}-byte limit.`, c.get('format')),
    }),
    async (c) => {
      const format = c.get('format');
      let spans;
      let rejected;
      try {
        const raw = new Uint8Array(await c.req.arrayBuffer());
        const body = decompressBody(raw, c.req.header('content-encoding'), config.maxBodyBytes);
        ({ spans, rejected } = decodeTraceRequest(body, format));
      } catch (err) {
        if (err instanceof PayloadTooLargeError) return otlpAnswer(413, err.message, format);
        if (err instanceof UnsupportedEncodingError) return otlpAnswer(415, err.message, format);
        if (err instanceof OtlpDecodeError) return otlpAnswer(400, err.message, format);
        throw err;
      }
      let stored;
      try {
        stored = await pipeline.submit(await enrichSpansYielding(spans));
      } catch (err) {
        if (err instanceof BackPressureError) {
          return otlpAnswer(err.status, err.message, format, { 'retry-after': String(err.retryAfterSeconds) });
        }
        throw err;
      }
      pipeline.stats.spansRejected += rejected.length;
      const reasons = [...new Set(rejected.map((r) => r.reason)), ...stored.reasons];
      const rejectedSpans = rejected.length + stored.rejected;
      const errorMessage = rejectedSpans ? `${rejectedSpans} span(s) rejected: ${reasons.slice(0, 5).join('; ')}` : '';
      const { body, contentType } = encodeExportResponse({ rejectedSpans, errorMessage }, format);
      return new Response(body as BodyInit, { status: 200, headers: { 'content-type': contentType } });
    },
  );
  return app;
}
