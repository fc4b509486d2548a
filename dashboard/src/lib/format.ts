/** Times for people: relative in the text, absolute in the title attribute. */
import { readable } from 'svelte/store';

/**
 * A clock that ticks so "3 min ago" and "silent for 12 s" stay true while the page is open.
 * Every second: a stuck session's silence is counted in seconds, and a 10 s tick showed a
 * session flagged after 1.5 s of silence as "silent for 1.2 s".
 */
export const now = readable(Date.now(), (set) => {
  set(Date.now()); // the store may restart long after module load
  const id = setInterval(() => set(Date.now()), 1_000);
  return () => clearInterval(id);
});

function toMs(value: string | number | Date): number {
  return value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
}

export function timeAgo(value: string | number | Date | null | undefined, nowMs = Date.now()): string {
  if (value === null || value === undefined) return '—';
  const at = toMs(value);
  if (Number.isNaN(at)) return '—';
  const diff = nowMs - at;
  const abs = Math.abs(diff);
  if (abs < 5_000) return 'just now';
  const text = shortDuration(abs);
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** "42 s", "3 min", "2 h", "3 d" — one unit, rounded down, for "ago" phrases. */
export function shortDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

/** "850 ms", "12.4 s", "3 min 12 s", "2 h 5 min" — two units, for durations. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const totalS = Math.floor(ms / 1000);
  const m = Math.floor(totalS / 60);
  if (m < 60) return `${m} min ${totalS % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function absoluteTime(value: string | number | Date | null | undefined): string {
  if (value === null || value === undefined) return '';
  const date = new Date(toMs(value));
  if (Number.isNaN(date.getTime())) return String(value);
  const local = date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  return `${local} (${date.toISOString()})`;
}

export function clockTime(value: string | number | Date): string {
  const date = new Date(toMs(value));
  if (Number.isNaN(date.getTime())) return String(value);
  const time = date.toLocaleTimeString(undefined, { hour12: false });
  return `${time}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

export function count(n: number | null | undefined): string {
  return (n ?? 0).toLocaleString();
}

export function humanize(value: string): string {
  return value.replace(/[_.]/g, ' ');
}
