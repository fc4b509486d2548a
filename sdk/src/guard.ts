/**
 * The SDK is a guest in someone else's process: internal failures are counted here and logged
 * only when debugging is on; they never reach the runtime as exceptions.
 */

export interface FaultlineStats {
  /** Spans the collector acknowledged (live exports and replays). */
  spansExported: number;
  /** Live export attempts that failed (collector down, 429/5xx after the exporter's retries). */
  exportFailures: number;
  /** Batches written to the on-disk spool since start. */
  spooledBatches: number;
  /** Bytes waiting in the spool right now. */
  spooledBytes: number;
  /** Batches waiting in the spool right now. */
  pendingBatches: number;
  /** Spans waiting in the spool right now. */
  pendingSpans: number;
  /** Spooled batches that reached the collector later. */
  replayedBatches: number;
  /** Spans given up on: evicted from a full spool, unwritable spool, rejected as undecodable. */
  droppedSpans: number;
  /** Status changes that broke the session state machine (emitted anyway). */
  illegalTransitions: number;
  /** Failures inside the SDK that were swallowed. */
  internalErrors: number;
  /** True from a failed export until a replay empties the spool again. */
  collectorUnreachable: boolean;
  /** Times the collector became unreachable (each said once in the debug log, not per batch). */
  outages: number;
}

export function emptyStats(): FaultlineStats {
  return {
    spansExported: 0,
    exportFailures: 0,
    spooledBatches: 0,
    spooledBytes: 0,
    pendingBatches: 0,
    pendingSpans: 0,
    replayedBatches: 0,
    droppedSpans: 0,
    illegalTransitions: 0,
    internalErrors: 0,
    collectorUnreachable: false,
    outages: 0,
  };
}

export type DebugLog = (message: string, detail?: unknown) => void;

export function createDebugLog(enabled: boolean): DebugLog {
  if (!enabled) return () => {};
  return (message, detail) => {
    try {
      if (detail === undefined) console.error(`[faultline] ${message}`);
      else console.error(`[faultline] ${message}`, detail);
    } catch {
      // a broken console must not break the runtime either
    }
  };
}

/** Shared by the parts of one Faultline instance. */
export interface Guard {
  stats: FaultlineStats;
  log: DebugLog;
}

export function internalError(guard: Guard, where: string, error: unknown): void {
  guard.stats.internalErrors++;
  guard.log(`internal error in ${where}`, error);
}
