/**
 * POST /v1/traces, /v1/logs, /v1/metrics — standard OTLP/HTTP (DESIGN §6): protobuf and JSON,
 * gzip/deflate, limits before and after decompression, partial success, and 429/503 with
 * Retry-After under back-pressure. Every answer is in the request's content type. What a request
 * means is decided in export.ts, shared with the gRPC server.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import {
  OtlpDecodeError,
  PayloadTooLargeError,
  UnsupportedEncodingError,
  decompressBody,
  encodeExportResponse,
  encodeStatus,
  grpcCodeForHttpStatus,
  parseContentType,
} from '../otlp/index.ts';
import { requireIngestKey } from '../auth.ts';
import { FaultlineError } from '../errors.ts';
import type { Config } from '../config.ts';
import { OtlpExport, SIGNALS, type ExportResult } from './export.ts';
import { BackPressureError, type IngestPipeline } from './pipeline.ts';

type Format = 'protobuf' | 'json';

function otlpAnswer(status: number, message: string, format: Format, headers: Record<string, string> = {}): Response {
  const { body, contentType } = encodeStatus({ code: grpcCodeForHttpStatus(status), message }, format);
  return new Response(body as BodyInit, { status, headers: { 'content-type': contentType, ...headers } });
}

export function ingestRoutes(config: Config, pipeline: IngestPipeline) {
  const app = new Hono<{ Variables: { format: Format } }>();
  const otlp = new OtlpExport(config, pipeline);
  for (const signal of SIGNALS) {
    app.post(
      `/v1/${signal}`,
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
        let result: ExportResult;
        try {
          const raw = new Uint8Array(await c.req.arrayBuffer());
          const body = decompressBody(raw, c.req.header('content-encoding'), config.maxBodyBytes);
          result = await otlp.handle(signal, body, format);
        } catch (err) {
          if (err instanceof PayloadTooLargeError) return otlpAnswer(413, err.message, format);
          if (err instanceof UnsupportedEncodingError) return otlpAnswer(415, err.message, format);
          if (err instanceof OtlpDecodeError) return otlpAnswer(400, err.message, format);
          if (err instanceof BackPressureError) {
            return otlpAnswer(err.status, err.message, format, { 'retry-after': String(err.retryAfterSeconds) });
          }
          throw err;
        }
        const { body, contentType } = encodeExportResponse({ rejectedSpans: result.rejected, errorMessage: result.errorMessage }, format, result.rejectedKey);
        return new Response(body as BodyInit, { status: 200, headers: { 'content-type': contentType } });
      },
    );
  }
  return app;
}
