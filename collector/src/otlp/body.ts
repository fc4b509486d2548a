import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { OtlpDecodeError, PayloadTooLargeError, UnsupportedEncodingError } from './errors.ts';
import type { OtlpFormat } from './decode.ts';

/**
 * OTLP/HTTP request Content-Type → encoding, or null when it is neither (answer 415).
 * Parameters such as `; charset=utf-8` are ignored, case does not matter.
 */
export function parseContentType(header: string | undefined): OtlpFormat | null {
  if (!header) return null;
  const semi = header.indexOf(';');
  const mime = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
  switch (mime) {
    case 'application/x-protobuf':
    case 'application/protobuf':
      return 'protobuf';
    case 'application/json':
      return 'json';
    default:
      return null;
  }
}

/**
 * Undoes Content-Encoding (identity, gzip/x-gzip, deflate, br; a comma list is undone right to
 * left). The result, and every intermediate step, is capped at `maxDecompressedBytes`: zlib stops
 * at that size instead of inflating a bomb, and the request is answered 413. zlib runs on libuv's
 * thread pool, so inflating 64 MiB never stalls the event loop.
 */
export async function decompressBody(body: Uint8Array, contentEncoding: string | undefined, maxDecompressedBytes: number): Promise<Uint8Array> {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity' && c !== 'none');
  let data = body;
  if (data.byteLength > maxDecompressedBytes && codings.length === 0) throw tooLarge(maxDecompressedBytes, 'body');
  for (let i = codings.length - 1; i >= 0; i--) data = await decode(data, codings[i], maxDecompressedBytes);
  return data;
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotliDecompress = promisify(zlib.brotliDecompress);

async function decode(data: Uint8Array, coding: string, limit: number): Promise<Uint8Array> {
  const options = { maxOutputLength: Math.max(1, limit) };
  try {
    switch (coding) {
      case 'gzip':
      case 'x-gzip':
        return await gunzip(data, options);
      case 'deflate':
        // HTTP "deflate" is zlib-wrapped, but some clients send raw deflate; the zlib header tells them apart
        return await (hasZlibHeader(data) ? inflate(data, options) : inflateRaw(data, options));
      case 'br':
        return await brotliDecompress(data, options);
      default:
        throw new UnsupportedEncodingError(coding);
    }
  } catch (err) {
    if (err instanceof UnsupportedEncodingError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit, `${coding}-decompressed body`);
    throw new OtlpDecodeError(`${coding}: body cannot be decompressed (${(err as Error).message})`, {
      cause: err,
      context: { encoding: coding },
    });
  }
}

function hasZlibHeader(data: Uint8Array): boolean {
  return data.length >= 2 && (data[0] & 0x0f) === 8 && (data[0] >> 4) <= 7 && ((data[0] << 8) | data[1]) % 31 === 0;
}

function tooLarge(limit: number, what: string): PayloadTooLargeError {
  return new PayloadTooLargeError(limit, `${what} is larger than the ${formatBytes(limit)} limit; send smaller batches`);
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
