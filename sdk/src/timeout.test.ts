import { describe, expect, it } from 'vitest';
import { ATTR, TIMEOUT_KINDS, getCatalogEntry } from '@faultline/schema';
import { FaultlineTimeoutError, TIMEOUT_CODES, withTimeout } from './timeout.ts';

describe('withTimeout', () => {
  it('returns the result when the work finishes in time', async () => {
    await expect(withTimeout('provider', 1_000, async () => 'answer')).resolves.toBe('answer');
  });

  it('passes on the work’s own failure unchanged', async () => {
    const own = new Error('ECONNRESET');
    await expect(withTimeout('provider', 1_000, () => Promise.reject(own))).rejects.toBe(own);
    const thrown = new Error('sync throw');
    await expect(
      withTimeout('provider', 1_000, () => {
        throw thrown;
      }),
    ).rejects.toBe(thrown);
  });

  it('on expiry aborts the signal and rejects with the kind, its code and a readable message', async () => {
    let reason: unknown;
    const promise = withTimeout(
      'cli_exec',
      10,
      (signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            reason = signal.reason;
            reject(new Error('child killed')); // a late rejection must not leak as unhandled
          });
        }),
      { label: 'claude exec' },
    );
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaultlineTimeoutError);
    const timeout = error as FaultlineTimeoutError;
    expect(timeout.timeoutKind).toBe('cli_exec');
    expect(timeout.faultlineCode).toBe('AGT-TIMEOUT-CLI-EXEC');
    expect(timeout.attributes[ATTR.timeoutKind]).toBe('cli_exec');
    expect(timeout.message).toBe('claude exec timed out after 10 ms');
    expect(reason).toBe(timeout);
  });

  it('maps every timeout kind to a catalog code of that kind', () => {
    for (const kind of TIMEOUT_KINDS) {
      const entry = getCatalogEntry(TIMEOUT_CODES[kind]);
      expect(entry, kind).toBeDefined();
      expect(entry!.timeoutKind, kind).toBe(kind);
    }
  });

  it('passes an outer abort (user pressed stop) through to the work', async () => {
    const outer = new AbortController();
    const work = withTimeout(
      'turn_idle',
      5_000,
      (signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason))),
      { signal: outer.signal },
    );
    outer.abort('user stop');
    await expect(work).resolves.toBe('user stop');

    const already = withTimeout('turn_idle', 5_000, (signal) => (signal.aborted ? 'saw the stop' : 'missed it'), {
      signal: outer.signal,
    });
    await expect(already).resolves.toBe('saw the stop');
  });
});
