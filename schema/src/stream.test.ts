import { describe, expect, it } from 'vitest';
import { STREAM_CONTROL_TYPES, STREAM_EVENT_TYPES } from './api.ts';

describe('live stream event names', () => {
  it('uses no name a browser gives a meaning of its own', () => {
    // EventSource dispatches an SSE event named `error` to onerror (read as a lost connection),
    // and `open` / `message` collide with its own events: none of them may name a stream event.
    const names = [...STREAM_EVENT_TYPES, ...STREAM_CONTROL_TYPES];
    for (const reserved of ['error', 'open', 'message']) expect(names).not.toContain(reserved);
    expect(new Set(names).size).toBe(names.length);
  });
});
