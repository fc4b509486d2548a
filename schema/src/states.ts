/** Session states (DESIGN §5), reconciled from the seeds; see failure-taxonomy §4. */
export const SESSION_STATES = [
  'starting',
  'ready',
  'running',
  'waiting_input',
  'retrying',
  'error',
  'stopped',
  'completed',
] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export function isSessionState(value: unknown): value is SessionState {
  return typeof value === 'string' && (SESSION_STATES as readonly string[]).includes(value);
}

/** States in which progress is expected; only these can become stuck. */
export const PROGRESS_STATES = ['starting', 'running', 'retrying'] as const satisfies readonly SessionState[];
export type ProgressState = (typeof PROGRESS_STATES)[number];
export function canBeStuck(state: SessionState | null | undefined): state is ProgressState {
  return state === 'starting' || state === 'running' || state === 'retrying';
}

/** `stopped` and `completed` end a session; `error` keeps it recoverable. */
export const TERMINAL_STATES = ['stopped', 'completed'] as const satisfies readonly SessionState[];
export function isTerminal(state: SessionState | null | undefined): boolean {
  return state === 'stopped' || state === 'completed';
}

/**
 * Allowed transitions. A session with no state yet may enter any state (a producer that joins
 * late still lands). Self-transitions are always allowed (status message updates).
 */
export const TRANSITIONS: Record<SessionState, readonly SessionState[]> = {
  starting: ['ready', 'running', 'retrying', 'error', 'stopped', 'completed'],
  ready: ['running', 'starting', 'stopped', 'completed', 'error'],
  running: ['ready', 'waiting_input', 'retrying', 'error', 'stopped', 'completed'],
  waiting_input: ['running', 'ready', 'error', 'stopped', 'completed'],
  retrying: ['running', 'error', 'stopped', 'ready', 'completed'],
  error: ['running', 'starting', 'ready', 'retrying', 'stopped', 'completed'],
  stopped: ['starting'],
  completed: [],
};

export function canTransition(from: SessionState | null | undefined, to: SessionState): boolean {
  if (from == null || from === to) return true;
  return TRANSITIONS[from].includes(to);
}

/**
 * Why a session is flagged stuck (failure-taxonomy §4). The silent kinds mean no span at all for
 * the state's threshold; `running_wallclock` means still `running` past a wall-clock limit while
 * heartbeats keep coming — a runtime that forgot its terminal status.
 */
export const STUCK_KINDS = ['starting', 'running_silent', 'retrying', 'running_wallclock'] as const;
export type StuckKind = (typeof STUCK_KINDS)[number];
export function stuckKindFor(state: ProgressState): StuckKind {
  return state === 'running' ? 'running_silent' : state;
}

/** Default stuck thresholds in milliseconds (DESIGN §5); the collector makes them configurable. */
export const DEFAULT_STUCK_THRESHOLDS_MS: Record<ProgressState, number> = {
  starting: 90_000,
  running: 60_000,
  retrying: 120_000,
};

/** Longer than the longest seed limits (CLI tasks 900 s, StartToClose 600 s) with room for real work. */
export const DEFAULT_RUNNING_WALLCLOCK_MS = 30 * 60_000;
