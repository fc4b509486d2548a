/**
 * `exception.type` as each OpenTelemetry SDK writes it, reduced to one comparable shape.
 *
 * - OpenTelemetry JS writes `err.code ?? err.name` (sdk-trace `Span.recordException`): a class name
 *   (`RateLimitError`), an errno (`ECONNRESET`), a provider API code (`insufficient_quota`), a
 *   DOMException code (`"20"` AbortError, `"23"` TimeoutError), a JSON-RPC code (`"-32001"`), a
 *   child-process exit code (`"1"`), a SQLSTATE (`"23505"`).
 * - Python writes `module.qualname` (`anthropic._exceptions.RateLimitError`, `modal.exception.SandboxTimeoutError`).
 * - Go writes the reflected type (`*internal.TimeoutError`, `*anthropic.Error`); Java and .NET the full class name.
 *
 * Pure: no node:* imports; this file also runs in the browser dashboard.
 */

export type ExceptionTypeKind = 'class' | 'errno' | 'number' | 'api-code' | 'sqlstate';

export interface ExceptionTypeName {
  raw: string;
  /** The class (or code) without module or package: `RateLimitError`, `ECONNRESET`, `-32001`. */
  name: string;
  /** Module or package path, lower-cased: `anthropic._exceptions`, `modal.exception`, `java.net`; `''` when none. */
  namespace: string;
  kind: ExceptionTypeKind;
}

// Each pattern is anchored and linear: no nested quantifiers, so a hostile 8 kB value costs one pass.
const NUMBER = /^-?\d{1,6}$/;
const SQLSTATE = /^\d[0-9A-Z]{4}$/;
const ERRNO = /^(E[A-Z0-9]{2,20}|UND_ERR_[A-Z_]{2,40}|ERR_[A-Z0-9_]{2,60})$/;
const API_CODE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const MAX_TYPE = 256;

/** Splits and classifies one `exception.type` (or a non-catalog `error.type`) value. Never throws. */
export function normalizeExceptionType(value: unknown): ExceptionTypeName | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const raw = String(value).trim().slice(0, MAX_TYPE);
  if (raw === '') return null;
  if (NUMBER.test(raw)) return { raw, name: raw, namespace: '', kind: raw.length === 5 && !raw.startsWith('-') ? 'sqlstate' : 'number' };
  if (SQLSTATE.test(raw)) return { raw, name: raw, namespace: '', kind: 'sqlstate' };
  if (ERRNO.test(raw)) return { raw, name: raw, namespace: '', kind: 'errno' };
  if (API_CODE.test(raw)) return { raw, name: raw, namespace: '', kind: 'api-code' };
  // Go pointer receivers and generic brackets add nothing to the name.
  const bare = raw.replace(/^\*+/, '').replace(/\[.*$/, '');
  const cut = Math.max(bare.lastIndexOf('.'), bare.lastIndexOf('/'));
  let name = cut >= 0 ? bare.slice(cut + 1) : bare;
  // Java nested classes: `Outer$Inner`.
  if (name.includes('$')) name = name.slice(name.lastIndexOf('$') + 1);
  const namespace = cut >= 0 ? bare.slice(0, cut).toLowerCase() : '';
  return { raw, name: name === '' ? bare : name, namespace, kind: 'class' };
}
