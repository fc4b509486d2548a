/**
 * What a suite reports: figures under stable keys (ratios end in `Ratio`), each with its unit,
 * and the DESIGN §8 target beside it when there is one. The runner prints them as a table and
 * writes them to bench/results/latest.json.
 */
export interface Figure {
  key: string;
  label: string;
  value: number | string | null;
  unit: string;
  /** The target in words, e.g. "≥ 50000". */
  target?: string;
  met?: boolean;
}

export class Report {
  readonly figures: Figure[] = [];
  readonly notes: string[] = [];

  add(key: string, label: string, value: number | string | null, unit = '', target?: { text: string; met: boolean }): void {
    this.figures.push({ key, label, value, unit, ...(target ? { target: target.text, met: target.met } : {}) });
  }

  note(text: string): void {
    this.notes.push(text);
  }
}

export const atLeast = (value: number, min: number) => ({ text: `≥ ${min}`, met: value >= min });
export const atMost = (value: number, max: number) => ({ text: `≤ ${max}`, met: value <= max });

function show(v: Figure['value']): string {
  if (v === null) return '—';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
}

export function formatTable(figures: Figure[]): string {
  const rows = figures.map((f) => [f.key, f.label, `${show(f.value)}${f.unit ? ` ${f.unit}` : ''}`, f.target ?? '', f.met === undefined ? '' : f.met ? 'met' : 'MISSED']);
  const head = ['key', 'figure', 'value', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
