/**
 * OTLP/gRPC on FAULTLINE_GRPC_PORT (4317): TraceService/Export, LogsService/Export and
 * MetricsService/Export, served by @grpc/grpc-js. Claude Code's documented quick start and Gemini
 * CLI's defaults send here.
 *
 * Messages are passed through as raw bytes (identity (de)serializers), so the request is read by
 * the same protobuf decoder as OTLP/HTTP, and export.ts decides what it means for both
 * transports. grpc-js undoes `grpc-encoding: gzip` itself and refuses a message larger than
 * FAULTLINE_MAX_BODY_BYTES (after decompression) with RESOURCE_EXHAUSTED before it reaches us.
 *
 * Status codes follow the OTLP specification: INVALID_ARGUMENT for a request that cannot be
 * decoded (not retryable), UNAUTHENTICATED for a missing or wrong key (`authorization: Bearer`
 * or `x-faultline-key` metadata), RESOURCE_EXHAUSTED / UNAVAILABLE with a google.rpc.RetryInfo
 * under back-pressure (retryable after the delay it names), partial success for refused items.
 * The HTTP edge's browser-origin checks (security.ts) have nothing to guard here: a web page
 * cannot make a gRPC call (fetch gives it neither raw HTTP/2 nor trailers).
 */
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../config.ts';
import { ingestKeyProblem } from '../auth.ts';
import { isPortTaken, portTakenError, StartupError } from '../errors.ts';
import { encodeExportResponse, encodeRetryStatus, GrpcCode, OtlpDecodeError } from '../otlp/index.ts';
import { OtlpExport, type Signal } from './export.ts';
import { BackPressureError, type IngestPipeline } from './pipeline.ts';
import { DecoderBusyError, RequestTooHeavyError, type RequestPreparer } from './prepare.ts';

const SERVICES: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
};

const passthrough = (b: Buffer) => b;

function serviceDefinition(service: string): grpc.ServiceDefinition {
  return {
    Export: {
      path: `/${service}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: passthrough,
      requestDeserialize: passthrough,
      responseSerialize: passthrough,
      responseDeserialize: passthrough,
      originalName: 'export',
    },
  };
}

function metadataText(metadata: grpc.Metadata, key: string): string | undefined {
  const v = metadata.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}

function statusFor(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof OtlpDecodeError) return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  // Without RetryInfo, RESOURCE_EXHAUSTED is not retried (OTLP): this request can never succeed.
  if (err instanceof RequestTooHeavyError) return { code: GrpcCode.RESOURCE_EXHAUSTED, details: err.message };
  if (err instanceof BackPressureError || err instanceof DecoderBusyError) {
    const code = err.status === 429 ? GrpcCode.RESOURCE_EXHAUSTED : GrpcCode.UNAVAILABLE;
    const metadata = new grpc.Metadata();
    metadata.set('grpc-status-details-bin', Buffer.from(encodeRetryStatus(code, err.message, err.retryAfterSeconds)));
    return { code, details: err.message, metadata };
  }
  console.error('Unexpected error while answering an OTLP/gRPC export', err);
  return { code: grpc.status.INTERNAL, details: 'The collector hit an unexpected error; details are in its log.' };
}

export interface GrpcServer {
  port: number;
  close(): Promise<void>;
}

/** Binds on HOST:FAULTLINE_GRPC_PORT; a port that cannot be bound stops start-up with a message naming it. */
export async function startGrpcServer(config: Config, pipeline: IngestPipeline, preparer: RequestPreparer, port: number): Promise<GrpcServer> {
  const otlp = new OtlpExport(config, pipeline, preparer);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': config.maxBodyBytes,
  });
  for (const [signal, service] of Object.entries(SERVICES) as [Signal, string][]) {
    const exportCall: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
      const problem = ingestKeyProblem(config.ingestKeys, metadataText(call.metadata, 'authorization'), metadataText(call.metadata, 'x-faultline-key'));
      if (problem !== null) return callback({ code: grpc.status.UNAUTHENTICATED, details: problem });
      otlp.handle(signal, call.request, 'protobuf').then(
        (result) => {
          const { body } = encodeExportResponse({ rejectedSpans: result.rejected, errorMessage: result.errorMessage }, 'protobuf', result.rejectedKey);
          callback(null, Buffer.from(body as Uint8Array));
        },
        (err) => callback(statusFor(err)),
      );
    };
    server.addService(serviceDefinition(service), { Export: exportCall });
  }
  const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  // grpc-js logs a failed bind itself ("E No address added…"); the StartupError below says it in
  // words, once, so its log stays quiet while binding.
  grpc.setLogVerbosity(grpc.logVerbosity.NONE);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  }).finally(() => grpc.setLogVerbosity(grpcLogVerbosity())).catch((err: Error) => {
    server.forceShutdown();
    if (isPortTaken(err)) throw portTakenError('grpc', host, port, err);
    throw new StartupError(
      `Cannot serve OTLP/gRPC on ${host}:${port} (${err.message}). Set FAULTLINE_GRPC_PORT to a free port, or FAULTLINE_GRPC_PORT=off to turn gRPC off.`,
    );
  });
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        // Let calls in flight finish (their data is being committed), then stop whatever is left.
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 3000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/** grpc-js's own level from GRPC_NODE_VERBOSITY / GRPC_VERBOSITY (default ERROR), restored after a bind. */
function grpcLogVerbosity(): grpc.logVerbosity {
  const name = (process.env.GRPC_NODE_VERBOSITY ?? process.env.GRPC_VERBOSITY ?? '').toUpperCase();
  const levels: Record<string, grpc.logVerbosity> = { DEBUG: grpc.logVerbosity.DEBUG, INFO: grpc.logVerbosity.INFO, NONE: grpc.logVerbosity.NONE };
  return levels[name] ?? grpc.logVerbosity.ERROR;
}
