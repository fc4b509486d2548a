/**
 * Column descriptors for the bulk writers: one list per table says which columns a row fills and
 * how each JS value becomes a Postgres value. The COPY text writer and the `unnest` statements are
 * built from these lists, so adding a column is one line here, never an index shuffled elsewhere.
 */

/** How a value travels. `timestamptz` values are epoch microseconds; `jsonb` values are JS values. */
export type ColumnType = 'text' | 'int2' | 'int4' | 'float8' | 'bool' | 'jsonb' | 'timestamptz';

export interface Column<R> {
  readonly name: string;
  readonly type: ColumnType;
  /** The value for one row; `null` (or `undefined`) is SQL NULL. */
  readonly value: (row: R) => unknown;
}

export const column = <R>(name: string, type: ColumnType, value: (row: R) => unknown): Column<R> => ({ name, type, value });

export const columnNames = (columns: readonly Column<never>[]): string => columns.map((c) => c.name).join(', ');

let isoSecond = NaN;
let isoPrefix = '';

/**
 * Epoch microseconds as an exact ISO-8601 UTC timestamp (`to_timestamp(µs / 1e6)` goes through a
 * float and can be a microsecond off). The spans of one batch share their seconds, so the date
 * part is formatted once per second.
 */
export function isoMicros(us: number): string {
  const second = Math.floor(us / 1e6);
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 19);
    isoSecond = second;
  }
  return `${isoPrefix}.${String(us - second * 1e6).padStart(6, '0')}Z`;
}

// COPY text format: backslash, newline, carriage return and tab are the only characters a value
// must escape (https://www.postgresql.org/docs/current/sql-copy.html, "Text Format"). NUL cannot
// be stored in text at all; the decoder drops it, and it is dropped here too so no value can
// fail a COPY.
const COPY_SPECIAL = /[\\\n\r\t\0]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t\0]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '' };
const copyEscape = (s: string): string => (COPY_SPECIAL.test(s) ? s.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]) : s);
// JSON.stringify escapes every control character, so its output can only hold backslashes.
const copyEscapeJson = (s: string): string => (s.includes('\\') ? s.replaceAll('\\', '\\\\') : s);

function copyField(type: ColumnType, v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  switch (type) {
    case 'text':
      return copyEscape(v as string);
    case 'jsonb':
      return copyEscapeJson(JSON.stringify(v));
    case 'timestamptz':
      return isoMicros(v as number);
    case 'bool':
      return v ? 't' : 'f';
    default:
      return String(v);
  }
}

const COPY_PIECE_CHARS = 64 * 1024;

/**
 * Rows in COPY text format (tab-separated, `\N` for NULL, one line per row), in pieces of about
 * 64 kB: a batch is several megabytes, and one string of that size costs a flattening copy, a
 * second copy into the driver's buffer and a large-object collection.
 */
export function copyText<R>(columns: readonly Column<R>[], rows: readonly R[]): string[] {
  const pieces: string[] = [];
  let out = '';
  const last = columns.length - 1;
  // Consecutive rows often hold the same value (the session id, the service, and the very same
  // resource object for every span of a request): each is formatted once.
  const lastValue: unknown[] = new Array(columns.length).fill(undefined);
  const lastField: string[] = new Array(columns.length).fill('\\N');
  for (const row of rows) {
    for (let i = 0; i <= last; i++) {
      const c = columns[i];
      const v = c.value(row);
      if (v !== lastValue[i]) {
        lastField[i] = copyField(c.type, v);
        lastValue[i] = v;
      }
      out += lastField[i];
      out += i === last ? '\n' : '\t';
    }
    if (out.length >= COPY_PIECE_CHARS) {
      pieces.push(out);
      out = '';
    }
  }
  if (out) pieces.push(out);
  return pieces;
}

// Timestamps travel as ISO text and are cast in SQL: drizzle's postgres.js setup passes dates
// through untouched, which leaves postgres.js without a serializer for `timestamptz[]`.
const ARRAY_TYPE: Record<ColumnType, string> = {
  text: 'text[]', int2: 'int2[]', int4: 'int4[]', float8: 'float8[]', bool: 'bool[]', jsonb: 'jsonb[]', timestamptz: 'text[]',
};

/**
 * `unnest($1::text[], $2::int4[], …) as t(a, b, …)`, one parameter per column: the FROM item of
 * an `INSERT … SELECT` over many rows in one statement.
 */
export function unnestFrom(columns: readonly Column<never>[], alias = 't'): string {
  const params = columns.map((c, i) => `$${i + 1}::${ARRAY_TYPE[c.type]}`).join(', ');
  return `unnest(${params}) as ${alias}(${columnNames(columns)})`;
}

/** The select list over `unnestFrom`, each column as its own type. */
export function unnestColumns(columns: readonly Column<never>[], alias = 't'): string {
  return columns.map((c) => (c.type === 'timestamptz' ? `${alias}.${c.name}::timestamptz` : `${alias}.${c.name}`)).join(', ');
}

/** The parameters for `unnestFrom`: one array per column. */
export function unnestParams<R>(columns: readonly Column<R>[], rows: readonly R[]): unknown[][] {
  return columns.map((c) =>
    rows.map((row) => {
      const v = c.value(row);
      if (v === null || v === undefined) return null;
      if (c.type === 'jsonb') return JSON.stringify(v);
      if (c.type === 'timestamptz') return isoMicros(v as number);
      return v;
    }),
  );
}
