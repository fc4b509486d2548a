import type { ApiErrorCode } from '@faultline/schema';

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
