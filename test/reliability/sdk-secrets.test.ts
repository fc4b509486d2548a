/**
 * Secrets never leave a runtime through the SDK: every secret shape (test/support/secret-shapes.ts)
 * in the message of an error, thrown as the runtime's libraries throw them — a plain Error, a
 * named provider error, an error whose name the scrubber reads as a secret's name, a wrapper with
 * the secret in its cause, a non-Error object — recorded with fail(), outside and inside a tool.
 * Nothing raw may be in what the SDK exports: exception message, stack, status message. The SDK
 * scrubs at export time, and a stack's "<name>: <message>" head takes the scrubbed message rather
 * than being scrubbed as one text (which pairs a secret-looking name with the message's own
 * "Cookie:" and keeps the cookie).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR, scrubSecrets } from '@faultline/schema';
import { init } from '@faultline/sdk';
import { SECRET_SHAPES, type SecretSample } from '../support/secret-shapes.ts';

class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  status = 401;
}
class InvalidToken extends Error {
  override name = 'InvalidToken';
}

/** How a runtime's libraries hand the sample's text over. */
const THROWN: { name: string; make: (text: string) => unknown }[] = [
  { name: 'Error', make: (text) => new Error(text) },
  { name: 'provider error', make: (text) => new AuthenticationError(text) },
  { name: 'secret-like error name', make: (text) => new InvalidToken(text) },
  { name: 'cause', make: (text) => new Error('Activity task failed', { cause: new Error(text) }) },
  { name: 'plain object', make: (text) => ({ type: 'error', error: { type: 'authentication_error', message: text } }) },
];

describe('secrets in errors never leave the runtime through the SDK', () => {
  const spoolDir = mkdtempSync(join(tmpdir(), 'faultline-sdk-secrets-'));
  afterAll(() => rmSync(spoolDir, { recursive: true, force: true }));

  it(`${SECRET_SHAPES.length} shapes × ${THROWN.length} ways to throw, outside and inside a tool`, async () => {
    const exported = new InMemorySpanExporter();
    const faultline = init({ serviceName: 'sdk-secrets', exporter: exported, spoolDir, heartbeatIntervalMs: 0, shutdownTimeoutMs: 100 });
    const cases: { label: string; sample: SecretSample; spanId: () => string | undefined }[] = [];
    for (const shape of SECRET_SHAPES) {
      for (const thrown of THROWN) {
        for (const where of ['outside', 'tool'] as const) {
          const sample = shape.make();
          const session = faultline.startSession({ id: `${shape.name}/${thrown.name}/${where}` });
          if (where === 'outside') session.fail(thrown.make(sample.text));
          else await session.tool('call', () => Promise.reject(thrown.make(sample.text))).catch(() => {});
          cases.push({ label: `${shape.name} (${thrown.name}, ${where})`, sample, spanId: () => session.id });
        }
      }
    }
    await faultline.flush(); // read before shutdown: shutting the in-memory exporter down empties it

    const bySession = new Map<string, string>();
    for (const span of exported.getFinishedSpans()) {
      if (span.status.code !== 2) continue;
      const exception = span.events.find((e) => e.name === 'exception');
      const text = [span.status.message, exception?.attributes?.[ATTR.exceptionMessage], exception?.attributes?.[ATTR.exceptionStacktrace]].join('\n');
      bySession.set(String(span.attributes[ATTR.sessionId]), text);
    }
    const leaks: string[] = [];
    for (const c of cases) {
      const text = bySession.get(c.spanId()!);
      expect(text, c.label).toBeDefined();
      for (const secret of c.sample.secrets) if (text!.includes(secret)) leaks.push(`${c.label}: ${secret.slice(0, 12)}…`);
    }
    expect(leaks).toEqual([]);
    expect(cases).toHaveLength(SECRET_SHAPES.length * THROWN.length * 2);
    await faultline.shutdown();
  });

  it("the stack's head says no more than the exception message, also when the error's name looks like a secret's name", async () => {
    const exported = new InMemorySpanExporter();
    const faultline = init({ serviceName: 'sdk-secrets', exporter: exported, spoolDir, heartbeatIntervalMs: 0, shutdownTimeoutMs: 100 });
    const cookie = 'Cookie: sessionid=X8K3k1ZmMEp0ZVMrSNFIMtwVTrqNfmgz; csrftoken=G7WAjSuPPJstJjbODmK63tgk';
    // Scrubbed as one text, "InvalidToken: Cookie: …" pairs the name with "Cookie:" and keeps the cookie.
    expect(scrubSecrets(`InvalidToken: ${cookie}`)).toContain('X8K3k1ZmMEp0ZVMrSNFIMtwVTrqNfmgz');
    faultline.startSession({}).fail(new InvalidToken(cookie));
    await faultline.flush();
    const [span] = exported.getFinishedSpans().filter((s) => s.status.code === 2);
    const exception = span.events.find((e) => e.name === 'exception')!;
    const message = String(exception.attributes![ATTR.exceptionMessage]);
    expect(message).toBe(scrubSecrets(cookie));
    expect(String(exception.attributes![ATTR.exceptionStacktrace]).startsWith(`InvalidToken: ${message}\n`)).toBe(true);
    expect(span.status.message).toBe(message);
    expect(JSON.stringify([span.attributes, span.events, span.status])).not.toContain('X8K3k1ZmMEp0ZVMrSNFIMtwVTrqNfmgz');
    await faultline.shutdown();
  });
});
