/** `faultline.timeout.kind` values (ATTR.timeoutKind): what kind of limit ran out. */
export const TIMEOUT_KINDS = [
  'schedule_to_start',
  'start_to_close',
  'heartbeat',
  'cli_exec',
  'turn_idle',
  'provider',
  'sandbox',
] as const;
export type TimeoutKind = (typeof TIMEOUT_KINDS)[number];

export const CATEGORIES = ['provider', 'timeout', 'sandbox', 'worker', 'session', 'cli', 'tool', 'delivery'] as const;
export type Category = (typeof CATEGORIES)[number];

/** yes: retry with backoff; once: one automatic retry then surface; no: surface now; user: the user decides. */
export const RETRYABLE = ['yes', 'once', 'no', 'user'] as const;
export type Retryable = (typeof RETRYABLE)[number];

/**
 * The retry policy in the words support uses. It says whether retrying helps, never that a retry
 * happened: only a producer's recorded retries (a `retrying` status, an attempt count) show that.
 */
export const RETRYABLE_WORDS: Record<Retryable, string> = {
  yes: 'Yes — trying again helps, after a short wait',
  once: 'Once — one more try is worth it; if that fails too, show the error',
  no: 'No — show the error right away; retrying will not help',
  user: 'The user decides — worth trying again once they have changed what caused it',
};

export interface CatalogEntry {
  /** `AGT-<CATEGORY>-<REASON>`; permanent, never renamed or reused. */
  code: string;
  category: Category;
  title: string;
  /** Plain words for the end user; may contain {provider} and {model}. */
  userMessage: string;
  /**
   * What the user actually saw, for codes the collector records on its own (the stuck watchdog, a
   * failure never surfaced): the producer never showed them `userMessage`. Absent: they saw `userMessage`.
   */
  userSaw?: string;
  /** What support tells the customer and what they check. */
  supportNote: string;
  /** Remediation for the operator. */
  operatorHint: string;
  retryable: Retryable;
  /** Normalised HTTP-like status; null where none fits (e.g. OOM). */
  httpStatus: number | null;
  timeoutKind?: TimeoutKind;
  /** Where the failure mode comes from (seed, system). */
  source: string;
}
