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
