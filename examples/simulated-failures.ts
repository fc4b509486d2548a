/**
 * Failures as the systems behind the seeds throw them, reduced to the fields they carry, so a
 * simulated runtime (the example, the browser test) can fail the way a real one does.
 */

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** What the Anthropic SDK throws for a 400 (reduced to the fields it carries). */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
  readonly status = 400;
  readonly requestID = 'req_011CExampleBilling';
  readonly error = {
    type: 'error',
    error: {
      type: 'invalid_request_error',
      message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
    },
  };
  constructor() {
    super('400 {"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}');
  }
}

/** What a Temporal client sees when the worker stops heartbeating (it crashed). */
export class TimeoutFailure extends Error {
  override name = 'TimeoutFailure';
  readonly timeoutType = 'HEARTBEAT';
  constructor(readonly lastHeartbeatDetails: unknown) {
    super('Activity task timed out');
  }
}
export class ActivityFailure extends Error {
  override name = 'ActivityFailure';
  readonly activityType = 'executeAgent';
  readonly retryState = 'MAXIMUM_ATTEMPTS_REACHED';
}
