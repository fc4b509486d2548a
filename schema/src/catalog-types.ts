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

export interface CatalogEntry {
  /** `AGT-<CATEGORY>-<REASON>`; permanent, never renamed or reused. */
  code: string;
  category: Category;
  title: string;
  /** Plain words for the end user; may contain {provider} and {model}. */
  userMessage: string;
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
