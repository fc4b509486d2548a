/** The retry policy in the words support uses with a customer (defined once, in the schema). */
export { RETRYABLE_WORDS } from '@faultline/schema';
