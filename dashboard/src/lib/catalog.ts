import type { Retryable } from '@faultline/schema';

/** The retry policy in the words support uses with a customer. */
export const RETRYABLE_WORDS: Record<Retryable, string> = {
  yes: 'Yes — retried automatically with backoff',
  once: 'Once — retried one time automatically, then shown to the user',
  no: 'No — shown to the user right away; retrying will not help',
  user: 'The user decides — safe to try again once they have fixed the cause',
};
