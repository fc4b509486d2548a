import { scrubSecrets, type ApiErrorCode } from '@faultline/schema';

/**
 * The collector's one error type: a stable machine code (one of the contract's closed set,
 * API_ERROR_STATUS), an HTTP status, and a message written for whoever reads it (operator, API
 * client). `app.onError` turns it into `{"error":{code,message,requestId}}`.
 */
export class FaultlineError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly context: Record<string, unknown>;

  constructor(code: ApiErrorCode, status: number, message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.name = 'FaultlineError';
    this.code = code;
    this.status = status;
    this.context = options.context ?? {};
  }
}

/** Start-up refused: bad configuration, locked data directory, unsafe bind. Printed, then exit 1. */
export class StartupError extends FaultlineError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('startup_failed', 500, message, options);
    this.name = 'StartupError';
  }
}

/** Whether a listen/bind failed because another program holds the port (Node's EADDRINUSE, grpc-js's wrapped text). */
export function isPortTaken(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (err as { code?: unknown }).code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(err.message);
}

/**
 * The one message `faultline serve` prints when its HTTP port (PORT) or OTLP/gRPC port
 * (FAULTLINE_GRPC_PORT) is taken: which port, the usual holder (a local OpenTelemetry Collector
 * listens on the same standard ports 4318 and 4317), and how to pick another.
 */
export function portTakenError(which: 'http' | 'grpc', host: string, port: number, cause: unknown): StartupError {
  const where = `${host}:${port}`;
  const usual =
    'Another program is listening on it. The defaults, 4318 (HTTP) and 4317 (gRPC), are the standard OpenTelemetry ports and are often held by a local OpenTelemetry Collector (or another Faultline): stop that program, or move Faultline';
  const message =
    which === 'http'
      ? `Port ${port} is already in use (PORT, ${where}), so the collector cannot serve OTLP/HTTP, the API and the dashboard. ${usual}: PORT=4320 npm start (or PORT=4320 faultline serve). The OTLP/gRPC port is set with FAULTLINE_GRPC_PORT=4319, or FAULTLINE_GRPC_PORT=off.`
      : `Port ${port} is already in use (FAULTLINE_GRPC_PORT, ${where}), so the collector cannot serve OTLP/gRPC. ${usual}: FAULTLINE_GRPC_PORT=4319 npm start, or FAULTLINE_GRPC_PORT=off when your producers send OTLP/HTTP only. PORT sets the HTTP port.`;
  return new StartupError(message, { cause });
}

/**
 * An error as one log line and its stack frames, safe to print: Drizzle's "Failed query: …
 * params: …" message carries the statement's parameters (telemetry values, ids, secrets) and is
 * replaced by the database's own message and SQLSTATE; every message is scrubbed.
 */
export function describeForLog(err: unknown, depth = 0): string {
  if (!(err instanceof Error)) return scrubSecrets(String(err)).slice(0, 2000);
  const cause = (err as { cause?: unknown }).cause;
  const params = 'params' in err && 'query' in err;
  const code = (err as { code?: unknown }).code;
  const head = params
    ? `Database query failed${cause instanceof Error ? `: ${scrubSecrets(cause.message)}` : ''}${typeof (cause as { code?: unknown })?.code === 'string' ? ` (SQLSTATE ${(cause as { code: string }).code})` : ''}`
    : `${err.name}: ${scrubSecrets(err.message)}${typeof code === 'string' ? ` (${code})` : ''}`;
  const frames = (err.stack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at ')).slice(0, 10).join('\n');
  const below = !params && cause !== undefined && depth < 3 ? `\ncaused by ${describeForLog(cause, depth + 1)}` : '';
  return `${head}${frames ? `\n${frames}` : ''}${below}`;
}
