import { describe, expect, it } from 'vitest';
import { truncateText, truncateTextStart } from './text.ts';

const isWellFormed = (s: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

describe('truncateText', () => {
  it('keeps text that fits and cuts plain text at the limit', () => {
    expect(truncateText('abc', 3)).toBe('abc');
    expect(truncateText('abcdef', 4)).toBe('abcd');
  });

  it('never ends in half an emoji: the pair is dropped whole', () => {
    // "a😀" is three code units; a cut at two would keep only the high surrogate.
    expect(truncateText('a😀b', 2)).toBe('a');
    expect(truncateText('a😀b', 3)).toBe('a😀');
    expect(truncateText('😀😀', 1)).toBe('');
  });

  it('gives well-formed text for every cut of a string full of pairs', () => {
    const s = 'x🧪é😀中👩‍💻'.repeat(20);
    for (let max = 0; max <= s.length; max++) {
      const out = truncateText(s, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(out.length).toBeGreaterThanOrEqual(max - 1);
      expect(isWellFormed(out)).toBe(true);
      expect(s.startsWith(out)).toBe(true);
    }
  });
});

describe('truncateTextStart', () => {
  it('keeps the tail and never starts with half an emoji', () => {
    expect(truncateTextStart('abcdef', 2)).toBe('ef');
    expect(truncateTextStart('a😀b', 2)).toBe('b');
    expect(truncateTextStart('a😀b', 3)).toBe('😀b');
    const s = '😀x'.repeat(30);
    for (let max = 0; max <= s.length; max++) expect(isWellFormed(truncateTextStart(s, max))).toBe(true);
  });
});
