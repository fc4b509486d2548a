/**
 * Cutting text to a length without breaking it. Lengths are UTF-16 code units (what JS `length`
 * counts, and at most three UTF-8 bytes each), but a cut never falls inside a surrogate pair: half
 * an emoji is a lone surrogate, which Postgres JSON refuses and text turns into U+FFFD.
 */

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** The first `max` code units of `s`, one fewer when the cut would split a surrogate pair. */
export function truncateText(s: string, max: number): string {
  if (s.length <= max) return s;
  const end = max > 0 && isHighSurrogate(s.charCodeAt(max - 1)) ? max - 1 : max;
  return s.slice(0, end);
}

/** The last `max` code units of `s`, one fewer when the cut would split a surrogate pair. */
export function truncateTextStart(s: string, max: number): string {
  if (s.length <= max) return s;
  const start = s.length - max;
  return s.slice(isLowSurrogate(s.charCodeAt(start)) ? start + 1 : start);
}
