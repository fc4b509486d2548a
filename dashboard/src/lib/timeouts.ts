/**
 * Timeout kinds (DESIGN §3, `faultline.timeout.kind`) in words. The raw kinds are Temporal and
 * runtime vocabulary ("schedule_to_start", "cli_exec"); support staff read what happened.
 */
import { humanize } from './format.ts';

const LABELS: Record<string, string> = {
  schedule_to_start: 'no worker picked it up',
  start_to_close: 'run took too long',
  heartbeat: 'worker went silent',
  cli_exec: 'coding agent too slow',
  turn_idle: 'AI output stalled',
  provider: 'AI provider too slow',
  sandbox: 'sandbox too slow',
};

export function timeoutKindLabel(kind: string): string {
  return LABELS[kind] ?? humanize(kind);
}
