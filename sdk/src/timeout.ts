import { ATTR } from '@faultline/schema';
import type { TimeoutKind } from '@faultline/schema';

/** The catalog code each timeout kind stands for when our own timer fires. */
export const TIMEOUT_CODES: Record<TimeoutKind, string> = {
  schedule_to_start: 'AGT-TIMEOUT-SCHEDULE-TO-START',
  start_to_close: 'AGT-TIMEOUT-START-TO-CLOSE',
  heartbeat: 'AGT-TIMEOUT-HEARTBEAT',
  cli_exec: 'AGT-TIMEOUT-CLI-EXEC',
  turn_idle: 'AGT-TIMEOUT-TURN-IDLE',
  provider: 'AGT-PROVIDER-TIMEOUT',
  sandbox: 'AGT-SANDBOX-TIMEOUT',
};

/** Rejected by `withTimeout` when the limit passes; `fail()` reads its code and kind directly. */
export class FaultlineTimeoutError extends Error {
  override readonly name = 'FaultlineTimeoutError';
  readonly timeoutKind: TimeoutKind;
  readonly timeoutMs: number;
  readonly faultlineCode: string;
  /** The same tag as on the span, for code that only looks at attributes. */
  readonly attributes: Record<string, string>;

  constructor(kind: TimeoutKind, ms: number, label?: string) {
    super(`${label ?? kind.replace(/_/g, ' ')} timed out after ${ms} ms`);
    this.timeoutKind = kind;
    this.timeoutMs = ms;
    this.faultlineCode = TIMEOUT_CODES[kind];
    this.attributes = { [ATTR.timeoutKind]: kind };
  }
}

export interface WithTimeoutOptions {
  /** Words for the message, e.g. "claude exec" → "claude exec timed out after 300000 ms". */
  label?: string;
  /** An outer signal (user pressed stop); its abort is passed on to `fn`'s signal. */
  signal?: AbortSignal;
}

/**
 * Runs `fn` with an AbortSignal that fires after `ms`; then rejects with a FaultlineTimeoutError
 * carrying `kind`, so the failure lands under the right timeout category. `fn` should stop its
 * work (kill the child process, abort the fetch) when the signal aborts.
 */
export function withTimeout<T>(
  kind: TimeoutKind,
  ms: number,
  fn: (signal: AbortSignal) => Promise<T> | T,
  options: WithTimeoutOptions = {},
): Promise<T> {
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = () => controller.abort(outer?.reason);
  if (outer) {
    if (outer.aborted) controller.abort(outer.reason);
    else outer.addEventListener('abort', onOuterAbort, { once: true });
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
      action();
    };
    const timer = setTimeout(() => {
      const error = new FaultlineTimeoutError(kind, ms, options.label);
      finish(() => reject(error));
      controller.abort(error);
    }, ms);
    let work: Promise<T>;
    try {
      work = Promise.resolve(fn(controller.signal));
    } catch (error) {
      finish(() => reject(error));
      return;
    }
    work.then(
      (value) => finish(() => resolve(value)),
      (error) => finish(() => reject(error)),
    );
  });
}
