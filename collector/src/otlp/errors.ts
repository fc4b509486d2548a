import { FaultlineError } from '../errors.ts';

/**
 * The request body cannot be read as OTLP at all (truncated, wrong wire types, invalid JSON, …).
 * OTLP says: answer 400 and the client must not retry, so the message must tell the sender's
 * developer exactly where the payload broke.
 */
export class OtlpDecodeError extends FaultlineError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super('otlp_decode_failed', 400, message, options);
    this.name = 'OtlpDecodeError';
  }
}

/** The body, before or after decompression, is larger than the collector accepts (OTLP: 413). */
export class PayloadTooLargeError extends FaultlineError {
  readonly limitBytes: number;

  constructor(limitBytes: number, message: string) {
    super('payload_too_large', 413, message, { context: { limitBytes } });
    this.name = 'PayloadTooLargeError';
    this.limitBytes = limitBytes;
  }
}

/** A Content-Encoding the collector cannot decompress (zstd, snappy, …): 415, tell the sender to use gzip. */
export class UnsupportedEncodingError extends FaultlineError {
  readonly encoding: string;

  constructor(encoding: string) {
    super(
      'unsupported_content_encoding',
      415,
      `Content-Encoding "${encoding}" is not supported; send the body uncompressed or with gzip, deflate or br`,
      { context: { encoding } },
    );
    this.name = 'UnsupportedEncodingError';
    this.encoding = encoding;
  }
}
