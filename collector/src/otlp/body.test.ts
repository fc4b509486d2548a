import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompressBody, parseContentType } from './body.ts';
import { OtlpDecodeError, PayloadTooLargeError, UnsupportedEncodingError } from './errors.ts';

const MiB = 1024 * 1024;
const payload = new TextEncoder().encode(JSON.stringify({ resourceSpans: [{ note: 'x'.repeat(5000) }] }));

describe('parseContentType', () => {
  it('routes OTLP content types, ignoring parameters, case and spaces', () => {
    expect(parseContentType('application/x-protobuf')).toBe('protobuf');
    expect(parseContentType('application/protobuf')).toBe('protobuf');
    expect(parseContentType('Application/X-Protobuf; proto=opentelemetry')).toBe('protobuf');
    expect(parseContentType('application/json')).toBe('json');
    expect(parseContentType(' application/json ; charset=utf-8')).toBe('json');
  });

  it('returns null for anything else, so the route answers 415', () => {
    expect(parseContentType(undefined)).toBeNull();
    expect(parseContentType('')).toBeNull();
    expect(parseContentType('text/plain')).toBeNull();
    expect(parseContentType('application/jsonl')).toBeNull();
    expect(parseContentType('multipart/form-data; boundary=application/json')).toBeNull();
  });
});

describe('decompressBody', () => {
  it('passes identity bodies through', async () => {
    expect(await decompressBody(payload, undefined, MiB)).toBe(payload);
    expect(await decompressBody(payload, 'identity', MiB)).toBe(payload);
  });

  it('round-trips gzip, x-gzip, deflate (zlib and raw) and br', async () => {
    const cases: [string, Uint8Array][] = [
      ['gzip', zlib.gzipSync(payload)],
      ['GZIP', zlib.gzipSync(payload)],
      ['x-gzip', zlib.gzipSync(payload)],
      ['deflate', zlib.deflateSync(payload)],
      ['deflate', zlib.deflateRawSync(payload)],
      ['br', zlib.brotliCompressSync(payload)],
      ['identity, gzip', zlib.gzipSync(payload)],
    ];
    for (const [encoding, body] of cases) {
      expect(Buffer.from(await decompressBody(body, encoding, MiB)).equals(Buffer.from(payload)), encoding).toBe(true);
    }
  });

  it('stops a gzip bomb at the limit with PayloadTooLargeError', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(50 * MiB));
    expect(bomb.length).toBeLessThan(100 * 1024);
    let thrown: unknown;
    try {
      await decompressBody(bomb, 'gzip', 4 * MiB);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PayloadTooLargeError);
    expect((thrown as PayloadTooLargeError).status).toBe(413);
    expect((thrown as Error).message).toMatch(/larger than the 4 MiB limit/);
  });

  it('accepts a body that inflates to exactly the limit', async () => {
    const exact = zlib.gzipSync(Buffer.alloc(4 * MiB, 7));
    expect((await decompressBody(exact, 'gzip', 4 * MiB)).length).toBe(4 * MiB);
  });

  it('refuses an uncompressed body over the limit', async () => {
    await expect(decompressBody(new Uint8Array(2048), undefined, 1024)).rejects.toThrow(PayloadTooLargeError);
  });

  it('answers unknown encodings with UnsupportedEncodingError (415)', async () => {
    for (const encoding of ['zstd', 'snappy', 'compress']) {
      let thrown: unknown;
      try {
        await decompressBody(payload, encoding, MiB);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(UnsupportedEncodingError);
      expect((thrown as UnsupportedEncodingError).status).toBe(415);
      expect((thrown as Error).message).toContain(`"${encoding}"`);
    }
  });

  it('turns corrupt or truncated gzip into OtlpDecodeError (400)', async () => {
    const gz = zlib.gzipSync(payload);
    const corrupt = Buffer.from(gz);
    corrupt[gz.length >> 1] ^= 0xff;
    await expect(decompressBody(corrupt, 'gzip', MiB)).rejects.toThrow(OtlpDecodeError);
    await expect(decompressBody(gz.subarray(0, gz.length - 10), 'gzip', MiB)).rejects.toThrow(OtlpDecodeError);
    await expect(decompressBody(payload, 'gzip', MiB)).rejects.toThrow(/gzip: body cannot be decompressed/);
  });
});
